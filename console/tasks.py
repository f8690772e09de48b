"""Celery tasks of the console: thin interfaces that take ids and call one service."""

from celery import shared_task

from retrieval.tasks import TRANSIENT


@shared_task(name="console.job_ingest", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5, acks_late=True)
def job_ingest_task(job_id: int) -> str:
    """Check and ingest the corpus of an ingest job (queue "default"); returns its final state.

    Safe twice: a finished job is skipped, and ingest writes all or nothing and skips figures
    already stored, so a redelivered message adds nothing. Retries only transient database and
    broker errors; a refused corpus ends the job `failed` with its problems, never a retry.
    """
    from console.services.jobs import job_ingest_run

    return job_ingest_run(job_id=job_id)


@shared_task(name="console.job_evaluate", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3, acks_late=True)
def job_evaluate_task(job_id: int) -> str:
    """Evaluate one model on one corpus (queue "default"); returns the job's final state.

    Safe twice: a finished job is skipped; an unfinished one is evaluated again from the start
    (evaluation only reads). Retries only transient database and broker errors.
    """
    from console.services.evaluation import job_evaluate_run

    return job_evaluate_run(job_id=job_id)
