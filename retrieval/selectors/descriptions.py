"""Reads about figure descriptions: progress of a describing run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q

from retrieval.models import Figure, FigureText

#: Figure.error starts with this when the LLM gave no usable descriptions (status stays ready).
DESCRIBE_ERROR_PREFIX = "Description failed"


@dataclass(frozen=True)
class DescribeProgress:
    total: int
    described: int
    failed: int

    @property
    def done(self) -> bool:
        return self.described + self.failed >= self.total


def figures_describe_progress(*, figure_ids: Sequence[int], source: str) -> DescribeProgress:
    """Of these figures: how many have descriptions from ``source``, how many failed (no usable
    answer, or the figure's image failed meanwhile)."""
    described = Q(
        pk__in=FigureText.objects.filter(kind=FigureText.Kind.DESCRIPTION, source=source).values(
            "figure_id"
        )
    )
    failed = ~described & (
        Q(status=Figure.Status.FAILED) | Q(error__startswith=DESCRIBE_ERROR_PREFIX)
    )
    counts = Figure.objects.filter(pk__in=figure_ids).aggregate(
        total=Count("id"),
        described=Count("id", filter=described),
        failed=Count("id", filter=failed),
    )
    return DescribeProgress(
        total=counts["total"], described=counts["described"], failed=counts["failed"]
    )
