import numpy as np
import pytest
from numpy.typing import NDArray

from retrieval.ml.exact_search import exact_top_k

pytestmark = pytest.mark.ml


def _unit(rows: int, dim: int, seed: int) -> NDArray[np.float32]:
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    unit: NDArray[np.float32] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return unit


def _naive(
    queries: NDArray[np.float32], gallery: NDArray[np.float32], k: int, exclude_self: bool
) -> tuple[list[list[int]], list[list[float]]]:
    indices, scores = [], []
    for q, query in enumerate(queries):
        ranked = sorted(
            (-float(np.dot(query, row)), g)
            for g, row in enumerate(gallery)
            if not (exclude_self and g == q)
        )[:k]
        indices.append([g for _, g in ranked])
        scores.append([-s for s, _ in ranked])
    return indices, scores


@pytest.mark.parametrize(("k", "max_chunk_scores"), [(1, 1), (5, 300), (10, 1 << 20), (60, 7)])
def test_matches_a_naive_loop(k: int, max_chunk_scores: int) -> None:
    queries, gallery = _unit(23, 16, seed=1), _unit(60, 16, seed=2)

    indices, scores = exact_top_k(queries, gallery, k, max_chunk_scores=max_chunk_scores)

    expected_indices, expected_scores = _naive(queries, gallery, k, exclude_self=False)
    assert indices.dtype == np.int64 and scores.dtype == np.float32
    assert indices.shape == scores.shape == (23, k)
    assert indices.tolist() == expected_indices
    assert np.allclose(scores, expected_scores, atol=1e-6)


def test_exclude_self_matches_a_naive_loop() -> None:
    gallery = _unit(40, 8, seed=3)

    indices, _ = exact_top_k(gallery, gallery, 7, exclude_self=True, max_chunk_scores=50)

    assert indices.tolist() == _naive(gallery, gallery, 7, exclude_self=True)[0]
    assert not (indices == np.arange(40)[:, None]).any()


def test_ties_go_to_the_smaller_index() -> None:
    gallery = _unit(30, 8, seed=4)
    gallery[[5, 17, 29]] = gallery[11]  # four identical rows

    indices, scores = exact_top_k(gallery[[11]], gallery, 3)

    assert indices.tolist() == [[5, 11, 17]]
    assert np.allclose(scores, scores[0, 0])


def test_k_equal_to_gallery_size_ranks_everything() -> None:
    queries, gallery = _unit(3, 4, seed=5), _unit(9, 4, seed=6)

    indices, scores = exact_top_k(queries, gallery, 9)

    assert sorted(indices[0].tolist()) == list(range(9))
    assert (np.diff(scores, axis=1) <= 0).all()


def test_accepts_lists_and_float64() -> None:
    gallery = _unit(5, 3, seed=7).astype(np.float64)

    indices, _ = exact_top_k(gallery[:2].tolist(), gallery, 1)

    assert indices.tolist() == [[0], [1]]


@pytest.mark.parametrize(
    ("queries", "gallery", "k", "exclude_self", "message"),
    [
        (np.ones((2, 3)), np.ones((4, 5)), 1, False, "dimension"),
        (np.ones(3), np.ones((4, 3)), 1, False, "2-D"),
        (np.ones((2, 3)), np.ones((4, 3)), 0, False, "k must be"),
        (np.ones((2, 3)), np.ones((4, 3)), 5, False, "k must be"),
        (np.ones((4, 3)), np.ones((4, 3)), 4, True, "k must be"),
        (np.ones((2, 3)), np.ones((4, 3)), 1, True, "exclude_self"),
        (np.full((2, 3), np.nan), np.ones((4, 3)), 1, False, "non-finite"),
        (np.ones((2, 3)), np.ones((4, 3)), 1.5, False, "k must be"),
    ],
)
def test_bad_arguments_raise_value_error(
    queries: NDArray[np.float64],
    gallery: NDArray[np.float64],
    k: int,
    exclude_self: bool,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        exact_top_k(queries, gallery, k, exclude_self=exclude_self)
