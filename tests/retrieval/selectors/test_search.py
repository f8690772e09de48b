"""retrieval/selectors/search.py: the pure parts of fusion (weights, reciprocal rank fusion, views)."""

import numpy as np
import pytest

from retrieval.index import Neighbor
from retrieval.selectors.search import channel_weights, fuse, fuse_views


def _ranking(*figure_ids: int) -> list[Neighbor]:
    return [Neighbor(figure_id=f, score=1.0 - i / 10) for i, f in enumerate(figure_ids)]


def test_one_channel_keeps_its_own_order_and_scores():
    rankings = {"drawing": _ranking(7, 3, 9)}
    fused = fuse(rankings, {"drawing": 1.0}, k=2)
    assert fused == [(7, 1.0, {"drawing": 1}), (3, 0.9, {"drawing": 2})]


def test_reciprocal_rank_fusion_weighs_channels_and_breaks_ties_by_the_drawing():
    rankings = {"drawing": _ranking(1, 2, 3), "fulltext": _ranking(3, 2, 1)}
    fused = fuse(rankings, {"drawing": 1.0, "fulltext": 1.0}, k=3, rrf_k=0)
    # 1: 1/1 + 1/3, 3: 1/3 + 1/1 (a tie: the drawing ranks 1 first), 2: 1/2 + 1/2
    assert [f for f, _, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 + 1 / 3) and fused[2][2] == {"drawing": 2, "fulltext": 2}
    heavier_text = fuse(rankings, {"drawing": 1.0, "fulltext": 3.0}, k=1, rrf_k=0)
    assert heavier_text[0][0] == 3
    # a channel of weight 0 takes no part
    assert [f for f, _, _ in fuse(rankings, {"drawing": 1.0, "fulltext": 0.0}, k=3)] == [1, 2, 3]


def test_figures_whose_texts_are_the_same_are_ordered_by_the_drawing():
    """A drawing plus a text ranks by the joint channel alone at the default text weights; figures
    described alike (a series of one product) get the very same joint score, and the drawing's
    own ranking orders them, the best look-alike first, instead of the figure ids."""
    joint = [Neighbor(figure_id=f, score=s) for f, s in ((40, 0.79), (10, 0.79), (30, 0.79), (20, 0.6))]
    rankings = {"drawing": _ranking(30, 20, 40), "joint": joint}
    fused = fuse(rankings, {"drawing": 0.0, "joint": 1.0}, k=4)
    assert [f for f, _, _ in fused] == [30, 40, 10, 20]  # 10 is not in the drawing's ranking: after 40
    assert [s for _, s, _ in fused] == [0.79, 0.79, 0.79, 0.6]  # the joint scores, as they were
    text_only = fuse({"sentence": joint}, {"sentence": 1.0}, k=4)  # no drawing: by id, stable
    assert [f for f, _, _ in text_only] == [10, 30, 40, 20]


def test_weights_split_between_drawing_and_text_by_the_text_weight(settings):
    settings.RETRIEVAL_FUSION_WEIGHTS = {"drawing": 1.0, "fulltext": 0.5}
    settings.RETRIEVAL_FUSION_WEIGHTS_TEXT_ONLY = {"fulltext": 2.0}
    both = {"drawing": [], "fulltext": []}
    assert channel_weights(both, text_weight=0.25) == {"drawing": 1.5, "fulltext": 0.25}
    assert channel_weights({"fulltext": []}, text_weight=0.25) == {"fulltext": 2.0}  # text only
    assert channel_weights({"drawing": []}, text_weight=0.9) == {"drawing": 1.0}  # drawing only
    assert channel_weights({"trigram": []}, text_weight=0.5, base={}) == {"trigram": 1.0}


def test_with_the_joint_channel_the_drawing_takes_over_below_the_default_text_weight(settings):
    """The joint vector meets the figures' sentence vectors: at text weight 0 it would be the
    drawing against texts alone, so the drawing's own ranking replaces it step by step."""
    settings.RETRIEVAL_FUSION_WEIGHTS_JOINT = {"drawing": 0.0, "sentence": 0.0, "joint": 1.0}
    joint = {"drawing": [], "sentence": [], "joint": []}
    assert channel_weights(joint, text_weight=0.5) == {"drawing": 0.0, "sentence": 0.0, "joint": 1.0}  # as chosen
    assert channel_weights(joint, text_weight=0.8) == {"drawing": 0.0, "sentence": 0.0, "joint": 1.0}
    assert channel_weights(joint, text_weight=0.3) == {"drawing": 0.0, "sentence": 0.0, "joint": 1.0}  # composer's
    assert channel_weights(joint, text_weight=0.125) == {"drawing": 0.5, "sentence": 0.0, "joint": 0.5}
    assert channel_weights(joint, text_weight=0.0) == {"drawing": 1.0, "sentence": 0.0, "joint": 0.0}


def test_fused_views_are_the_unit_mean_of_the_views():
    views = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    fused = fuse_views(views)
    assert fused.dtype == np.float32
    assert np.allclose(fused, [2**-0.5, 2**-0.5, 0.0])
