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

from retrieval.models import Figure, RetrievalModel


@dataclass(frozen=True)
class EncodingBacklog:
    waiting: int
    lost: int


def figures_without_vector(*, model: RetrievalModel, figure_ids: Iterable[int] | None = None) -> QuerySet[Figure]:
    figures = Figure.objects.filter(status=Figure.Status.READY).exclude(embeddings__model=model)
    if figure_ids is not None:
        figures = figures.filter(pk__in=list(figure_ids))
    return figures.order_by("pk")


def figures_lost(*, model: RetrievalModel, figure_ids: Iterable[int] | None = None) -> QuerySet[Figure]:
    return figures_without_vector(model=model, figure_ids=figure_ids).filter(_lost())


def encoding_backlog(*, model: RetrievalModel) -> EncodingBacklog:
    missing = figures_without_vector(model=model)
    lost = missing.filter(_lost()).count()
    return EncodingBacklog(waiting=missing.count() - lost, lost=lost)


def _lost() -> Q:
    cutoff = timezone.now() - dt.timedelta(seconds=settings.RETRIEVAL_ENCODE_REQUEUE_AFTER)
    return Q(encode_queued_at__isnull=True) | Q(encode_queued_at__lt=cutoff)
