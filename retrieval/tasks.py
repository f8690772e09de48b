"""Celery tasks: thin interfaces that take ids and call one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from retrieval.exceptions import DescriberUnavailableError

TRANSIENT = (OperationalError, InterfaceError, RedisConnectionError)


@shared_task(
    name="retrieval.figure_encode_batch",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def figure_encode_batch_task(figure_ids: list[int], model_id: int) -> int:
    """Encode a batch of figures under a model and upsert their vectors.

    Idempotent (figures already encoded are skipped, vectors are upserted), so a redelivered
    message does no harm. Retries only transient database and broker errors; an image that
    cannot be decoded marks its figure failed instead of retrying.
    """
    from retrieval.services.encoding import figure_encode_batch

    return figure_encode_batch(figure_ids=figure_ids, model_id=model_id)


@shared_task(
    name="retrieval.figure_describe_batch",
    autoretry_for=(*TRANSIENT, DescriberUnavailableError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
    acks_late=True,
)
def figure_describe_batch_task(
    figure_ids: list[int], backend: str | None = None, model_path: str | None = None
) -> int:
    """Write LLM descriptions (FigureText rows) for a batch of figures; runs on queue "llm".
    ``backend``/``model_path``: a backend an admin chose (None: the settings' backend).

    Idempotent (figures already described by the configured backend and model are skipped),
    so a redelivered or retried message does no harm. Retries transient database and broker
    errors and an unreachable or overloaded LLM backend; a figure the model cannot describe is
    recorded on the figure and not retried (see retrieval.services.describe).
    """
    from retrieval.services.describe import figure_describe_batch

    return figure_describe_batch(figure_ids=figure_ids, backend=backend, model_path=model_path)


@shared_task(name="retrieval.encoding_sweep", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def encoding_sweep_task() -> int:
    """Queue encoding of every lost figure again, and the rebuild of every lost text row (Celery
    beat runs it periodically). Returns the figures queued, both counted.

    Safe twice: it only queues figures without a vector or whose text row is missing or outdated
    and not waiting in a queue, and both tasks are idempotent, so a second sweep at worst queues
    a batch whose work is then found done.
    """
    from retrieval.services.encoding import encoding_sweep
    from retrieval.services.search_text import search_texts_sweep

    return encoding_sweep() + search_texts_sweep()


@shared_task(
    name="retrieval.figure_search_text_batch",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def figure_search_text_batch_task(figure_ids: list[int]) -> int:
    """Rebuild the text-channel rows (words, full-text vector, sentence vector) of a batch.

    Idempotent: a row is recomputed from the figure's current texts and upserted, so a
    redelivered message writes the same rows again. Retries only transient database and
    broker errors.
    """
    from retrieval.services.search_text import figure_search_text_batch

    return figure_search_text_batch(figure_ids=figure_ids)
