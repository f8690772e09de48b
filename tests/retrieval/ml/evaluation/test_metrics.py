from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from retrieval.ml.evaluation.metrics import (
    KS,
    band_metrics,
    frequency_bands,
    group_weighted_map,
    query_results,
    ranked_query_results,
    retrieval_metrics,
    summarise,
)

pytestmark = pytest.mark.ml


def _naive(
    vectors: np.ndarray,
    labels: list[str],
    groups: list[str] | None = None,
    ks: tuple[int, ...] = KS,
) -> dict[int, dict[str, object]]:
    """Reference: per query, loops over a Python-sorted gallery."""
    out: dict[int, dict[str, object]] = {}
    n = len(labels)
    for q in range(n):
        if not labels[q]:
            continue
        gallery = [j for j in range(n) if j != q and (groups is None or groups[j] != groups[q])]
        scores = {
            j: float(np.dot(vectors[q].astype(np.float32), vectors[j].astype(np.float32)))
            for j in gallery
        }
        ranked = sorted(gallery, key=lambda j: (-scores[j], j))
        relevant = [labels[j] == labels[q] for j in ranked]
        n_rel = sum(relevant)
        if n_rel == 0:
            continue
        found, precision_sum, first = 0, 0.0, None
        for rank, is_rel in enumerate(relevant, start=1):
            if is_rel:
                found += 1
                precision_sum += found / rank
                first = first or rank
        out[q] = {
            "ap": precision_sum / n_rel,
            "first": first,
            "hits": [sum(relevant[:k]) for k in ks],
            "n_rel": n_rel,
        }
    return out


def _random_case(seed: int, n: int = 60, dim: int = 4, ties: bool = False):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim))
    if ties:  # few distinct values: many equal scores
        vectors = np.round(vectors)
    labels = [str(v) if v < 5 else "" for v in rng.integers(0, 7, size=n)]
    groups = [f"p{v}" for v in rng.integers(0, 15, size=n)]
    return vectors.astype(np.float32), labels, groups


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("exclude", [False, True])
def test_per_query_numbers_match_the_naive_reference(seed: int, ties: bool, exclude: bool) -> None:
    vectors, labels, groups = _random_case(seed, ties=ties)

    results = query_results(
        vectors, labels, groups=groups, exclude_same_group=exclude, block_scores=7 * 60
    )

    expected = _naive(vectors, labels, groups if exclude else None)
    assert list(results.query_index) == sorted(expected)
    for row, q in enumerate(results.query_index):
        ref = expected[int(q)]
        assert results.average_precision[row] == pytest.approx(ref["ap"], abs=1e-12)
        assert results.first_rank[row] == ref["first"]
        assert list(results.hits[row]) == ref["hits"]
        assert results.n_relevant[row] == ref["n_rel"]


def test_average_precision_matches_sklearn_without_ties() -> None:
    vectors, labels, _ = _random_case(7, n=80, dim=16)
    results = query_results(vectors, labels)

    for row, q in enumerate(results.query_index):
        gallery = [j for j in range(len(labels)) if j != q]
        y_true = [labels[j] == labels[q] for j in gallery]
        y_score = vectors[gallery] @ vectors[q]
        assert results.average_precision[row] == pytest.approx(
            average_precision_score(y_true, y_score), abs=1e-9
        )


def test_summary_matches_the_naive_reference() -> None:
    vectors, labels, _ = _random_case(3, n=70)
    expected = _naive(vectors, labels)

    summary = summarise(query_results(vectors, labels))

    rows = list(expected.values())
    assert summary["queries"] == len(rows)
    assert summary["mAP"] == pytest.approx(np.mean([r["ap"] for r in rows]))
    for i, k in enumerate(KS):
        hit = np.mean([r["hits"][i] > 0 for r in rows])
        frac = np.mean([r["hits"][i] / min(k, r["n_rel"]) for r in rows])
        mrr = np.mean([1 / r["first"] if r["first"] <= k else 0.0 for r in rows])
        assert summary[f"recall@{k}"] == pytest.approx(hit)
        assert summary[f"recall_fraction@{k}"] == pytest.approx(frac)
        assert summary[f"mrr@{k}"] == pytest.approx(mrr)


def test_blocks_do_not_change_the_results() -> None:
    vectors, labels, groups = _random_case(5, n=50, ties=True)

    one = query_results(vectors, labels, groups=groups, exclude_same_group=True, block_scores=1)
    all_at_once = query_results(vectors, labels, groups=groups, exclude_same_group=True)

    assert np.array_equal(one.average_precision, all_at_once.average_precision)
    assert np.array_equal(one.hits, all_at_once.hits)


def test_a_perfect_ranking_scores_one_everywhere() -> None:
    # Two tight clusters far apart: every query's neighbours are its own class first.
    vectors = np.array([[1, 0.01], [1, 0.02], [1, 0.03], [-1, 0.01], [-1, 0.02]], np.float32)
    labels = ["a", "a", "a", "b", "b"]

    report = retrieval_metrics(query_results(vectors, labels))

    assert report["queries"] == 5 and report["skipped"] == 0
    for key in ("mAP", *(f"{m}@{k}" for m in ("recall", "recall_fraction", "mrr") for k in KS)):
        assert report[key] == pytest.approx(1.0), key


def _fan(degrees: list[float]) -> np.ndarray:
    return np.array([[math.cos(math.radians(d)), math.sin(math.radians(d))] for d in degrees])


def test_a_known_ranking_gives_known_numbers() -> None:
    # Query 0 sees: 1 (b), 2 (a), 3 (b), 4 (a): relevant at ranks 2 and 4.
    vectors = _fan([0, 10, 20, 30, 40])
    labels = ["a", "b", "a", "b", "a"]

    results = query_results(vectors, labels, ks=(1, 2, 3, 5))
    row = list(results.query_index).index(0)

    assert results.average_precision[row] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert results.first_rank[row] == 2
    assert list(results.hits[row]) == [0, 1, 1, 2]
    only_query_0 = results.query_index == 0
    summary = summarise(results, only_query_0)
    assert summary["recall@1"] == 0.0 and summary["recall@2"] == 1.0
    assert summary["recall_fraction@2"] == pytest.approx(1 / 2)
    assert summary["recall_fraction@5"] == pytest.approx(1.0)
    assert summary["mrr@1"] == 0.0 and summary["mrr@5"] == pytest.approx(0.5)


def test_ties_are_broken_by_the_smaller_gallery_index() -> None:
    # Gallery rows 1 and 2 are the same vector; 1 is irrelevant, so it ranks first.
    vectors = np.array([[1, 0], [0, 1], [0, 1]], np.float32)
    labels = ["a", "b", "a"]

    results = query_results(vectors, labels)

    row = list(results.query_index).index(0)
    assert results.first_rank[row] == 2
    assert results.average_precision[row] == pytest.approx(0.5)


def test_same_group_images_leave_the_gallery() -> None:
    # Query 0's nearest image (1) is of its own patent: excluded, the next one ranks first.
    vectors = _fan([0, 5, 10, 20])
    labels = ["x", "x", "y", "x"]
    groups = ["p1", "p1", "p2", "p3"]

    results = query_results(vectors, labels, groups=groups, exclude_same_group=True)

    row = list(results.query_index).index(0)
    assert results.n_relevant[row] == 1
    assert results.first_rank[row] == 2  # after image 2, the only other candidate
    assert results.average_precision[row] == pytest.approx(0.5)


def test_unlabelled_queries_and_queries_without_relevant_images_are_skipped() -> None:
    vectors = _fan([0, 10, 20, 30])
    labels = ["a", "a", "", "lonely"]

    report = retrieval_metrics(query_results(vectors, labels))

    assert report["queries"] == 2
    assert report["skipped_no_label"] == 1 and report["skipped_no_relevant"] == 1
    assert report["skipped"] == 2


def test_frequency_bands_split_the_queries_in_thirds_by_class_rank() -> None:
    labels = ["A"] * 6 + ["B"] * 3 + ["C"] * 2 + ["D"] + [""]

    assert frequency_bands(labels) == {"head": ["A"], "middle": ["B"], "tail": ["C", "D"]}
    even = ["b"] * 4 + ["a"] * 4 + ["c"] * 4
    assert frequency_bands(even) == {"head": ["a"], "middle": ["b"], "tail": ["c"]}


def test_band_metrics_average_the_queries_of_each_band() -> None:
    vectors, labels, _ = _random_case(11, n=60)
    results = query_results(vectors, labels)

    bands = band_metrics(results, labels)

    assert sum(b["queries"] for b in bands.values()) == results.query_index.size
    assert sum(b["classes"] for b in bands.values()) == len(
        {labels[int(q)] for q in results.query_index}
    )
    overall = summarise(results)["mAP"]
    weighted = sum(b["mAP"] * b["queries"] for b in bands.values()) / results.query_index.size
    assert weighted == pytest.approx(overall)


def test_bad_arguments_raise_value_error() -> None:
    vectors = np.eye(3, dtype=np.float32)
    with pytest.raises(ValueError, match="labels"):
        query_results(vectors, ["a", "b"])
    with pytest.raises(ValueError, match="groups"):
        query_results(vectors, ["a", "b", "a"], exclude_same_group=True)
    with pytest.raises(ValueError, match="ks"):
        query_results(vectors, ["a", "b", "a"], ks=(0,))
    with pytest.raises(ValueError, match="non-finite"):
        query_results(np.full((3, 2), np.nan), ["a", "b", "a"])


def _naive_interpolated(relevant: list[bool], n_rel: int) -> list[float]:
    """Reference 11-point curve: for each level, max precision over ranks with recall >= level."""
    points, found = [], 0
    for rank, is_rel in enumerate(relevant, start=1):
        found += is_rel
        points.append((found / n_rel, found / rank))
    return [
        max([p for r, p in points if r >= level - 1e-12] or [0.0])
        for level in [i / 10 for i in range(11)]
    ]


@pytest.mark.parametrize("exclude", [False, True])
def test_interpolated_precision_matches_the_naive_reference(exclude: bool) -> None:
    vectors, labels, groups = _random_case(11, n=60, ties=True)

    results = query_results(vectors, labels, groups=groups, exclude_same_group=exclude, block_scores=90)

    n = len(labels)
    for row, q in enumerate(results.query_index):
        gallery = [j for j in range(n) if j != q and (not exclude or groups[j] != groups[q])]
        scores = {j: float(vectors[q] @ vectors[j]) for j in gallery}
        ranked = sorted(gallery, key=lambda j: (-scores[j], j))
        relevant = [labels[j] == labels[q] for j in ranked]
        expected = _naive_interpolated(relevant, sum(relevant))
        assert results.interpolated_precision[row] == pytest.approx(expected, abs=1e-9)


def test_a_known_ranking_gives_a_known_precision_recall_curve() -> None:
    # Query 0 sees: 1 (b), 2 (a), 3 (b), 4 (a): precision 1/2 at recall 0.5, 2/4 at recall 1.
    vectors = _fan([0, 10, 20, 30, 40])
    labels = ["a", "b", "a", "b", "a"]

    results = query_results(vectors, labels)
    row = list(results.query_index).index(0)

    assert list(results.interpolated_precision[row]) == pytest.approx([0.5] * 11)
    report = retrieval_metrics(results)
    assert report["pr_curve"]["recall"] == pytest.approx([i / 10 for i in range(11)])
    assert report["pr_curve"]["precision"] == pytest.approx(
        list(results.interpolated_precision.mean(axis=0)), abs=1e-6
    )


def test_a_truncated_ranking_scores_zero_precision_past_the_recall_it_reached() -> None:
    # 4 relevant in the gallery, the search returned 3 items: relevant, not, relevant.
    results = ranked_query_results([[True, False, True]], [4], [0])

    # recall 0.25 at rank 1 (precision 1), 0.5 at rank 3 (2/3); never above 0.5.
    expected = [1.0, 1.0, 1.0, 2 / 3, 2 / 3, 2 / 3, 0, 0, 0, 0, 0]
    assert list(results.interpolated_precision[0]) == pytest.approx(expected)


def test_ranked_lists_and_embeddings_give_the_same_curve() -> None:
    vectors, labels, _ = _random_case(4, n=40)
    from_vectors = query_results(vectors, labels)

    relevant, n_relevant = [], []
    for q in from_vectors.query_index:
        gallery = [j for j in range(len(labels)) if j != q]
        ranked = sorted(gallery, key=lambda j: (-float(vectors[q] @ vectors[j]), j))
        flags = [labels[j] == labels[q] for j in ranked]
        relevant.append(flags)
        n_relevant.append(sum(flags))
    from_lists = ranked_query_results(relevant, n_relevant, list(from_vectors.query_index))

    assert from_lists.interpolated_precision == pytest.approx(from_vectors.interpolated_precision)


def test_group_weighted_map_weighs_each_group_once() -> None:
    # Rows 0-2 are patent A's drawings (APs 1, 1, 0.5), row 3 patent B's (AP 0); row 4 asks nothing.
    results = ranked_query_results(
        [[True], [True], [False, True], [False], []], [1, 1, 1, 1, 0], [0, 1, 2, 3, 4])
    groups = ["A", "A", "A", "B", "C"]
    assert summarise(results)["mAP"] == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    assert group_weighted_map(results, groups) == pytest.approx(((1 + 1 + 0.5) / 3 + 0) / 2)
    assert math.isnan(group_weighted_map(ranked_query_results([], [], []), []))
