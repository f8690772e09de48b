"""The composition of a figure's sentence vector (retrieval.ml.sentence_composition)."""

import numpy as np
import pytest

from retrieval.ml.sentence_composition import (
    CAPTION,
    DESCRIPTION,
    GENERATED_CAPTION,
    NAME,
    VIEWPOINT,
    figure_texts,
    sentence_vector,
    sentence_weights,
)


def test_names_take_their_share_and_the_descriptions_the_rest():
    kinds = [NAME, NAME, VIEWPOINT, CAPTION, DESCRIPTION, DESCRIPTION, GENERATED_CAPTION, DESCRIPTION, DESCRIPTION]
    weights = sentence_weights(kinds, names_share=0.2)
    assert weights == pytest.approx([0.1, 0.1, 0, 0, 0.2, 0.2, 0, 0.2, 0.2])
    # A figure with fewer descriptions gives its names the same share.
    assert sentence_weights([NAME, DESCRIPTION], names_share=0.2) == pytest.approx([0.2, 0.8])


def test_without_descriptions_the_captions_stand_in_and_the_viewpoint_never_counts():
    kinds = [NAME, VIEWPOINT, CAPTION, GENERATED_CAPTION]
    assert sentence_weights(kinds, names_share=0.2) == pytest.approx([0.2, 0, 0.4, 0.4])
    assert sentence_weights([NAME, VIEWPOINT], names_share=0.2) == pytest.approx([1, 0])
    assert sentence_weights([VIEWPOINT, DESCRIPTION], names_share=0.2) == pytest.approx([0, 1])
    assert sentence_weights([VIEWPOINT], names_share=0.2) == [0.0]
    assert sentence_weights([], names_share=0.2) == []


def test_the_sentence_vector_is_the_weighted_sum_renormalised():
    basis = np.eye(4, dtype=np.float32)  # one unit vector per text
    vector = sentence_vector([NAME, VIEWPOINT, DESCRIPTION, DESCRIPTION], basis, names_share=0.2)
    expected = np.array([0.2, 0.0, 0.4, 0.4], np.float32)
    np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), rtol=1e-6)
    assert sentence_vector([VIEWPOINT], basis[:1], names_share=0.2) is None


def test_a_figures_texts_are_distinct_non_empty_and_keep_their_first_kind():
    texts = figure_texts(
        title="Shoe", object_name="shoe ", viewpoint="", caption="FIG. 1 is a side view",
        texts=[(DESCRIPTION, "A running shoe."), (GENERATED_CAPTION, "Shoe"), (DESCRIPTION, "  ")],
    )
    assert texts == [(NAME, "Shoe"), (NAME, "shoe"), (CAPTION, "FIG. 1 is a side view"),
                     (DESCRIPTION, "A running shoe.")]
