"""Describing figures with the configured backend (offline in tests: no model, no network)."""

import pytest
from django.core.management import CommandError, call_command

from retrieval import inference, tasks
from retrieval.exceptions import (
    DescriberNotConfiguredError,
    DescriberUnavailableError,
    DescriptionFailedError,
)
from retrieval.models import Figure, FigureText
from retrieval.selectors.descriptions import DESCRIBE_ERROR_PREFIX, figures_describe_progress
from retrieval.services import describe
from retrieval.services.describe import (
    figure_describe_batch,
    figure_metadata,
    figures_describe_missing,
)
from tests.conftest import fails_first, wait_for
from tests.retrieval.factories import FigureFactory

pytestmark = pytest.mark.django_db

SOURCE = "offline:templates-v1-seed0"


@pytest.fixture(autouse=True)
def _offline(settings):  # noqa: ANN001, ANN202
    settings.RETRIEVAL_DESCRIBE_BACKEND = "offline"
    settings.RETRIEVAL_DESCRIBE_N = 5


def _figure(**kwargs) -> Figure:  # noqa: ANN003
    defaults = {
        "patent__object_name": "chair",
        "patent__locarno_class": "06-01",
        "viewpoint": "front",
        "caption": "FIG. 1 is a front view of a chair.",
    }
    return FigureFactory(**(defaults | kwargs))


def _descriptions(figure: Figure) -> list[tuple[str, str]]:
    return list(figure.texts.filter(kind=FigureText.Kind.DESCRIPTION).values_list("source", "text"))


def test_writes_description_rows_from_the_figure_metadata():
    figure = _figure()
    assert figure_describe_batch(figure_ids=[figure.pk]) == 1
    rows = _descriptions(figure)
    assert len(rows) == 5 and {source for source, _ in rows} == {SOURCE}
    assert all("chair" in text.lower() for _, text in rows)
    assert any("front view" in text for _, text in rows)


def test_rerun_adds_nothing():
    figure = _figure()
    figure_describe_batch(figure_ids=[figure.pk])
    before = sorted(_descriptions(figure))
    assert figure_describe_batch(figure_ids=[figure.pk, 999_999]) == 0
    assert sorted(_descriptions(figure)) == before


def test_metadata_carries_patent_figure_and_generated_caption_fields():
    figure = _figure(patent__title="Side chair", patent__us_class="D6/334")
    FigureText.objects.create(
        figure=figure, kind=FigureText.Kind.GENERATED_CAPTION, text="A chair drawing."
    )
    metadata = figure_metadata(figure)
    assert metadata == {
        "object_name": "chair",
        "title": "Side chair",
        "viewpoint": "front",
        "caption": "FIG. 1 is a front view of a chair.",
        "locarno_class": "06-01",
        "us_class": "D6/334",
        "generated_caption": "A chair drawing.",
    }


def test_queues_figures_lacking_descriptions_in_batches_on_commit(
    settings, django_capture_on_commit_callbacks
):
    settings.RETRIEVAL_DESCRIBE_BATCH_SIZE = 2
    done, imported, *fresh = [_figure() for _ in range(4)]
    figure_describe_batch(figure_ids=[done.pk])
    FigureText.objects.create(
        figure=imported, text="Imported description of a chair.", source="import"
    )
    with django_capture_on_commit_callbacks() as callbacks:
        queued = figures_describe_missing()
    assert queued.figure_ids == [imported.pk, *(f.pk for f in fresh)] and queued.source == SOURCE
    assert queued.batches == len(callbacks) == 2
    assert figures_describe_missing(missing_only=True).figure_ids == [f.pk for f in fresh]


def test_a_figure_the_model_cannot_describe_is_recorded_and_the_batch_goes_on(monkeypatch):
    bad, good = _figure(patent__object_name="lamp"), _figure()
    real = inference.describe_figure
    picky = _fails_for_lamps(DescriptionFailedError("expected 5 descriptions, got 2"))
    monkeypatch.setattr(inference, "describe_figure", picky)
    assert figure_describe_batch(figure_ids=[bad.pk, good.pk]) == 1
    bad.refresh_from_db()
    assert bad.status == Figure.Status.READY and bad.error.startswith(DESCRIBE_ERROR_PREFIX)
    assert "expected 5 descriptions" in bad.error
    progress = figures_describe_progress(figure_ids=[bad.pk, good.pk], source=SOURCE)
    assert (progress.described, progress.failed, progress.done) == (1, 1, True)

    monkeypatch.setattr(inference, "describe_figure", real)
    assert figures_describe_missing().figure_ids == [bad.pk]
    figure_describe_batch(figure_ids=[bad.pk])
    bad.refresh_from_db()
    assert bad.error == "" and len(_descriptions(bad)) == 5


def test_an_image_error_is_never_overwritten(monkeypatch):
    figure = _figure(error="image unreadable: truncated file")
    monkeypatch.setattr(inference, "describe_figure", _raise(DescriptionFailedError("no JSON")))
    figure_describe_batch(figure_ids=[figure.pk])
    figure.refresh_from_db()
    assert figure.error == "image unreadable: truncated file"


def test_unreachable_backend_raises_and_keeps_what_was_written(monkeypatch):
    first, second = _figure(), _figure(patent__object_name="lamp")
    down_for_lamps = _fails_for_lamps(DescriberUnavailableError("http://llm could not be reached"))
    monkeypatch.setattr(inference, "describe_figure", down_for_lamps)
    with pytest.raises(DescriberUnavailableError):
        figure_describe_batch(figure_ids=[first.pk, second.pk])
    assert len(_descriptions(first)) == 5 and _descriptions(second) == []
    second.refresh_from_db()
    assert second.error == ""


def test_misconfigured_backend_fails_before_queueing(settings, monkeypatch):
    monkeypatch.delenv("PATENTSEARCH_LLM_BASE_URL", raising=False)
    settings.RETRIEVAL_DESCRIBE_BACKEND = "openai"
    _figure()
    with pytest.raises(DescriberNotConfiguredError, match="PATENTSEARCH_LLM_BASE_URL"):
        figures_describe_missing()
    settings.RETRIEVAL_DESCRIBE_BACKEND = "transformers"
    with pytest.raises(DescriberNotConfiguredError, match="RETRIEVAL_DESCRIBE_MODEL_PATH"):
        figures_describe_missing()


def test_task_retries_an_unreachable_backend(monkeypatch):
    flaky, calls = fails_first(DescriberUnavailableError("http://llm answered HTTP 503"))
    monkeypatch.setattr(describe, "figure_describe_batch", flaky)
    monkeypatch.setattr(tasks.figure_describe_batch_task, "retry_backoff", False)
    assert tasks.figure_describe_batch_task.apply(args=([1, 2],)).get() == 2 and len(calls) == 3


def test_command_queues_a_corpus_and_refuses_an_unknown_one(capsys):
    figure = _figure()
    _figure()  # another corpus
    call_command("describe_figures", "--corpus", figure.corpus.name)
    assert f"Queued 1 figures in 1 batches for {SOURCE}" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No corpus named 'nope'"):
        call_command("describe_figures", "--corpus", "nope")


@pytest.mark.worker
@pytest.mark.slow
def test_worker_describes_queued_figures_on_the_llm_queue(celery_worker, capsys):
    figures = [_figure() for _ in range(3)]
    call_command("describe_figures", "--wait", "--timeout", "120", verbosity=0)
    assert "Described 3 of 3 figures, 0 failed" in capsys.readouterr().out
    wait_for(lambda: all(len(_descriptions(f)) == 5 for f in figures), timeout=10)


def _fails_for_lamps(error: Exception):  # noqa: ANN202
    """The real ``describe_figure``, except that it raises ``error`` for lamps."""
    real = inference.describe_figure

    def describe_figure(metadata, n):  # noqa: ANN001, ANN202
        if metadata["object_name"] == "lamp":
            raise error
        return real(metadata, n)

    return describe_figure


def _raise(error: Exception):  # noqa: ANN202
    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise error

    return fail
