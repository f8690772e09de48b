"""Exact (brute-force) top-k search by inner product: offline evaluation, and the oracle that
approximate search (the pgvector HNSW index) is tested against."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Scores computed at once (queries per chunk x gallery size): 2**24 float32 = 64 MiB.
DEFAULT_MAX_CHUNK_SCORES = 1 << 24


def exact_top_k(
    queries: ArrayLike,
    gallery: ArrayLike,
    k: int,
    *,
    exclude_self: bool = False,
    max_chunk_scores: int = DEFAULT_MAX_CHUNK_SCORES,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The ``k`` gallery rows with the largest inner product with each query.

    On unit vectors the inner product is the cosine similarity. Ties are broken by the
    smaller gallery index, so results are deterministic. Queries are processed in chunks so
    that at most ``max_chunk_scores`` scores are held at once.

    Args:
        queries: ``(Q, D)`` array (computed in float32).
        gallery: ``(N, D)`` array (computed in float32).
        k: results per query, ``1 <= k <= N`` (``N - 1`` with ``exclude_self``).
        exclude_self: the queries are the gallery rows in the same order (``Q == N``); query
            ``i`` never returns gallery row ``i``.
        max_chunk_scores: memory bound, in scores, for one chunk of queries.

    Returns:
        ``(indices, scores)``: ``(Q, k)`` int64 gallery row indices and ``(Q, k)`` float32
        inner products, best first.

    Raises:
        ValueError: wrong shapes, dimensions that differ, ``k`` out of range, non-finite
            values, or ``exclude_self`` with ``Q != N``.
    """
    q, g = _as_matrix("queries", queries), _as_matrix("gallery", gallery)
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"queries have dimension {q.shape[1]} but gallery {g.shape[1]}")
    if exclude_self and q.shape[0] != g.shape[0]:
        raise ValueError(
            f"exclude_self needs as many queries as gallery rows ({q.shape[0]} != {g.shape[0]})"
        )
    available = g.shape[0] - (1 if exclude_self else 0)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= available:
        raise ValueError(f"k must be an int in 1..{available}, got {k!r}")
    if max_chunk_scores < 1:
        raise ValueError(f"max_chunk_scores must be >= 1, got {max_chunk_scores}")
    k = int(k)
    indices = np.empty((q.shape[0], k), dtype=np.int64)
    scores = np.empty((q.shape[0], k), dtype=np.float32)
    rows_per_chunk = max(1, max_chunk_scores // max(1, g.shape[0]))
    for start in range(0, q.shape[0], rows_per_chunk):
        stop = min(start + rows_per_chunk, q.shape[0])
        chunk_scores = q[start:stop] @ g.T
        if exclude_self:
            rows = np.arange(stop - start)
            chunk_scores[rows, rows + start] = -np.inf
        indices[start:stop], scores[start:stop] = _top_k_rows(chunk_scores, k)
    return indices, scores


def _top_k_rows(
    scores: NDArray[np.float32], k: int
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Top ``k`` of each row, sorted by score descending then index ascending."""
    rows = np.arange(scores.shape[0])[:, None]
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.lexsort((part, -scores[rows, part]), axis=1)
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    if k < scores.shape[1]:
        # argpartition picks arbitrarily among values tied with the k-th best; redo those rows
        # so that the smaller index always wins a tie.
        kth = scores[rows[:, 0], idx[:, -1]][:, None]
        for row in np.flatnonzero((scores >= kth).sum(axis=1) > k):
            cand = np.flatnonzero(scores[row] >= kth[row, 0])
            idx[row] = cand[np.lexsort((cand, -scores[row, cand]))[:k]]
    return idx, scores[rows, idx].astype(np.float32)


def _as_matrix(name: str, values: ArrayLike) -> NDArray[np.float32]:
    matrix = np.asarray(values, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise ValueError(
            f"{name} must be a 2-D array (rows, dim) with dim > 0, got shape {matrix.shape}"
        )
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} holds non-finite values")
    return matrix
