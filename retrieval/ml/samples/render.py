"""Hidden-line drawings of meshes: silhouettes, creases and shading lines, black on white.

Edges are chosen per view (silhouette: one adjacent face towards the viewer and one away;
crease: dihedral angle above a threshold; shading: meridians of curved surfaces seen at a
grazing angle), sampled densely, and kept only where a z-buffer says nothing is in front.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.ml.samples.geometry import Mesh
from retrieval.ml.samples.raster import depth_buffer, expand_counts

VIEWS: tuple[str, ...] = (
    "front perspective",
    "front elevational",
    "left side elevational",
    "right side elevational",
    "rear elevational",
    "top plan",
    "bottom plan",
)
# Forward (viewing direction) and up, in object coordinates (y up, front towards +z). The
# left side view is seen from the object's own left (the viewer at -x), as in third-angle
# projection; the top view has the front at the bottom of the figure.
_ORTHOGRAPHIC: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "front elevational": ((0, 0, -1), (0, 1, 0)),
    "rear elevational": ((0, 0, 1), (0, 1, 0)),
    "left side elevational": ((1, 0, 0), (0, 1, 0)),
    "right side elevational": ((-1, 0, 0), (0, 1, 0)),
    "top plan": ((0, -1, 0), (0, 0, -1)),
    "bottom plan": ((0, 1, 0), (0, 0, 1)),
}
CREASE_DEGREES = 35.0
SHADE_BAND = (0.06, 0.42)  # |cos| between face normal and view for shading lines
MIN_SHADE_PIXELS = 3.0
JUNCTION_PIXELS = 4.0  # depth step (in pixels) below which two parts are seen to meet
MAX_SHADE_TILT = 0.45  # |cos| between a shading edge and the viewing direction


@dataclass(frozen=True)
class EdgeTable:
    """View-independent edge data of a mesh."""

    pairs: np.ndarray  # (E, 2) vertex ids
    faces: np.ndarray  # (E, 2) adjacent face ids, -1 for a boundary
    crease: np.ndarray  # (E,) bool
    shade: np.ndarray  # (E,) bool: shading-line candidates on curved surfaces
    normals: np.ndarray  # (F, 3) unit face normals


@dataclass(frozen=True)
class Style:
    """Line weights (radius in supersampled pixels) and whether to draw shading lines."""

    outline: float = 1.6
    detail: float = 1.1
    shading: bool = True


def view_basis(view: str, *, azimuth: float = 35.0, elevation: float = 25.0) -> np.ndarray:
    """Rows right, up, forward for a named view.

    The perspective view is a parallel (axonometric) view from in front, above and to one
    side: azimuth turns the eye about the vertical, elevation lifts it, both in degrees.
    """
    if view == "front perspective":
        a, e = np.radians(azimuth), np.radians(elevation)
        eye = np.array([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)])
        forward = -eye
        up = np.array([0.0, 1.0, 0.0]) - forward[1] * forward
    elif view in _ORTHOGRAPHIC:
        forward, up = (np.asarray(v, dtype=float) for v in _ORTHOGRAPHIC[view])
    else:
        raise ValueError(f"unknown view {view!r}; expected one of {VIEWS}")
    up = up / np.linalg.norm(up)
    return np.stack([np.cross(forward, up), up, forward])


def _face_normals(mesh: Mesh) -> np.ndarray:
    v = mesh.vertices[mesh.faces]
    n = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return np.where(length > 1e-15, n / np.maximum(length, 1e-15), 0.0)


def edge_table(mesh: Mesh) -> EdgeTable:
    """Unique edges with their two faces, crease flags and shading candidates."""
    f = mesh.faces
    pairs = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    owner = np.tile(np.arange(len(f)), 3)
    n_vertices = len(mesh.vertices)
    keys = pairs[:, 0] * n_vertices + pairs[:, 1]
    order = np.argsort(keys, kind="stable")
    keys, owner, pairs = keys[order], owner[order], pairs[order]
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    second = np.minimum(first + 1, len(keys) - 1)
    has_second = (second > first) & (keys[second] == keys[first])
    faces = np.stack([owner[first], np.where(has_second, owner[second], -1)], 1)
    normals = _face_normals(mesh)
    cos = np.einsum("ij,ij->i", normals[faces[:, 0]], normals[faces[:, 1]])
    cos = np.where(has_second, cos, 1.0)
    shade_keys = np.sort(mesh.shade_edges, axis=1) @ np.array([n_vertices, 1])
    shade = np.isin(keys[first], shade_keys) & has_second & (cos < np.cos(np.radians(2.0)))
    crease = has_second & (cos < np.cos(np.radians(CREASE_DEGREES)))
    return EdgeTable(pairs[first], faces, crease, shade, normals)


def _select_edges(table: EdgeTable, forward: np.ndarray, screen_length: np.ndarray,
                  along_view: np.ndarray, style: Style) -> tuple[np.ndarray, np.ndarray]:
    """Indices of edges to draw in this view, and whether each is an outline.

    Shading lines go only on curved surfaces seen at a grazing angle, along edges that lie
    nearly flat in the picture plane (as draughtsmen shade cylinders near their outline).
    """
    facing = table.normals @ -forward
    f0 = facing[table.faces[:, 0]]
    boundary = table.faces[:, 1] < 0
    f1 = np.where(boundary, -1.0, facing[table.faces[:, 1]])
    front0, front1 = f0 > 1e-9, f1 > 1e-9
    outline = boundary | (front0 != front1)
    crease = table.crease & (front0 | front1)
    chosen = outline | crease
    if style.shading:
        lo, hi = SHADE_BAND
        grazing = (f0 > lo) & (f0 < hi) & (f1 > lo) & (f1 < hi)
        flat = (screen_length > MIN_SHADE_PIXELS) & (along_view < MAX_SHADE_TILT)
        chosen |= table.shade & grazing & flat
    index = np.flatnonzero(chosen)
    return index, outline[index]


def _visible(px: np.ndarray, depth: np.ndarray, faces: np.ndarray, outline: np.ndarray,
             zbuf: np.ndarray, idbuf: np.ndarray, bias: float) -> np.ndarray:
    """Depth test of edge samples against the z-buffer.

    A sample is visible if nothing is in front of it at its pixel, or if one of its own
    faces is visible within one pixel; outline samples also pass when a neighbouring pixel
    shows something behind them (the far side of a silhouette).
    """
    h, w = zbuf.shape
    zpad = np.pad(zbuf, 1, constant_values=np.inf)
    ipad = np.pad(idbuf, 1, constant_values=-1)
    ix = np.clip(np.floor(px[:, 0]).astype(np.int64), -1, w) + 1
    iy = np.clip(np.floor(px[:, 1]).astype(np.int64), -1, h) + 1
    visible = zpad[iy, ix] >= depth - bias
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            y, x = np.clip(iy + dy, 0, h + 1), np.clip(ix + dx, 0, w + 1)
            owner = ipad[y, x]
            visible |= (owner == faces[:, 0]) | (owner == faces[:, 1])
            visible |= outline & (zpad[y, x] >= depth - bias)
    seen: np.ndarray = visible
    return seen


def _junction_points(zbuf: np.ndarray, idbuf: np.ndarray, parts: np.ndarray,
                     tolerance: float) -> np.ndarray:
    """Points between neighbouring pixels that show different parts at nearly equal depth.

    These are the curves where one part runs into another (a handle into a body): they are
    not edges of either mesh, so the edge lists miss them.
    """
    part = np.where(idbuf >= 0, parts[np.maximum(idbuf, 0)], -1)
    zbuf = np.where(idbuf >= 0, zbuf, 0.0)
    found = []
    for axis in (0, 1):
        a, b = (part[:-1], part[1:]) if axis == 0 else (part[:, :-1], part[:, 1:])
        za, zb = (zbuf[:-1], zbuf[1:]) if axis == 0 else (zbuf[:, :-1], zbuf[:, 1:])
        hit = (a >= 0) & (b >= 0) & (a != b) & (np.abs(za - zb) < tolerance)
        ys, xs = np.nonzero(hit)
        offset = (0.5, 1.0) if axis == 0 else (1.0, 0.5)
        found.append(np.stack([xs + offset[0], ys + offset[1]], 1))
    return np.concatenate(found).astype(float)


def _thicken(mask: np.ndarray, radius: float) -> np.ndarray:
    """Dilate a boolean image by a disc of the given radius."""
    r = int(np.ceil(radius))
    h, w = mask.shape
    padded = np.pad(mask, r)
    out = np.zeros_like(mask)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dx * dx + dy * dy <= radius * radius:
                out |= padded[r + dy:r + dy + h, r + dx:r + dx + w]
    return out


@dataclass(frozen=True)
class Frame:
    """Where a view lands on the canvas: pixels per unit and the pixel of the view origin."""

    scale: float
    origin_x: float
    origin_y: float
    width: int
    height: int


def projected_bounds(mesh: Mesh, basis: np.ndarray) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of the mesh in view coordinates (y up)."""
    cam = mesh.vertices @ basis[:2].T
    (x0, y0), (x1, y1) = cam.min(0), cam.max(0)
    return float(x0), float(y0), float(x1), float(y1)


def _edge_samples(a: np.ndarray, b: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Owner edge and parameter t of samples spaced at most step apart along each edge."""
    counts = np.ceil(np.linalg.norm(b - a, axis=1) / step).astype(np.int64) + 1
    owner, rank = expand_counts(counts)
    return owner, rank / np.maximum(counts[owner] - 1, 1)


def _splat(points: np.ndarray, shape: tuple[int, int], radius: float) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    ix, iy = np.floor(points[:, 0]).astype(np.int64), np.floor(points[:, 1]).astype(np.int64)
    keep = (ix >= 0) & (iy >= 0) & (ix < shape[1]) & (iy < shape[0])
    mask[iy[keep], ix[keep]] = True
    return _thicken(mask, radius)


def draw_view(mesh: Mesh, table: EdgeTable, basis: np.ndarray, frame: Frame,
              style: Style = Style()) -> np.ndarray:
    """Ink coverage in [0, 1] of shape (height, width) for the hidden-line view."""
    cam = mesh.vertices @ basis.T
    px = np.stack([frame.origin_x + cam[:, 0] * frame.scale,
                   frame.origin_y - cam[:, 1] * frame.scale], 1)
    depth = cam[:, 2]
    zbuf, idbuf = depth_buffer(px, depth, mesh.faces, frame.width, frame.height)
    ends = px[table.pairs]
    screen_length = np.linalg.norm(ends[:, 1] - ends[:, 0], axis=1)
    step = mesh.vertices[table.pairs[:, 1]] - mesh.vertices[table.pairs[:, 0]]
    along_view = np.abs(step @ basis[2]) / np.maximum(np.linalg.norm(step, axis=1), 1e-12)
    index, outline = _select_edges(table, basis[2], screen_length, along_view, style)
    pairs = table.pairs[index]
    owner, t = _edge_samples(px[pairs[:, 0]], px[pairs[:, 1]], step=0.3)
    a, b = pairs[owner, 0], pairs[owner, 1]
    points = px[a] + t[:, None] * (px[b] - px[a])
    depths = depth[a] + t * (depth[b] - depth[a])
    bias = 1.5 / frame.scale
    visible = _visible(points, depths, table.faces[index][owner], outline[owner], zbuf, idbuf,
                       bias)
    heavy = visible & outline[owner]
    shape = (2 * frame.height, 2 * frame.width)
    ink = _splat(2 * points[heavy], shape, style.outline)
    ink |= _splat(2 * points[visible & ~heavy], shape, style.detail)
    junctions = _junction_points(zbuf, idbuf, mesh.parts, JUNCTION_PIXELS / frame.scale)
    ink |= _splat(2 * junctions, shape, style.detail)
    coverage: np.ndarray = ink.reshape(frame.height, 2, frame.width, 2).mean(axis=(1, 3))
    return coverage
