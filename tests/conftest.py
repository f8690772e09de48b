"""Fixtures shared by the whole suite: real PostgreSQL/pgvector, Redis and Celery workers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "design-patents-dev"


def pytest_configure(config: pytest.Config) -> None:
    """The test session's start-up step (settings are loaded by now): start or join the embedded
    servers in var/test; pytest-django makes and migrates the test database itself."""
    from patentsearch import embedded

    embedded.prepare(migrate=False)


@pytest.fixture(scope="session")
def close_stray_connections(django_db_setup: None, django_db_blocker) -> Iterator[None]:  # noqa: ANN001
    """Live-server threads can leave a connection open; close them so the test database drops."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session", autouse=True)
def _remove_test_media() -> Iterator[None]:
    """The test settings give each run a fresh media folder; remove it afterwards."""
    yield
    from django.conf import settings

    if settings.configured and "patentsearch-test-media-" in str(settings.MEDIA_ROOT):
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded random-init ps-tiny checkpoint folder, made once per test session."""
    from retrieval.ml.encoders.factory import init_checkpoint

    return init_checkpoint("ps-tiny", tmp_path_factory.mktemp("ckpt") / "tiny", seed=0, name="test-tiny")


@pytest.fixture(scope="session")
def second_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another seeded ps-tiny checkpoint (seed 1): a second model to register beside the first."""
    from retrieval.ml.encoders.factory import init_checkpoint

    return init_checkpoint("ps-tiny", tmp_path_factory.mktemp("ckpt2") / "tiny", seed=1, name="test-tiny-2")


@pytest.fixture
def active_model(db: None, random_checkpoint: Path):  # noqa: ANN201
    from retrieval.services.models import model_register

    return model_register(spec=str(random_checkpoint), name="test-tiny", activate=True)


@pytest.fixture
def examiner(db: None):  # noqa: ANN201
    from tests.accounts.factories import UserFactory

    return UserFactory(username="ada")


@pytest.fixture
def admin_user(db: None):  # noqa: ANN201 - replaces pytest-django's superuser: an admin role
    from accounts.models import User
    from tests.accounts.factories import UserFactory

    return UserFactory(username="root", role=User.Role.ADMIN)


def api_client(user=None):  # noqa: ANN001, ANN201
    """A DRF test client, logged in as ``user`` when one is given."""
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def examiner_api(examiner):  # noqa: ANN001, ANN201
    return api_client(examiner)


@pytest.fixture
def encoded_corpus(tmp_path: Path, active_model):  # noqa: ANN001, ANN201
    """4 patents × 3 views (USD800000-USD800003, granted 2010-01-05 to 2013-01-05), ingested and
    encoded with the active model; the IngestResult."""
    from retrieval.ingest.pipeline import corpus_ingest
    from retrieval.services.encoding import figure_encode_batch
    from tests.drawings import small_corpus

    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=4, views=3))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    return result


@pytest.fixture
def focus_corpus(tmp_path: Path, active_model):  # noqa: ANN001, ANN201
    """tests.drawings.class_focus_corpus (three D21 patents whose FIG. 1 is the query drawing,
    three D14 ones), ingested and encoded with the active model; the IngestResult."""
    from retrieval.ingest.pipeline import corpus_ingest
    from retrieval.services.encoding import figure_encode_batch
    from tests.drawings import class_focus_corpus

    result = corpus_ingest(path=class_focus_corpus(tmp_path / "focus"))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    return result


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "metadata.csv").exists():
        pytest.skip(f"needs the shared dev data at {SHARED_DATA} (absent on this machine)")
    return SHARED_DATA


def start_worker(*args: str, env: dict[str, str] | None = None, name: str = "") -> subprocess.Popen[bytes]:
    """A real Celery worker process against the test database and broker, once it answers pings.

    ``args`` are the worker's options (queues, pool); ``env`` adds to its environment.
    """
    from django.conf import settings
    from django.db import connection

    from patentsearch.celery import app
    from patentsearch.embedded import database_url

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "patentsearch.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_CACHE_URL": settings.REDIS_CACHE_URL,
        **(env or {}),
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    hostname = name or f"test-{os.getpid()}-{time.monotonic_ns()}"
    command = [celery, "-A", "patentsearch", "worker", "--loglevel", "WARNING", "--hostname", f"{hostname}@%h", *args]
    worker = subprocess.Popen(command, cwd=REPO, env=environment)
    _wait_until_ready(app, worker)
    return worker


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on every queue, against the test database and Redis."""
    from patentsearch.celery import app

    app.control.purge()
    worker = start_worker("-Q", "default,gpu,llm", "--pool", "solo", name=f"test-{os.getpid()}")
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


def _wait_until_ready(app: object, worker: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"celery worker exited with {worker.returncode}")
        if app.control.ping(timeout=0.5):  # type: ignore[attr-defined]
            return
    worker.kill()
    raise RuntimeError("celery worker did not answer within 60 s")


def wait_for(condition, timeout: float = 60, interval: float = 0.2) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def fails_first(error: Exception, times: int = 2):  # noqa: ANN201
    """A stand-in for a batch service (``figure_ids=`` plus any other keywords) that raises
    ``error`` on its first ``times`` calls, then returns how many figures it got.

    Returns:
        ``(service, calls)``: the stand-in and the ``figure_ids`` of each call so far.
    """
    calls: list[list[int]] = []

    def service(*, figure_ids, **_):  # noqa: ANN001, ANN003, ANN202
        calls.append(figure_ids)
        if len(calls) <= times:
            raise error
        return len(figure_ids)

    return service, calls
