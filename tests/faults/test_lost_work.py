"""Nothing is lost when the broker is down or a worker dies mid-batch (issue 9, 2/3).

Real servers only: the test's embedded Redis is shut down and started again; a real prefork
worker's child process is killed with SIGKILL while it encodes.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from patentsearch import embedded_redis
from patentsearch.celery import app
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Figure, FigureEmbedding, FigureSearchText
from retrieval.selectors.search_text import search_texts_missing
from tests.conftest import wait_for
from tests.drawings import small_corpus
from tests.faults.helpers import start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.timeout(600)]


def _broker() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _broker_answers() -> bool:
    try:
        return bool(_broker().ping())
    except redis.RedisError:
        return False


@pytest.fixture
def broker_stopped(transactional_db):
    """Shut the real embedded broker down (saving its data); start it again afterwards."""
    app.control.purge()
    try:
        _broker().shutdown(save=True)
    except redis.ConnectionError:
        pass  # it closes the connection before answering
    wait_for(lambda: not _broker_answers(), timeout=30)
    yield
    _restart_broker()


def _restart_broker() -> None:
    if not _broker_answers():
        embedded_redis.start(Path(settings.VAR_DIR) / "redis")
    wait_for(_broker_answers, timeout=30)


def test_ingest_with_the_broker_down_is_recovered_by_the_sweep(tmp_path, active_model, broker_stopped):
    root = small_corpus(tmp_path / "offline", patents=2, views=3)
    out, err = StringIO(), StringIO()
    call_command("ingest_corpus", str(root), stdout=out, stderr=err, verbosity=0)
    assert "6 figures added" in out.getvalue()
    assert "could not be reached: 6 figures are saved but not queued" in err.getvalue()
    assert "encode_missing" in err.getvalue()
    # ingest again: the figures are skipped, but their lost encoding is queued again (and still
    # cannot be, so it says so once more)
    again = corpus_ingest(path=root)
    assert (again.figures_added, again.figures_skipped, again.figures_requeued) == (0, 6, 6)
    assert again.figures_not_queued == 6
    assert FigureEmbedding.objects.count() == 0

    _restart_broker()
    worker = start_worker("-Q", "default,gpu", "--pool", "solo", "-B",
                          env={"RETRIEVAL_SWEEP_SECONDS": "2"})
    try:
        wait_for(lambda: FigureEmbedding.objects.filter(model=active_model).count() == 6, timeout=180)
        wait_for(lambda: not search_texts_missing(), timeout=180)  # the text rows too: text queries find them
    finally:
        stop_worker(worker)
    assert not Figure.objects.filter(encode_queued_at__isnull=True).exists()
    assert not Figure.objects.filter(text_queued_at__isnull=True).exists()
    assert FigureSearchText.objects.count() == 6


def test_encode_missing_queues_every_figure_without_a_vector(tmp_path, active_model, broker_stopped):
    ids = corpus_ingest(path=small_corpus(tmp_path / "offline", patents=1, views=3)).figure_ids
    with pytest.raises(Exception, match="could not be queued: the broker"):
        call_command("encode_missing", stdout=StringIO(), stderr=StringIO())
    _restart_broker()
    out = StringIO()
    call_command("encode_missing", stdout=out)
    assert "Queued 3 figures" in out.getvalue() and "3 were lost" in out.getvalue()
    assert "the rebuild of 3 text rows that were missing" in out.getvalue()
    assert not Figure.objects.filter(pk__in=ids, encode_queued_at__isnull=True).exists()
    assert not Figure.objects.filter(pk__in=ids, text_queued_at__isnull=True).exists()
    assert _broker().llen("gpu") == 1  # one batch waits for a gpu worker
    app.control.purge()


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path, active_model, transactional_db, settings):
    app.control.purge()
    settings.RETRIEVAL_ENCODE_BATCH_SIZE = 64  # one batch
    result = corpus_ingest(path=small_corpus(tmp_path / "big", patents=12, views=5))
    ids = result.figure_ids
    assert len(ids) == 60
    # Another session holds the vector table, so the batch computes its vectors and then waits
    # to write them: the worker is certainly mid-batch when it is killed, however fast it is.
    with _vector_table_locked() as (blocked_writers, end_blocked_writers):
        worker = start_worker("-Q", "gpu", "--pool", "prefork", "--concurrency", "1")
        try:
            child_pid = _pid_running_the_batch()
            wait_for(lambda: blocked_writers() >= 1, timeout=240)
            os.kill(child_pid, signal.SIGKILL)
            # the dead process's pending INSERT must not finish on its own once the lock goes:
            # only a redelivered message may write these vectors
            end_blocked_writers()
            assert FigureEmbedding.objects.filter(figure_id__in=ids).count() == 0
        finally:
            stop_worker(worker)
    replacement = start_worker("-Q", "gpu", "--pool", "solo")
    try:
        wait_for(lambda: FigureEmbedding.objects.filter(figure_id__in=ids).count() == 60, timeout=240)
    finally:
        stop_worker(replacement)
    rows = FigureEmbedding.objects.filter(figure_id__in=ids, model=active_model)
    assert sorted(rows.values_list("figure_id", flat=True)) == sorted(ids)  # each exactly once


@contextmanager
def _vector_table_locked():
    """Hold an EXCLUSIVE lock on the vector table (reads go on, writes wait) from a connection
    of its own; yields functions that count, and end, the sessions waiting on it to write."""
    from django.db import connection

    table = FigureEmbedding._meta.db_table
    params = connection.get_connection_params()
    with psycopg.connect(**params) as blocker, psycopg.connect(**params, autocommit=True) as watcher:
        blocker.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

        waiting = "FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s"

        def blocked_writers() -> int:
            return watcher.execute(f"SELECT count(*) {waiting}", [f"INSERT INTO {table}%"]).fetchone()[0]

        def end_blocked_writers() -> None:
            watcher.execute(f"SELECT pg_terminate_backend(pid) {waiting}", [f"INSERT INTO {table}%"])

        try:
            yield blocked_writers, end_blocked_writers
        finally:
            blocker.rollback()


def _pid_running_the_batch(timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for tasks in (app.control.inspect(timeout=1).active() or {}).values():
            for task in tasks:
                if task["name"] == "retrieval.figure_encode_batch" and task.get("worker_pid"):
                    return int(task["worker_pid"])
        time.sleep(0.1)
    raise AssertionError("the worker never started the batch")
