"""Which figures still need a vector, and whether they are waiting or lost.

A ready figure without a vector under a model is one of:
- waiting: the broker took its encoding task less than RETRIEVAL_ENCODE_REQUEUE_AFTER seconds
  ago (``Figure.encode_queued_at``), so a worker will get to it;
- lost: it was never handed to the broker (the broker was down during ingest), or so long ago
  that the message cannot still be waiting (the worker died and the broker lost it, or the
  task gave up). The periodic sweep and ``manage.py encode_missing`` queue lost figures again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from retrieval.models import Corpus, Figure, FigureEmbedding, RetrievalModel


@dataclass(frozen=True)
class EncodingBacklog:
    waiting: int
    lost: int


def figures_without_vector(
    *, model: RetrievalModel, figure_ids: Iterable[int] | None = None, queued_before: dt.datetime | None = None,
) -> QuerySet[Figure]:
    """Ready figures with no vector under the model (of ``figure_ids``; with ``queued_before``,
    not those whose encoding the broker took at that moment or later)."""
    figures = Figure.objects.filter(status=Figure.Status.READY).exclude(embeddings__model=model)
    if figure_ids is not None:
        figures = figures.filter(pk__in=list(figure_ids))
    if queued_before is not None:
        figures = figures.exclude(_queued_since(queued_before))
    return figures.order_by("pk")


def figures_queued_since(*, model: RetrievalModel, since: dt.datetime) -> int:
    """Figures without a vector under the model whose encoding the broker took at ``since`` or
    later (stamped by retrieval.services.batches.enqueue_on_commit)."""
    return figures_without_vector(model=model).filter(_queued_since(since)).count()


def figures_lost(*, model: RetrievalModel, figure_ids: Iterable[int] | None = None) -> QuerySet[Figure]:
    return figures_without_vector(model=model, figure_ids=figure_ids).filter(_lost())


def encoding_backlog(*, model: RetrievalModel) -> EncodingBacklog:
    missing = figures_without_vector(model=model)
    lost = missing.filter(_lost()).count()
    return EncodingBacklog(waiting=missing.count() - lost, lost=lost)


def requeue_cutoff() -> dt.datetime:
    """A task the broker took before this moment cannot still be waiting in its queue
    (``RETRIEVAL_ENCODE_REQUEUE_AFTER``): an encoding's here, a text row's rebuild in
    retrieval.selectors.search_text."""
    return timezone.now() - dt.timedelta(seconds=settings.RETRIEVAL_ENCODE_REQUEUE_AFTER)


def _queued_since(moment: dt.datetime) -> Q:
    """The broker took the figure's encoding at ``moment`` or later."""
    return Q(encode_queued_at__gte=moment)


def _lost() -> Q:
    return Q(encode_queued_at__isnull=True) | Q(encode_queued_at__lt=requeue_cutoff())


@dataclass(frozen=True)
class Coverage:
    encoded: int
    total: int

    @property
    def fraction(self) -> float:
        return 1.0 if not self.total else self.encoded / self.total

    @property
    def percent(self) -> float:
        """To one decimal, rounded down: 9,996 of 10,000 is 99.9 %, never a 100 % that is not done."""
        return 100.0 if not self.total else (1000 * self.encoded // self.total) / 10

    def said(self) -> str:
        """The coverage in the words of every refusal that waits for it."""
        return f"vectors for {self.encoded:,} of {self.total:,} figures ({self.percent} %)"

    @property
    def complete(self) -> bool:
        return self.encoded >= self.total


def model_coverage(model: RetrievalModel, corpus: Corpus | None = None) -> Coverage:
    """Ready figures with a vector under the model / all ready figures (of one corpus, or all)."""
    ready = Figure.objects.filter(status=Figure.Status.READY)
    encoded = FigureEmbedding.objects.filter(model=model, figure__status=Figure.Status.READY)
    if corpus is not None:
        ready, encoded = ready.filter(corpus=corpus), encoded.filter(figure__corpus=corpus)
    return Coverage(encoded=encoded.count(), total=ready.count())
