"""Reads about corpora: lists with counts, and encoding progress."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

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


def corpus_list() -> QuerySet[Corpus]:
    return Corpus.objects.annotate(
        figure_count=Count("figures", distinct=True), patent_count=Count("figures__patent", distinct=True)
    ).order_by("name")
