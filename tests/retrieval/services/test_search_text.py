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

from retrieval import inference, tasks
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.ml.sentence_composition import DESCRIPTION, GENERATED_CAPTION
from retrieval.models import Figure, FigureSearchText, FigureText
from retrieval.selectors.search_text import (
    search_texts_by_corpus,
    search_texts_lost,
    search_texts_missing,
    text_row_version,
)
from retrieval.services.search_text import figure_search_text_batch, search_texts_sweep
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


@pytest.mark.django_db
def test_the_sweep_queues_text_rows_that_were_never_queued_lost_or_outdated_but_not_waiting_ones(
    tmp_path, active_model, monkeypatch, django_capture_on_commit_callbacks, settings
):
    """A text row's rebuild the broker never took (down at the ingest or after a describe), that
    a worker lost, or that an upgrade outdated is queued again by the periodic sweep; one waiting
    in the queue is not."""
    sent = []
    monkeypatch.setattr(tasks.figure_search_text_batch_task, "delay", lambda batch: sent.append(list(batch)))
    [figure_id] = corpus_ingest(path=_corpus(tmp_path / "mugs")).figure_ids  # its on-commit send never ran
    assert Figure.objects.get(pk=figure_id).text_queued_at is None
    assert search_texts_lost() == [figure_id]  # never queued

    def sweep() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return search_texts_sweep()

    assert sweep() == 1 and sent == [[figure_id]]
    assert Figure.objects.get(pk=figure_id).text_queued_at is not None
    assert search_texts_missing() == [figure_id] and search_texts_lost() == []  # waiting, not lost
    assert sweep() == 0 and len(sent) == 1
    settings.RETRIEVAL_ENCODE_REQUEUE_AFTER = 0  # queued longer ago than that: a worker lost it
    assert search_texts_lost() == [figure_id]
    settings.RETRIEVAL_ENCODE_REQUEUE_AFTER = 3600

    figure_search_text_batch(figure_ids=[figure_id])  # the worker's rebuild
    assert search_texts_missing() == [] and search_texts_lost() == []
    # A description written after the row, whose rebuild the broker never took: the row is stale.
    FigureText.objects.create(figure_id=figure_id, text="A steel flask with a screw cap.", source="test")
    assert search_texts_missing() == [figure_id] and search_texts_lost() == [figure_id]
    assert sweep() == 1 and search_texts_lost() == []
    figure_search_text_batch(figure_ids=[figure_id])
    assert "steel flask" in FigureSearchText.objects.get(figure_id=figure_id).document
    assert search_texts_lost() == []
    # An upgrade outdated the row: its last rebuild was queued before, so nothing is waiting.
    FigureSearchText.objects.update(sentence_version=inference.sentence_version())
    assert search_texts_lost() == [figure_id]
    assert sweep() == 1 and search_texts_lost() == [] and len(sent) == 3


@pytest.mark.django_db
def test_the_console_counts_each_corpus_s_text_rows(tmp_path, active_model, admin_user, client, monkeypatch,
                                                   django_capture_on_commit_callbacks):
    """The jobs page tells an admin how far a corpus's words are indexed, and what is lost."""
    from tests.drawings import small_corpus

    monkeypatch.setattr(tasks.figure_search_text_batch_task, "delay", lambda batch: None)
    ids = corpus_ingest(path=small_corpus(tmp_path / "six", patents=3, views=2), name="six").figure_ids
    figure_search_text_batch(figure_ids=ids[:3])
    FigureSearchText.objects.filter(figure_id=ids[0]).update(sentence_version="an older model")
    with django_capture_on_commit_callbacks(execute=True):
        search_texts_sweep()  # queues the three without a row and the outdated one
    figure_search_text_batch(figure_ids=[ids[3]])  # one of them done
    counts = search_texts_by_corpus()[Figure.objects.get(pk=ids[0]).corpus_id]
    assert (counts.figures, counts.current, counts.missing, counts.outdated) == (6, 3, 2, 1)
    assert (counts.waiting, counts.lost) == (3, 0)
    Figure.objects.filter(pk=ids[4]).update(text_queued_at=None)  # as if the broker had been down
    client.force_login(admin_user)
    html = client.get("/console/").content.decode()
    table = html[html.index('id="text-rows"'):]
    cells = [c.split(">")[-1] for c in table[:table.index("</tbody>")].split("</td>")[:-1]]
    assert cells == ["six", "6", "3", "2", "1", "2", "1"]
