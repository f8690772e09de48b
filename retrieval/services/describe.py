"""Describing figures with the configured LLM backend: enqueue in batches on commit; write
FigureText(kind=description) rows idempotently.

What happens when describing fails:

- The backend cannot be reached or is overloaded (``DescriberUnavailableError``, after the
  backend's own retries): raised, so the Celery task retries the whole batch later with
  backoff. Figures described before the failure keep their rows and are skipped next time.
- The backend is misconfigured (``DescriberNotConfiguredError``): raised and not retried;
  nothing is marked, since no figure is at fault. Fix the settings, run ``describe_figures``.
- The model gives no usable answer for one figure, even after being re-asked
  (``DescriptionFailedError``): logged, and the reason is kept in ``Figure.error`` prefixed
  with :data:`DESCRIBE_ERROR_PREFIX` so the admin shows it and progress can count it. The
  figure's status stays ready (status ``failed`` means an unreadable image and takes the figure
  out of search; a missing description does not). The next successful description clears it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet

from retrieval import inference
from retrieval.exceptions import DescriptionFailedError
from retrieval.models import Figure, FigureText
from retrieval.selectors.descriptions import DESCRIBE_ERROR_PREFIX
from retrieval.services.batches import enqueue_on_commit
from retrieval.services.search_text import figures_search_text_enqueue
from retrieval.services.work_gates import DESCRIBE, figures_held
from retrieval.tasks import figure_describe_batch_task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DescribeQueued:
    """What :func:`figures_describe_missing` queued: the figures, and who will describe them."""

    figure_ids: list[int]
    source: str
    batches: int


def figures_describe_enqueue(
    *, figure_ids: Sequence[int], backend: str | None = None, model_path: str | None = None
) -> int:
    """Queue describing of these figures once the transaction commits; returns the batch count.
    ``backend``/``model_path``: a backend chosen instead of the settings' (see inference.describer)."""
    def send(batch: list[int]) -> None:
        if backend is None and model_path is None:
            figure_describe_batch_task.delay(batch)
        else:
            figure_describe_batch_task.delay(batch, backend=backend, model_path=model_path)

    return enqueue_on_commit(figure_ids, settings.RETRIEVAL_DESCRIBE_BATCH_SIZE, send)


def figures_describe_missing(
    *, corpus_id: int | None = None, missing_only: bool = False, backend: str | None = None,
    model_path: str | None = None,
) -> DescribeQueued:
    """Queue the ready figures (of one corpus, or all) that lack descriptions.

    By default, figures with no descriptions from the configured (or chosen) backend and model;
    with ``missing_only``, only figures with no description at all (imported ones count). The
    description errors of the queued figures are cleared: they are about to be tried again.

    Raises:
        DescriberNotConfiguredError: the backend cannot work as configured (checked first).
    """
    source = inference.describer_source(backend, model_path)
    figures = Figure.objects.filter(status=Figure.Status.READY)
    if corpus_id is not None:
        figures = figures.filter(corpus_id=corpus_id)
    described = _described_figure_ids(None if missing_only else source)
    ids = list(figures.exclude(pk__in=described).order_by("pk").values_list("pk", flat=True))
    Figure.objects.filter(pk__in=ids, error__startswith=DESCRIBE_ERROR_PREFIX).update(error="")
    return DescribeQueued(
        figure_ids=ids, source=source,
        batches=figures_describe_enqueue(figure_ids=ids, backend=backend, model_path=model_path),
    )


def figure_describe_batch(
    *, figure_ids: Sequence[int], backend: str | None = None, model_path: str | None = None
) -> int:
    """Describe the figures of the batch that have no descriptions from the configured (or
    chosen) backend.

    Idempotent: figures already described by this backend and model, gone, not ready, or held
    by a cancelled job (retrieval.services.work_gates) are skipped, and rows are written once
    per figure under a row lock. See the module docstring for what each failure does. Returns
    how many figures got descriptions.
    """
    source = inference.describer_source(backend, model_path)
    held = figures_held(work=DESCRIBE, model_id=None, figure_ids=figure_ids)
    chosen = {"backend": backend, "model_path": model_path} if backend or model_path else {}
    described = 0
    for figure in _figures_to_describe([i for i in figure_ids if i not in held], source):
        if figures_held(work=DESCRIBE, model_id=None, figure_ids=[figure.pk]):
            continue  # cancelled while this batch was running
        try:
            texts = inference.describe_figure(
                figure_metadata(figure), settings.RETRIEVAL_DESCRIBE_N, **chosen
            )
        except DescriptionFailedError as exc:
            _record_failure(figure, source, exc.message)
            continue
        described += _save(figure.pk, texts, source)
    return described


def figure_metadata(figure: Figure) -> dict[str, str]:
    """The fields descriptions are written from (see ``inference.describe_figure``)."""
    patent = figure.patent
    captions = getattr(figure, "generated_captions", None)
    if captions is None:
        captions = list(figure.texts.filter(kind=FigureText.Kind.GENERATED_CAPTION))
    return {
        "object_name": patent.object_name,
        "title": patent.title,
        "viewpoint": figure.viewpoint,
        "caption": figure.caption,
        "locarno_class": patent.locarno_class,
        "us_class": patent.us_class or patent.us_class_main,
        "generated_caption": captions[0].text if captions else "",
    }


def _described_figure_ids(source: str | None) -> QuerySet[FigureText]:
    texts = FigureText.objects.filter(kind=FigureText.Kind.DESCRIPTION)
    if source is not None:
        texts = texts.filter(source=source)
    return texts.values("figure_id")


def _figures_to_describe(figure_ids: Sequence[int], source: str) -> list[Figure]:
    captions = FigureText.objects.filter(kind=FigureText.Kind.GENERATED_CAPTION).order_by("pk")
    return list(
        Figure.objects.filter(pk__in=figure_ids, status=Figure.Status.READY)
        .exclude(pk__in=_described_figure_ids(source))
        .select_related("patent")
        .prefetch_related(Prefetch("texts", queryset=captions, to_attr="generated_captions"))
        .order_by("pk")
    )


def _save(figure_id: int, texts: Sequence[str], source: str) -> int:
    with transaction.atomic():
        figure = Figure.objects.select_for_update().filter(pk=figure_id).first()
        if figure is None or _described_figure_ids(source).filter(figure_id=figure_id).exists():
            return 0  # gone, or described meanwhile by another worker
        kind = FigureText.Kind.DESCRIPTION
        rows = [
            FigureText(figure_id=figure_id, kind=kind, text=text, source=source) for text in texts
        ]
        FigureText.objects.bulk_create(rows, ignore_conflicts=True)
        if figure.error.startswith(DESCRIBE_ERROR_PREFIX):
            Figure.objects.filter(pk=figure_id).update(error="")
        # The new descriptions are words the text channel of search reads.
        figures_search_text_enqueue(figure_ids=[figure_id])
    return 1


def _record_failure(figure: Figure, source: str, reason: str) -> None:
    logger.warning("Figure %s got no descriptions from %s: %s", figure.pk, source, reason)
    message = f"{DESCRIBE_ERROR_PREFIX} ({source}): {reason}"[:2000]
    no_other_error = Q(error="") | Q(error__startswith=DESCRIBE_ERROR_PREFIX)
    Figure.objects.filter(no_other_error, pk=figure.pk, status=Figure.Status.READY).update(
        error=message
    )
