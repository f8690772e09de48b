"""Celery tasks of the console: thin interfaces that take ids and call one service."""

from celery import Task, shared_task

from retrieval.tasks import TRANSIENT


class JobTask(Task):
    """A task that runs one console job (its first argument is the job id). When the task fails
    for good (retries spent, e.g. on a database that stays away, or an unexpected error), its
    job ends `failed` with the reason instead of staying `running`."""

    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:  # noqa: ANN001
        from console.services.jobs import job_fail_unfinished

        job_id = args[0] if args else kwargs.get("job_id")
        if job_id is None:
            return
        try:
            job_fail_unfinished(job_id=job_id, reason=f"The worker gave up on this job: {type(exc).__name__}: {exc}")
        except TRANSIENT:
            pass  # the database is still away: the beat sweep (jobs_sweep) fails the job later


@shared_task(name="console.job_ingest", base=JobTask, autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5, acks_late=True)
def job_ingest_task(job_id: int) -> str:
    """Check and ingest the corpus of an ingest job (queue "default"); returns its final state.

    Safe twice: a finished job is skipped, and ingest writes all or nothing and skips figures
    already stored, so a redelivered message adds nothing. Retries only transient database and
    broker errors; a refused corpus ends the job `failed` with its problems, never a retry.
    """
    from console.services.jobs import job_ingest_run

    return job_ingest_run(job_id=job_id)


@shared_task(name="console.job_evaluate", base=JobTask, autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=3, acks_late=True)
def job_evaluate_task(job_id: int) -> str:
    """Evaluate one model on one corpus (queue "default"); returns the job's final state.

    Safe twice: a finished job is skipped; an unfinished one is evaluated again from the start
    (evaluation only reads). Retries only transient database and broker errors.
    """
    from console.services.evaluation import job_evaluate_run

    return job_evaluate_run(job_id=job_id)


@shared_task(name="console.jobs_sweep", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def jobs_sweep_task() -> int:
    """Fail running jobs whose heartbeat is stale (Celery beat runs it periodically).

    Safe twice: a job it failed is no longer running, so a second sweep finds nothing more.
    """
    from console.services.jobs import jobs_sweep

    return jobs_sweep()
