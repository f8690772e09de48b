"""Each figure's text row (retrieval.services.search_text) and the version that makes rows of an
earlier composition count as outdated; the composition itself: tests/retrieval/ml/test_sentence_composition.py."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from django.core.management import call_command
from django.test import override_settings

from retrieval import inference
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.ml.sentence_composition import DESCRIPTION, GENERATED_CAPTION
from retrieval.models import FigureSearchText, FigureText
from retrieval.services.search_text import (
    figure_search_text_batch,
    search_texts_missing,
    text_row_version,
)
from tests.drawings import drawing, png_bytes, write_corpus

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_the_stored_text_kinds_are_the_compositions_kinds():
    # FigureText rows bring their kind into the composition (retrieval.ml.sentence_composition).
    assert {FigureText.Kind.DESCRIPTION.value, FigureText.Kind.GENERATED_CAPTION.value} == {
        DESCRIPTION, GENERATED_CAPTION}


def _corpus(root):
    rows = [{
        "image_file": "images/USD910001-1.png", "patent_id": "USD910001", "figure_id": "1",
        "title": "Travel mug", "object_name": "mug", "viewpoint": "front perspective",
        "caption": "FIG. 1 is a front perspective view of a travel mug;", "us_class": "D7/500",
        "grant_date": "20210105",
    }]
    descriptions = [{"image_file": "images/USD910001-1.png",
                     "descriptions": ["An insulated drinking cup with a lid.", "A thermos tumbler for coffee."]}]
    return write_corpus(root, rows, images={"images/USD910001-1.png": png_bytes(drawing(7_001))},
                        descriptions=descriptions)


@pytest.mark.django_db
def test_a_text_row_holds_every_text_but_composes_its_vector(tmp_path, active_model):
    result = corpus_ingest(path=_corpus(tmp_path / "mugs"))
    assert figure_search_text_batch(figure_ids=result.figure_ids) == 1
    row = FigureSearchText.objects.get(figure_id=result.figure_ids[0])
    # The full-text document keeps every text, the viewpoint and the caption included.
    assert "front perspective" in row.document and "FIG. 1 is a front perspective view" in row.document
    texts = ["Travel mug", "mug", "An insulated drinking cup with a lid.", "A thermos tumbler for coffee."]
    v = inference.embed_sentences(texts)
    expected = 0.1 * v[0] + 0.1 * v[1] + 0.4 * v[2] + 0.4 * v[3]
    np.testing.assert_allclose(np.asarray(row.sentence), expected / np.linalg.norm(expected), atol=1e-5)
    assert row.sentence_version == text_row_version()
    assert text_row_version().startswith(inference.sentence_version() + "/")


@pytest.mark.django_db
def test_rows_of_an_earlier_composition_or_share_are_outdated_and_rebuilt(tmp_path, active_model):
    result = corpus_ingest(path=_corpus(tmp_path / "mugs"))
    figure_search_text_batch(figure_ids=result.figure_ids)
    assert search_texts_missing() == []
    # A row written by the plain mean of every text carried the model's version alone.
    FigureSearchText.objects.update(sentence_version=inference.sentence_version())
    assert search_texts_missing() == result.figure_ids
    figure_search_text_batch(figure_ids=result.figure_ids)
    assert search_texts_missing() == []
    with override_settings(RETRIEVAL_SENTENCE_NAMES_SHARE=0.5):
        assert search_texts_missing() == result.figure_ids


def test_a_names_share_outside_zero_to_one_is_refused_at_start_up():
    env = {**os.environ, "RETRIEVAL_SENTENCE_NAMES_SHARE": "1.5"}
    run = subprocess.run(
        [sys.executable, "-c", "import patentsearch.settings.components.retrieval"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode != 0
    assert "RETRIEVAL_SENTENCE_NAMES_SHARE is 1.5: it must be between 0 and 1" in run.stderr


@pytest.mark.django_db
def test_rebuild_search_texts_rebuilds_only_the_outdated_rows(tmp_path, active_model):
    result = corpus_ingest(path=_corpus(tmp_path / "mugs"))
    figure_search_text_batch(figure_ids=result.figure_ids)
    FigureSearchText.objects.update(sentence_version=inference.sentence_version())  # the plain mean's rows
    out = io.StringIO()
    call_command("rebuild_search_texts", "--dry-run", stdout=out)
    assert out.getvalue().startswith("1 text rows are missing or not of version ")
    assert search_texts_missing() == result.figure_ids  # a dry run changes nothing
    out = io.StringIO()
    call_command("rebuild_search_texts", stdout=out)
    assert out.getvalue().strip() == f"Rebuilt 1 text rows (version {text_row_version()})."
    assert search_texts_missing() == []
    out = io.StringIO()
    call_command("rebuild_search_texts", stdout=out)
    assert out.getvalue().startswith("Rebuilt 0 text rows")
