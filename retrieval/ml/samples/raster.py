"""A vectorised scan-line z-buffer: nearest depth and triangle id per pixel."""

from __future__ import annotations

import numpy as np

_FLAT = 1e-12


def expand_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per item: the item of each expanded slot and the slot's rank within it."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - starts[owner]


def _depth_planes(tri: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (a, b, c) of z = a x + b y + c per triangle, and which are not degenerate."""
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    ok = np.abs(det) > 1e-9
    safe = np.where(ok, det, 1.0)
    dz1, dz2 = z[:, 1] - z[:, 0], z[:, 2] - z[:, 0]
    a = (dz1 * e2[:, 1] - dz2 * e1[:, 1]) / safe
    b = (dz2 * e1[:, 0] - dz1 * e2[:, 0]) / safe
    c = z[:, 0] - a * tri[:, 0, 0] - b * tri[:, 0, 1]
    return np.stack([a, b, c], 1), ok


def _row_spans(tri: np.ndarray, owner: np.ndarray, yc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leftmost and rightmost x where the row y = yc crosses each owner triangle."""
    lo = np.full(len(owner), np.inf)
    hi = np.full(len(owner), -np.inf)
    for k in range(3):
        xa, ya = tri[owner, k, 0], tri[owner, k, 1]
        xb, yb = tri[owner, (k + 1) % 3, 0], tri[owner, (k + 1) % 3, 1]
        inside = (yc >= np.minimum(ya, yb)) & (yc <= np.maximum(ya, yb))
        dy = yb - ya
        flat = np.abs(dy) < _FLAT
        x = xa + np.where(flat, 0.0, (yc - ya) / np.where(flat, 1.0, dy)) * (xb - xa)
        left = np.where(flat, np.minimum(xa, xb), x)
        right = np.where(flat, np.maximum(xa, xb), x)
        lo = np.where(inside, np.minimum(lo, left), lo)
        hi = np.where(inside, np.maximum(hi, right), hi)
    return lo, hi


def depth_buffer(xy: np.ndarray, depth: np.ndarray, faces: np.ndarray, width: int,
                 height: int) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise triangles (pixel centres at i + 0.5, y down); smaller depth is nearer.

    Returns (depth, face id) arrays of shape (height, width), inf and -1 where empty.
    """
    tri, z = xy[faces], depth[faces]
    planes, ok = _depth_planes(tri, z)
    ids = np.flatnonzero(ok)
    tri, planes = tri[ids], planes[ids]
    r0 = np.clip(np.ceil(tri[:, :, 1].min(1) - 0.5), 0, height).astype(np.int64)
    r1 = np.clip(np.floor(tri[:, :, 1].max(1) - 0.5), -1, height - 1).astype(np.int64)
    owner, rank = expand_counts(np.maximum(r1 - r0 + 1, 0))
    row = r0[owner] + rank
    lo, hi = _row_spans(tri, owner, row + 0.5)
    c0 = np.clip(np.ceil(lo - 0.5), 0, width).astype(np.int64)
    c1 = np.clip(np.floor(hi - 0.5), -1, width - 1).astype(np.int64)
    span, col_rank = expand_counts(np.maximum(c1 - c0 + 1, 0))
    tri_of = owner[span]
    rows, cols = row[span], c0[span] + col_rank
    p = planes[tri_of]
    zz = p[:, 0] * (cols + 0.5) + p[:, 1] * (rows + 0.5) + p[:, 2]
    flat_index = rows * width + cols
    zbuf = np.full(width * height, np.inf)
    np.minimum.at(zbuf, flat_index, zz)
    front = zz <= zbuf[flat_index]
    idbuf = np.full(width * height, -1, dtype=np.int64)
    idbuf[flat_index[front]] = ids[tri_of[front]]
    return zbuf.reshape(height, width), idbuf.reshape(height, width)
