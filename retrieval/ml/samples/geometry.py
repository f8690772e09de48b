"""Triangle meshes built from primitives: lofts, surfaces of revolution, prisms, sweeps.

Coordinates: x to the object's right, y up, z towards the viewer of the front view.
Every primitive is a closed, consistently oriented mesh (outward normals), so that the
renderer can tell silhouettes from the sign of each face's facing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FloatArray = np.ndarray
Vector = Sequence[float] | FloatArray  # a point or direction: a tuple or a (3,) array
Points = Sequence[Sequence[float]] | FloatArray  # rows of coordinates: nested tuples or an array
EPS = 1e-9


@dataclass(frozen=True)
class Mesh:
    """Indexed triangles, the part each face belongs to, and the vertex pairs that may carry
    surface shading lines."""

    vertices: FloatArray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64, counter-clockwise seen from outside
    shade_edges: np.ndarray  # (S, 2) int64 vertex pairs (meridians of curved surfaces)
    parts: np.ndarray  # (F,) int64: faces of one primitive share a part number


def merge(meshes: Sequence[Mesh]) -> Mesh:
    """One mesh holding all the given meshes (no boolean union: parts may overlap)."""
    if not meshes:
        raise ValueError("merge needs at least one mesh")
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    part_offsets = np.cumsum([0] + [int(m.parts.max()) + 1 for m in meshes[:-1]])
    pairs = list(zip(meshes, offsets, part_offsets, strict=True))
    return Mesh(
        vertices=np.concatenate([m.vertices for m in meshes]),
        faces=np.concatenate([m.faces + o for m, o, _ in pairs]),
        shade_edges=np.concatenate([m.shade_edges + o for m, o, _ in pairs]),
        parts=np.concatenate([m.parts + p for m, _, p in pairs]),
    )


def rotation(axis: str, degrees: float) -> FloatArray:
    """Right-handed rotation matrix about the x, y or z axis."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    if axis == "z":
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    raise ValueError(f"unknown axis {axis!r}")


# Rotations that turn the y axis (the axis of lathes and prisms) into x or z.
AXIS_TO = {"y": np.eye(3), "x": rotation("z", -90.0), "z": rotation("x", 90.0)}


def moved(
    mesh: Mesh,
    at: Vector = (0.0, 0.0, 0.0),
    *,
    matrix: FloatArray | None = None,
    scale: Sequence[float] | float = 1.0,
) -> Mesh:
    """The mesh scaled, then rotated by matrix, then translated to at."""
    factors = np.broadcast_to(np.asarray(scale, dtype=float), (3,))
    vertices = mesh.vertices * factors
    if matrix is not None:
        vertices = vertices @ np.asarray(matrix).T
    faces = mesh.faces if np.prod(factors) > 0 else mesh.faces[:, ::-1]
    return Mesh(vertices + np.asarray(at, dtype=float), faces, mesh.shade_edges, mesh.parts)


def along(mesh: Mesh, axis: str, at: Sequence[float] = (0.0, 0.0, 0.0)) -> Mesh:
    """A y-axis primitive turned to lie along axis and moved to at."""
    return moved(mesh, at, matrix=AXIS_TO[axis])


def _signed_volume(vertices: FloatArray, faces: np.ndarray) -> float:
    a, b, c = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    return float(np.einsum("ij,ij->", a, np.cross(b, c)) / 6.0)


def _band_faces(k: int, m: int, closed_path: bool) -> np.ndarray:
    """Two triangles per quad between consecutive rings of m points."""
    rows = k if closed_path else k - 1
    grid_i, grid_j = np.meshgrid(np.arange(rows), np.arange(m), indexing="ij")
    i, j = grid_i.ravel(), grid_j.ravel()
    i1, j1 = (i + 1) % k, (j + 1) % m
    a, b, c, d = i * m + j, i * m + j1, i1 * m + j1, i1 * m + j
    return np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])


def loft(
    rings: FloatArray,
    *,
    start: Sequence[float] | None = None,
    end: Sequence[float] | None = None,
    closed_path: bool = False,
    shade: bool | np.ndarray = False,
) -> Mesh:
    """Skin through rings (K, M, 3) of closed loops; fan caps to start and end points.

    Open paths are capped at both ends (to the ring centroid unless a point is given),
    so the result is closed and is oriented outwards by its signed volume. shade marks the
    edges between consecutive rings as shading-line candidates (all bands, or per band).
    """
    rings = np.asarray(rings, dtype=float)
    k, m = rings.shape[0], rings.shape[1]
    if m < 3 or k < 1 or (closed_path and k < 3):
        raise ValueError("loft needs rings of at least 3 points")
    vertices = [rings.reshape(-1, 3)]
    faces = [_band_faces(k, m, closed_path)] if k > 1 else []
    j = np.arange(m)
    if not closed_path:
        for index, point, ring in ((0, start, 0), (1, end, k - 1)):
            centre = rings[ring].mean(0) if point is None else np.asarray(point, dtype=float)
            c = np.full(m, k * m + index)
            rim, rim1 = ring * m + j, ring * m + (j + 1) % m
            faces.append(np.stack([c, rim1, rim], 1) if index == 0 else np.stack([c, rim, rim1], 1))
            vertices.append(centre[None])
    all_vertices = np.concatenate(vertices)
    all_faces = np.concatenate(faces).astype(np.int64)
    if _signed_volume(all_vertices, all_faces) < 0:
        all_faces = all_faces[:, ::-1]
    bands = np.arange(k if closed_path else k - 1)
    bands = bands[np.broadcast_to(np.asarray(shade, dtype=bool), bands.shape)]
    i, jj = np.meshgrid(bands, j, indexing="ij")
    shade_edges = np.stack([(i * m + jj).ravel(), (((i + 1) % k) * m + jj).ravel()], 1)
    return Mesh(all_vertices, all_faces, shade_edges, np.zeros(len(all_faces), dtype=np.int64))


def _circle(n: int) -> FloatArray:
    theta = 2 * np.pi * np.arange(n) / n
    return np.stack([np.sin(theta), np.cos(theta)], 1)


def lathe(profile: Points, *, segments: int = 48, shade: bool = True) -> Mesh:
    """Surface of revolution about the y axis of (radius, y) points, listed bottom to top.

    Ends at radius 0 become poles, other ends are closed by flat discs.
    """
    points = np.asarray(profile, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 2:
        raise ValueError("lathe profile needs at least two (radius, y) points")
    start = (0.0, points[0, 1], 0.0)
    end = (0.0, points[-1, 1], 0.0)
    ring_points = points[points[:, 0] > EPS]
    if len(ring_points) == 0:
        raise ValueError("lathe profile has no point off the axis")
    circle = _circle(segments)
    radius, height = ring_points[:, :1], ring_points[:, 1:]
    rings = np.stack([circle[:, 0] * radius, np.repeat(height, segments, 1),
                      circle[:, 1] * radius], 2)
    steps = np.diff(ring_points, axis=0)
    steep = np.abs(steps[:, 1]) > 2 * np.abs(steps[:, 0])
    span = np.ptp(points[:, 1]) + np.ptp(points[:, 0])
    long_enough = np.hypot(steps[:, 0], steps[:, 1]) > 0.03 * span
    return loft(rings, start=start, end=end, shade=steep & long_enough & shade)


def cylinder(radius: float, y0: float, y1: float, *, segments: int = 48) -> Mesh:
    """A closed cylinder along y from y0 to y1."""
    return lathe([(radius, y0), (radius, y1)], segments=segments)


def frustum(r0: float, r1: float, y0: float, y1: float, *, segments: int = 48) -> Mesh:
    """A truncated cone along y from radius r0 at y0 to r1 at y1 (r1 = 0: a cone)."""
    return lathe([(r0, y0), (r1, y1)], segments=segments)


def sphere(radius: float, *, segments: int = 32, rings: int = 14) -> Mesh:
    """A UV sphere centred at the origin."""
    phi = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)
    return lathe(np.stack([radius * np.cos(phi), radius * np.sin(phi)], 1), segments=segments,
                 shade=False)


def torus(major: float, minor: float, *, segments: int = 40, sides: int = 16) -> Mesh:
    """A ring in the x-z plane around the y axis."""
    theta = 2 * np.pi * np.arange(segments) / segments
    tube = _circle(sides)
    r = major + minor * tube[:, 0]
    rings = np.array([
        np.stack([r * np.sin(t), minor * tube[:, 1], r * np.cos(t)], 1) for t in theta
    ])
    return loft(rings, closed_path=True)


def rounded_rect(width: float, depth: float, radius: float, *, corner: int = 6) -> FloatArray:
    """Counter-clockwise (x, z) outline; radius 0 gives the four corners only."""
    hw, hd = width / 2, depth / 2
    radius = min(max(radius, 0.0), hw, hd)
    if radius <= EPS:
        return np.array([[hw, hd], [hw, -hd], [-hw, -hd], [-hw, hd]])
    out = []
    for cx, cz, a0 in ((hw, -hd, 0.0), (-hw, -hd, 90.0), (-hw, hd, 180.0), (hw, hd, 270.0)):
        ox, oz = cx - np.sign(cx) * radius, cz - np.sign(cz) * radius
        angles = np.radians(a0 + np.linspace(0.0, 90.0, corner))
        out.append(np.stack([ox + radius * np.cos(angles), oz - radius * np.sin(angles)], 1))
    return np.concatenate(out)


def superellipse(width: float, depth: float, exponent: float, *, n: int = 48) -> FloatArray:
    """(x, z) outline |x/a|^e + |z/b|^e = 1; exponent 2 is an ellipse, large is boxy."""
    theta = 2 * np.pi * np.arange(n) / n
    c, s = np.cos(theta), np.sin(theta)
    power = 2.0 / exponent
    return np.stack([width / 2 * np.sign(c) * np.abs(c) ** power,
                     -depth / 2 * np.sign(s) * np.abs(s) ** power], 1)


def polygon(sides: int, radius: float, *, phase: float = 0.0) -> FloatArray:
    """A regular polygon outline in (x, z)."""
    theta = np.radians(phase) + 2 * np.pi * np.arange(sides) / sides
    return np.stack([radius * np.cos(theta), -radius * np.sin(theta)], 1)


def prism(outline: FloatArray, y0: float, y1: float, *, bevel: float = 0.0) -> Mesh:
    """The star-shaped (x, z) outline extruded along y, with optional chamfered ends."""
    outline = np.asarray(outline, dtype=float)
    if y1 <= y0:
        raise ValueError("prism needs y1 > y0")
    centre = outline.mean(0)
    half = np.maximum(np.abs(outline - centre).max(0), EPS)
    bevel = min(max(bevel, 0.0), 0.45 * (y1 - y0), 0.45 * float(half.min()))
    inner = centre + (outline - centre) * (1 - bevel / half)
    levels = [(inner, y0), (outline, y0 + bevel), (outline, y1 - bevel), (inner, y1)]
    if bevel <= EPS:
        levels = [(outline, y0), (outline, y1)]
    rings = np.array([np.stack([o[:, 0], np.full(len(o), y), o[:, 1]], 1) for o, y in levels])
    return loft(rings, start=(centre[0], y0, centre[1]), end=(centre[0], y1, centre[1]))


def box(size: Sequence[float], at: Sequence[float] = (0.0, 0.0, 0.0), *,
        radius: float = 0.0, bevel: float = 0.0) -> Mesh:
    """A box of (width, height, depth) centred at at; vertical edges rounded by radius."""
    w, h, d = size
    return moved(prism(rounded_rect(w, d, radius), -h / 2, h / 2, bevel=bevel), at)


def sweep(path: FloatArray, section: FloatArray, normal: Sequence[float], *,
          scales: FloatArray | None = None, shade: bool = True) -> Mesh:
    """The (u, v) section swept along a planar 3-D path whose plane has the given normal."""
    path = np.asarray(path, dtype=float)
    section = np.asarray(section, dtype=float)
    binormal = np.asarray(normal, dtype=float) / np.linalg.norm(normal)
    tangent = np.gradient(path, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), EPS)
    side = np.cross(binormal, tangent)
    factor = np.ones(len(path)) if scales is None else np.asarray(scales, dtype=float)
    rings = (path[:, None, :]
             + factor[:, None, None] * (section[None, :, 0, None] * side[:, None, :]
                                        + section[None, :, 1, None] * binormal[None, None, :]))
    return loft(rings, shade=shade)


def arc_path(centre: Sequence[float], radius: Sequence[float], a0: float, a1: float,
             n: int = 24) -> FloatArray:
    """Points on an elliptic arc in the x-y plane, angles in degrees from +x."""
    angles = np.radians(np.linspace(a0, a1, n))
    cx, cy, cz = centre
    rx, ry = radius
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles), np.full(n, cz)], 1)


def ellipse_section(width: float, height: float, n: int = 16) -> FloatArray:
    """An elliptic cross-section for sweeps."""
    circle = _circle(n)
    return np.stack([circle[:, 0] * width / 2, circle[:, 1] * height / 2], 1)


def turn_y_to(direction: FloatArray) -> FloatArray:
    """Rotation taking the unit y axis onto direction (Rodrigues)."""
    d = direction / np.linalg.norm(direction)
    if d[1] < -1 + 1e-9:
        return rotation("x", 180.0)
    v = np.cross([0.0, 1.0, 0.0], d)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    turn: FloatArray = np.eye(3) + vx + vx @ vx / (1 + d[1])
    return turn


def rod(p0: Vector, p1: Vector, radius: float, *, r1: float | None = None,
        segments: int = 24) -> Mesh:
    """A cylinder (tapering to r1) from point p0 to point p1."""
    a, b = np.asarray(p0, dtype=float), np.asarray(p1, dtype=float)
    length = float(np.linalg.norm(b - a))
    if length <= EPS:
        raise ValueError("rod needs two distinct points")
    end = radius if r1 is None else r1
    return moved(frustum(radius, end, 0.0, length, segments=segments), a,
                 matrix=turn_y_to(b - a))


def extrude_z(outline_xy: FloatArray, z0: float, z1: float, *, bevel: float = 0.0) -> Mesh:
    """The star-shaped (x, y) outline extruded along z from z0 to z1."""
    outline = np.asarray(outline_xy, dtype=float) * np.array([1.0, -1.0])
    return moved(prism(outline, z0, z1, bevel=bevel), matrix=rotation("x", 90.0))
