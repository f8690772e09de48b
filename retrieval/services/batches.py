"""Sending figure ids to Celery in batches once the current transaction commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import transaction


def enqueue_on_commit(figure_ids: Sequence[int], size: int, send: Callable[[list[int]], object]) -> int:
    """Call ``send(batch)`` for each batch of at most ``size`` ids after the commit; returns the
    number of batches."""
    batches = [list(figure_ids[i : i + size]) for i in range(0, len(figure_ids), size)]
    for batch in batches:
        transaction.on_commit(lambda batch=batch: send(batch))
    return len(batches)
