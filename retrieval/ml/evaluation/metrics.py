"""Retrieval metrics of query-by-example over one corpus (numpy only).

Every image with a label is a query against all the other images of the corpus (never
itself). A gallery image is *relevant* to a query when it has the query's label. With
``groups`` (patent ids) and ``exclude_same_group``, the other images of the query's own
group are removed from its gallery: neither relevant nor counted in any rank. A query without
a label, or with no relevant image left in its gallery, is skipped and counted.

Ranking: gallery images sorted by inner product with the query, descending; ties are broken
by the smaller gallery index, so every number is deterministic.

Definitions (``n_rel`` = relevant images in the query's gallery, ranks start at 1):

- AP: mean over the relevant images of the precision at their rank, over the full ranking.
- ``recall@K`` (hit rate): 1 when at least one relevant image is in the top K, else 0.
- ``recall_fraction@K``: relevant images in the top K divided by ``min(K, n_rel)``, so a
  perfect ranking scores 1.0 at every K even when ``n_rel < K``.
- ``mrr@K``: 1 / rank of the first relevant image when that rank is <= K, else 0.
- ``pr_curve``: the 11-point interpolated precision-recall curve: at each recall level r in
  0, 0.1, ..., 1, the highest precision at any rank whose recall is >= r (0 when the ranking
  never reaches r), averaged over the queries.

Each is averaged over the evaluated (not skipped) queries. Scores are computed in blocks of
queries so that a 20,000 x 20,000 corpus never holds its full similarity matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

KS: tuple[int, ...] = (1, 5, 10, 20)
BANDS: tuple[str, ...] = ("head", "middle", "tail")
#: Recall levels of the interpolated precision-recall curve: 0, 0.1, ..., 1 (the 11 points of TREC).
RECALL_LEVELS: tuple[float, ...] = tuple(i / 10 for i in range(11))
#: Scores (query rows x gallery size) held at once per block: 2**22 float32 = 16 MiB, and a
#: few int arrays of the same shape beside them.
DEFAULT_BLOCK_SCORES = 1 << 22


@dataclass(frozen=True, slots=True)
class QueryResults:
    """Per-query numbers of the evaluated (not skipped) queries.

    Attributes:
        query_index: ``(Q,)`` int64 corpus row of each evaluated query.
        average_precision: ``(Q,)`` float64 AP over the full ranking.
        first_rank: ``(Q,)`` int64 rank (1-based) of the first relevant gallery image.
        hits: ``(Q, len(ks))`` int64 relevant images within the top K, for each K of ``ks``.
        n_relevant: ``(Q,)`` int64 relevant images in the gallery.
        ks: the cut-offs of ``hits``.
        skipped_no_label: queries skipped because they have no label.
        skipped_no_relevant: queries skipped because nothing in their gallery is relevant.
        interpolated_precision: ``(Q, len(RECALL_LEVELS))`` float64 interpolated precision of
            each query at each recall level (see the module docstring).
    """

    query_index: NDArray[np.int64]
    average_precision: NDArray[np.float64]
    first_rank: NDArray[np.int64]
    hits: NDArray[np.int64]
    n_relevant: NDArray[np.int64]
    ks: tuple[int, ...]
    skipped_no_label: int
    skipped_no_relevant: int
    interpolated_precision: NDArray[np.float64]

    @property
    def skipped(self) -> int:
        """All skipped queries."""
        return self.skipped_no_label + self.skipped_no_relevant


def query_results(
    embeddings: ArrayLike,
    labels: Sequence[str],
    *,
    groups: Sequence[str] | None = None,
    exclude_same_group: bool = False,
    ks: Sequence[int] = KS,
    block_scores: int = DEFAULT_BLOCK_SCORES,
) -> QueryResults:
    """Rank the corpus against each of its labelled images and measure each query.

    Args:
        embeddings: ``(N, D)`` vectors (unit rows: inner product = cosine), computed in float32.
        labels: ``N`` labels; ``""`` means the image has none (never a query, never relevant).
        groups: ``N`` group ids (patent ids), needed with ``exclude_same_group``.
        exclude_same_group: drop the query's own group from its gallery.
        ks: cut-offs for ``hits``, each >= 1.
        block_scores: memory bound, in scores, of one block of queries.

    Returns:
        The per-query numbers (see :class:`QueryResults`).

    Raises:
        ValueError: shapes or lengths that do not match, non-finite values, bad ``ks``, or
            ``exclude_same_group`` without ``groups``.
    """
    vectors = _as_matrix(embeddings)
    label_ids = _codes(labels, "labels", vectors.shape[0])
    group_ids = _group_codes(groups, exclude_same_group, vectors.shape[0])
    cutoffs = _check_ks(ks)
    queries = np.flatnonzero(label_ids >= 0)
    rows_per_block = max(1, block_scores // max(1, vectors.shape[0]))
    parts = [
        _block(vectors, label_ids, group_ids, queries[start : start + rows_per_block], cutoffs)
        for start in range(0, queries.size, rows_per_block)
    ]
    return _collect(parts, queries, cutoffs, skipped_no_label=vectors.shape[0] - queries.size)


def _block(
    vectors: NDArray[np.float32],
    label_ids: NDArray[np.int64],
    group_ids: NDArray[np.int64] | None,
    queries: NDArray[np.int64],
    ks: tuple[int, ...],
) -> tuple[
    NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]
]:
    """AP, first relevant rank, hits@K, n_relevant and interpolated precision of one block of queries."""
    scores = vectors[queries] @ vectors.T
    # A stable sort of the negated scores keeps equal scores in gallery index order.
    order = np.argsort(-scores, axis=1, kind="stable")
    valid = np.ones(scores.shape, dtype=bool)
    valid[np.arange(queries.size), queries] = False
    if group_ids is not None:
        valid &= group_ids[None, :] != group_ids[queries][:, None]
    relevant = (label_ids[None, :] == label_ids[queries][:, None]) & valid
    valid_sorted = np.take_along_axis(valid, order, axis=1)
    relevant_sorted = np.take_along_axis(relevant, order, axis=1)
    rank = np.cumsum(valid_sorted, axis=1, dtype=np.int32)  # rank among the valid images
    found = np.cumsum(relevant_sorted, axis=1, dtype=np.int32)
    n_relevant = found[:, -1] if found.shape[1] else np.zeros(queries.size, dtype=np.int64)
    precision = np.where(relevant_sorted, found / np.maximum(rank, 1), 0.0)
    ap = precision.sum(axis=1) / np.maximum(n_relevant, 1)
    big = np.iinfo(np.int32).max
    first_rank = np.where(relevant_sorted, rank, big).min(axis=1, initial=big)
    hits = np.stack([(relevant_sorted & (rank <= k)).sum(axis=1) for k in ks], axis=1)
    curve = _interpolated_precision(relevant_sorted, found, precision, n_relevant.astype(np.int64))
    return ap, first_rank, hits.astype(np.int64), n_relevant.astype(np.int64), curve


def _interpolated_precision(
    relevant_sorted: NDArray[np.bool_], found: NDArray[np.int32], precision: NDArray[np.float64],
    n_relevant: NDArray[np.int64],
) -> NDArray[np.float64]:
    """``(Q, len(RECALL_LEVELS))``: per query and recall level r, the best precision at a
    relevant rank whose recall (found / n_relevant) is >= r; integer comparisons, so recall
    0.3 of 10 relevant is reached at exactly the third."""
    steps = len(RECALL_LEVELS) - 1
    n = np.asarray(n_relevant, dtype=np.int64)[:, None]
    columns = [
        np.where(relevant_sorted & (found.astype(np.int64) * steps >= level * n), precision, 0.0).max(
            axis=1, initial=0.0
        )
        for level in range(steps + 1)
    ]
    return np.stack(columns, axis=1).astype(np.float64)


def _collect(
    parts: list[
        tuple[
            NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64],
            NDArray[np.float64],
        ]
    ],
    queries: NDArray[np.int64],
    ks: tuple[int, ...],
    *,
    skipped_no_label: int,
) -> QueryResults:
    if parts:
        ap, first, hits, n_rel, curve = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    else:
        ap, first = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
        hits, n_rel = np.zeros((0, len(ks)), dtype=np.int64), np.zeros(0, dtype=np.int64)
        curve = np.zeros((0, len(RECALL_LEVELS)), dtype=np.float64)
    keep = n_rel > 0
    return QueryResults(
        query_index=queries[keep].astype(np.int64),
        average_precision=ap[keep].astype(np.float64),
        first_rank=first[keep].astype(np.int64),
        hits=hits[keep],
        n_relevant=n_rel[keep],
        ks=ks,
        skipped_no_label=int(skipped_no_label),
        skipped_no_relevant=int((~keep).sum()),
        interpolated_precision=curve[keep].astype(np.float64),
    )


def summarise(results: QueryResults, rows: NDArray[np.bool_] | None = None) -> dict[str, float]:
    """Average the per-query numbers into the report's metric keys.

    Args:
        results: per-query numbers.
        rows: ``(Q,)`` mask selecting some evaluated queries (a band); all when ``None``.

    Returns:
        ``{"mAP", "recall@K", "recall_fraction@K", "mrr@K" for K in results.ks, "queries"}``;
        every metric is 0.0 when no query is selected.
    """
    pick = np.ones(results.n_relevant.shape, dtype=bool) if rows is None else rows
    n = int(pick.sum())
    out: dict[str, float] = {"mAP": _mean(results.average_precision[pick])}
    for column, k in enumerate(results.ks):
        hits = results.hits[pick, column]
        first = results.first_rank[pick]
        out[f"recall@{k}"] = _mean((hits > 0).astype(np.float64))
        out[f"recall_fraction@{k}"] = _mean(hits / np.minimum(k, results.n_relevant[pick]))
        out[f"mrr@{k}"] = _mean(np.where(first <= k, 1.0 / np.maximum(first, 1), 0.0))
    out["queries"] = n
    return out


def pr_curve(results: QueryResults) -> dict[str, list[float]]:
    """The mean interpolated precision-recall curve of the evaluated queries:
    ``{"recall": RECALL_LEVELS, "precision": [...]}`` (precision 0.0 everywhere without queries)."""
    curve = results.interpolated_precision
    precision = curve.mean(axis=0) if curve.shape[0] else np.zeros(len(RECALL_LEVELS))
    return {"recall": list(RECALL_LEVELS), "precision": [round(float(p), 6) for p in precision]}


def frequency_bands(band_labels: Sequence[str]) -> dict[str, list[str]]:
    """Split classes into head, middle and tail by how many queries they have.

    Classes are ranked by query count, most first (ties: class name ascending), and walked in
    that order counting queries. A class goes to ``head`` when the queries counted before it
    are fewer than a third of all, to ``middle`` when fewer than two thirds, else to ``tail``.
    So head holds the most frequent classes covering (at least) the first third of the
    queries; one very large class can make head hold more than a third. The empty label is
    no class.

    Args:
        band_labels: the class of each query (one entry per query).

    Returns:
        ``{"head": [...], "middle": [...], "tail": [...]}`` class names in rank order.
    """
    names, counts = np.unique([b for b in band_labels if b], return_counts=True)
    order = sorted(range(names.size), key=lambda i: (-int(counts[i]), str(names[i])))
    total = int(counts.sum())
    bands: dict[str, list[str]] = {band: [] for band in BANDS}
    before = 0
    for i in order:
        # Integer comparisons: "before < total / 3" without rounding at the boundaries.
        band = "head" if 3 * before < total else "middle" if 3 * before < 2 * total else "tail"
        bands[band].append(str(names[i]))
        before += int(counts[i])
    return bands


def retrieval_metrics(
    results: QueryResults, band_labels: Sequence[str] | None = None
) -> dict[str, object]:
    """The full report of one evaluation: overall metrics, skipped counts and bands.

    Args:
        results: per-query numbers from :func:`query_results`.
        band_labels: the class of every corpus image (``N`` entries) used for the frequency
            bands, e.g. the relevance label itself for class-level relevance, or the US main
            class for patent relevance. ``None``: no bands.

    Returns:
        The keys of :func:`summarise` (``queries`` = evaluated queries) plus ``skipped``,
        ``skipped_no_label``, ``skipped_no_relevant``, ``pr_curve`` (:func:`pr_curve`) and
        ``bands``: per band, the metrics of its queries plus ``classes`` (how many classes it
        holds). Queries whose band label is empty belong to no band.
    """
    report: dict[str, object] = dict(summarise(results))
    report["pr_curve"] = pr_curve(results)
    report["skipped"] = results.skipped
    report["skipped_no_label"] = results.skipped_no_label
    report["skipped_no_relevant"] = results.skipped_no_relevant
    report["bands"] = {} if band_labels is None else band_metrics(results, band_labels)
    return report


def group_weighted_map(results: QueryResults, group_labels: Sequence[str]) -> float:
    """mAP with each group of queries weighing once: the mean over groups of the mean AP of
    their queries (e.g. groups = patents, when each of a patent's drawings is a query and a
    reference asks once per patent). NaN without queries.

    Args:
        results: per-query numbers.
        group_labels: the group of every corpus row (``N`` entries).
    """
    by_group: dict[str, list[float]] = {}
    for row, ap in zip(results.query_index, results.average_precision, strict=True):
        by_group.setdefault(group_labels[int(row)], []).append(float(ap))
    if not by_group:
        return float("nan")
    return float(np.mean([np.mean(aps) for aps in by_group.values()]))


def band_metrics(results: QueryResults, band_labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Metrics of the head, middle and tail bands (see :func:`frequency_bands`).

    Args:
        results: per-query numbers.
        band_labels: the class of every corpus image (``N`` entries).

    Returns:
        ``{band: {metric: value, ..., "classes": count}}`` for head, middle and tail.
    """
    query_classes = [band_labels[int(i)] for i in results.query_index]
    bands = frequency_bands(query_classes)
    out: dict[str, dict[str, float]] = {}
    for band in BANDS:
        members = set(bands[band])
        rows = np.array([c in members for c in query_classes], dtype=bool)
        out[band] = {**summarise(results, rows), "classes": len(members)}
    return out


def _mean(values: NDArray[np.float64]) -> float:
    return float(values.mean()) if values.size else 0.0


def _codes(values: Sequence[str], name: str, n: int) -> NDArray[np.int64]:
    """Integer code per value, -1 for the empty string."""
    if isinstance(values, str) or len(values) != n:
        raise ValueError(f"{name} must be a sequence of {n} strings (one per embedding row)")
    index: dict[str, int] = {}
    codes = [-1 if not v else index.setdefault(str(v), len(index)) for v in values]
    return np.asarray(codes, dtype=np.int64)


def _group_codes(groups: Sequence[str] | None, exclude: bool, n: int) -> NDArray[np.int64] | None:
    if not exclude:
        return None
    if groups is None:
        raise ValueError("exclude_same_group needs groups (one group id per embedding row)")
    codes = _codes(groups, "groups", n)
    # Rows without a group form no group: give each its own code so nothing is excluded.
    missing = np.flatnonzero(codes < 0)
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(missing.size)
    return codes


def _check_ks(ks: Sequence[int]) -> tuple[int, ...]:
    values = tuple(ks)
    if not values or any(
        isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in values
    ):
        raise ValueError(f"ks must be ints >= 1, got {values!r}")
    return tuple(int(k) for k in values)


def _as_matrix(values: ArrayLike) -> NDArray[np.float32]:
    matrix = np.asarray(values, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (rows, dim), got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("embeddings hold non-finite values")
    return matrix


def ranked_query_results(
    relevant: Sequence[Sequence[bool]],
    n_relevant: Sequence[int],
    query_index: Sequence[int],
    *,
    ks: Sequence[int] = KS,
    skipped_no_label: int = 0,
) -> QueryResults:
    """Per-query numbers from ranked lists a search returned (instead of from embeddings).

    The ranking of a query may be truncated (the search returns its top K): AP is then the
    truncated AP, the precision at each relevant item found divided by *all* relevant items
    of the gallery (``n_relevant``), so relevant items the search did not return count as
    misses; first_rank is past the end when none was found.

    Args:
        relevant: per query, whether each ranked item (best first) is relevant.
        n_relevant: per query, relevant items in its whole gallery (queries with 0 are skipped).
        query_index: per query, its row in the corpus (for bands).
        ks: the cut-offs.
        skipped_no_label: queries left out before because they have no label.
    """
    ks = tuple(int(k) for k in ks)
    big = np.iinfo(np.int32).max
    aps, firsts, hits, curves = [], [], [], []
    for flags, total in zip(relevant, n_relevant, strict=True):
        flags_arr = np.asarray(flags, dtype=bool)
        found = np.cumsum(flags_arr)
        ranks = np.arange(1, flags_arr.size + 1)
        aps.append(float((found / ranks)[flags_arr].sum() / max(int(total), 1)))
        firsts.append(int(ranks[flags_arr][0]) if flags_arr.any() else big)
        hits.append([int(flags_arr[:k].sum()) for k in ks])
        precision = np.where(flags_arr, found / np.maximum(ranks, 1), 0.0)
        curves.append(_interpolated_precision(
            flags_arr[None, :], found[None, :].astype(np.int32), precision[None, :],
            np.asarray([int(total)]),
        )[0])
    part = (
        np.asarray(aps, dtype=np.float64), np.asarray(firsts, dtype=np.int64),
        np.asarray(hits, dtype=np.int64).reshape(len(aps), len(ks)),
        np.asarray(n_relevant, dtype=np.int64),
        np.asarray(curves, dtype=np.float64).reshape(len(aps), len(RECALL_LEVELS)),
    )
    return _collect([part], np.asarray(query_index, dtype=np.int64), ks, skipped_no_label=skipped_no_label)
