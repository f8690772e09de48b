"""Reads about corpora: lists with counts, and encoding progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from patentsearch.ids import parse_id
from retrieval.models import Corpus, Figure, FigureEmbedding, RetrievalModel


@dataclass(frozen=True)
class EncodingProgress:
    total: int
    encoded: int
    failed: int

    @property
    def done(self) -> bool:
        return self.encoded + self.failed >= self.total


def corpus_encoding_progress(*, corpus_id: int, model: RetrievalModel) -> EncodingProgress:
    figures = Figure.objects.filter(corpus_id=corpus_id)
    counts = figures.aggregate(total=Count("id"), failed=Count("id", filter=Q(status=Figure.Status.FAILED)))
    encoded = FigureEmbedding.objects.filter(model=model, figure__corpus_id=corpus_id).count()
    return EncodingProgress(total=counts["total"], encoded=encoded, failed=counts["failed"])


def newest_figure_id() -> int:
    """The newest figure's id (0 when there is none). Figure ids only grow, so it marks a moment
    of the catalogue: the figures up to it are those that existed then."""
    return Figure.objects.aggregate(newest=Max("pk"))["newest"] or 0


def corpus_ids_for(values: Sequence[str]) -> tuple[list[int], list[str]]:
    """Corpus ids or names, resolved in one query: (the ids in the order given, each once; the
    values that name no corpus). A value of ASCII digits is an id, anything else a name."""
    ids = {v: i for v in values if (i := parse_id(v)) is not None}
    found = Corpus.objects.filter(Q(pk__in=set(ids.values())) | Q(name__in=set(values) - set(ids)))
    by_id = {c.pk: c.pk for c in found}
    by_name = {c.name: c.pk for c in found}
    resolved = [by_id.get(ids[v]) if v in ids else by_name.get(v) for v in values]
    unknown = [v for v, pk in zip(values, resolved, strict=True) if pk is None]
    return list(dict.fromkeys(pk for pk in resolved if pk is not None)), unknown


def corpus_list() -> QuerySet[Corpus]:
    return Corpus.objects.annotate(
        figure_count=Count("figures", distinct=True), patent_count=Count("figures__patent", distinct=True)
    ).order_by("name")
