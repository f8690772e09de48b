"""Sending figure ids to Celery in batches once the current transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError

from retrieval.models import Figure

logger = logging.getLogger(__name__)

# The broker cannot be reached: the rows are committed already, so the batch is logged and left
# for whoever recovers it (for encoding: the sweep task and `manage.py encode_missing`).
BROKER_ERRORS = (BrokerError, RedisConnectionError, ConnectionError)


def enqueue_on_commit(
    figure_ids: Sequence[int], size: int, send: Callable[[list[int]], object], *, stamp: str | None = None
) -> int:
    """Call ``send(batch)`` for each batch of at most ``size`` ids after the commit; returns the
    number of batches. A batch the broker refuses is logged, not raised (see BROKER_ERRORS).
    ``stamp``: a Figure field set to the time once the broker has taken the batch (what tells a
    waiting figure from a lost one: retrieval.selectors.encoding)."""
    batches = [list(figure_ids[i : i + size]) for i in range(0, len(figure_ids), size)]
    for batch in batches:
        transaction.on_commit(lambda batch=batch: _send(send, batch, stamp))
    return len(batches)


def _send(send: Callable[[list[int]], object], batch: list[int], stamp: str | None) -> None:
    try:
        send(batch)
    except BROKER_ERRORS as exc:
        logger.error("The broker is unreachable; %d figures were not queued: %s", len(batch), exc)
        return
    if stamp is not None:
        Figure.objects.filter(pk__in=batch).update(**{stamp: timezone.now()})
