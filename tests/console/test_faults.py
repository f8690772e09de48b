"""No console job is left `running` when its worker dies: a real worker is killed (SIGKILL) in
the middle of an ingest, and the jobs sweep that Celery beat runs on another worker ends the job
`failed` with the reason; nothing of the unfinished corpus was written."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager

import psycopg
import pytest

from console.models import Job
from console.services.jobs import corpus_folder_accept
from patentsearch.celery import app
from retrieval.models import Corpus, Figure
from tests.conftest import wait_for
from tests.drawings import small_corpus
from tests.faults.helpers import start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.timeout(600)]


@contextmanager
def _table_locked(table: str):
    """Hold an EXCLUSIVE lock on a table from a connection of its own; yields functions that
    count, and end, the sessions waiting on it to insert."""
    from django.db import connection

    params = connection.get_connection_params()
    with psycopg.connect(**params) as blocker, psycopg.connect(**params, autocommit=True) as watcher:
        blocker.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        waiting = "FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s"

        def blocked() -> int:
            return watcher.execute(f"SELECT count(*) {waiting}", [f'INSERT INTO "{table}"%']).fetchone()[0]

        def end_blocked() -> None:
            watcher.execute(f"SELECT pg_terminate_backend(pid) {waiting}", [f'INSERT INTO "{table}"%'])

        try:
            yield blocked, end_blocked
        finally:
            blocker.rollback()


def test_an_ingest_whose_worker_died_ends_failed(transactional_db, tmp_path, settings, active_model):
    app.control.purge()
    settings.CONSOLE_IMPORT_ROOT = tmp_path / "import"
    small_corpus(settings.CONSOLE_IMPORT_ROOT / "doomed", patents=2, views=2)
    worker = start_worker("-Q", "default", "--pool", "solo")  # idle: it answers pings
    with _table_locked(Figure._meta.db_table) as (blocked, end_blocked):
        job = corpus_folder_accept(folder="doomed", name="doomed", user_id=None)  # queued on commit
        try:
            # the ingest has checked every row and waits to write its figures: mid-job for sure
            wait_for(lambda: blocked() >= 1 or Job.objects.get(pk=job.pk).state not in ("queued", "running"), timeout=240)
            assert blocked() >= 1, Job.objects.get(pk=job.pk).message
            assert Job.objects.get(pk=job.pk).state == Job.State.RUNNING
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(30)
            end_blocked()  # the dead worker's INSERT never commits
        finally:
            stop_worker(worker)
    assert Job.objects.get(pk=job.pk).state == Job.State.RUNNING  # nobody will finish it

    sweeper = start_worker("-Q", "default", "--pool", "solo", "-B",
                           env={"CONSOLE_SWEEP_SECONDS": "1", "CONSOLE_JOB_STALE_SECONDS": "3",
                                "RETRIEVAL_SWEEP_SECONDS": "3600"})
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).state != Job.State.RUNNING, timeout=120)
    finally:
        stop_worker(sweeper)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "worker running this job stopped" in job.message
    assert not Corpus.objects.filter(name="doomed").exists() and not Figure.objects.exists()
    shown = Job.objects.get(pk=job.pk)
    assert shown.finished_at is not None
