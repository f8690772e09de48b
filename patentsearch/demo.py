"""`make demo`: every process on one machine, a sample corpus, the app on http://127.0.0.1:PORT.

Starts (or joins) the embedded PostgreSQL and Redis, migrates, creates an admin and an examiner
account (credentials printed once and kept in var/demo-credentials.txt), starts Celery workers
for the queues default, gpu and llm, Celery beat (the periodic encoding sweep) and the web
server, then ingests the demo corpus with a
progress bar. Ctrl-C stops everything it started. Running it again reuses the data.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patentsearch.settings.base")
os.environ.setdefault("PATENTSEARCH_HTTPS", "false")  # plain http on 127.0.0.1 (see _child_env)
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from patentsearch import embedded  # noqa: E402

SAMPLE_PATENTS = 150
WORKERS = (("default", 2), ("gpu", 1), ("llm", 2))


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    stop_on_signals()
    embedded.prepare()
    _ensure_accounts()
    env = _child_env()
    children = [_start_worker(queue, concurrency, env) for queue, concurrency in WORKERS]
    children.append(_start_beat(env))
    children.append(_start_web(port, env))
    try:
        time.sleep(2)
        _ingest_demo_corpus()
        print(f"\nPatentSearch is running on http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
        print(f"Add more people as admin on http://127.0.0.1:{port}/console/users/\n")
        while all(child.poll() is None for child in children):
            time.sleep(1)
        print("A process stopped unexpectedly; shutting down.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…")
        return 0
    finally:
        _stop(children)


def stop_on_signals() -> None:
    """Ctrl-C, `kill PID` and a closed terminal all stop everything the demo started: SIGTERM and
    SIGHUP end it as SIGINT does, and SIGINT is taken even where the shell that started the demo
    in the background set it to be ignored (Python then installs no handler of its own)."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


def _child_env() -> dict[str, str]:
    """Children join this process's servers instead of starting their own."""
    from patentsearch.embedded import database_url

    return {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL") or database_url(settings.DATABASES["default"]),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_CACHE_URL": settings.REDIS_CACHE_URL,
        "PYTHONUNBUFFERED": "1",
        # the demo serves plain http on 127.0.0.1: no https redirect, no secure-only cookies
        "PATENTSEARCH_HTTPS": os.environ.get("PATENTSEARCH_HTTPS", "false"),
    }


def _ensure_accounts() -> None:
    from accounts.models import User
    from accounts.services import user_create

    created = []
    for username, role in (("admin", User.Role.ADMIN), ("examiner", User.Role.EXAMINER)):
        if not User.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(9)
            user_create(username=username, password=password, role=role)
            created.append(f"{username:<9} {password}   ({role})")
    if created:
        path = Path(settings.VAR_DIR) / "demo-credentials.txt"
        path.write_text("\n".join(created) + "\n")
        path.chmod(0o600)
        print(f"Accounts created (also saved in {path}):")
        print("\n".join(f"  {line}" for line in created))


def _start_worker(queue: str, concurrency: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "celery", "-A", "patentsearch", "--quiet", "worker", "-Q", queue,
        "--concurrency", str(concurrency), "--prefetch-multiplier", "1",
        "--hostname", f"{queue}@%h", "--loglevel", "WARNING",
    ]
    return subprocess.Popen(command, env=env)


def _start_beat(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Celery beat: queues the periodic encoding sweep (recovers figures whose tasks were lost)."""
    command = [sys.executable, "-m", "celery", "-A", "patentsearch", "--quiet", "beat", "--loglevel", "WARNING"]
    return subprocess.Popen(command, env=env)


def _start_web(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "gunicorn", "patentsearch.wsgi", "--bind", f"127.0.0.1:{port}",
        "-c", "python:patentsearch.gunicorn_conf", "--log-level", "warning",
    ]
    return subprocess.Popen(command, env=env)


def _ingest_demo_corpus() -> None:
    from retrieval.models import Corpus
    from retrieval.services.models import model_ensure_active

    path = os.environ.get("DEMO_CORPUS")
    if path:
        corpus_path, name = Path(path).resolve(), Path(path).name
    else:
        corpus_path, name = _sample_corpus(), "sample"
    if Corpus.objects.filter(name=name, figures__isnull=False).exists():
        model_ensure_active()  # after an upgrade that changed its weights: every figure again first
        print(f"Corpus {name!r} is already ingested; waiting for its encoding.")
        call_command("encoding_progress", name)
        return
    call_command("ingest_corpus", str(corpus_path), "--name", name, "--wait")


def _sample_corpus() -> Path:
    from retrieval.ingest.corpus_source import is_corpus_folder

    out = Path(settings.VAR_DIR) / f"sample-corpus-{SAMPLE_PATENTS}"
    if not is_corpus_folder(out):
        print(f"Generating a sample corpus of {SAMPLE_PATENTS} synthetic patents in {out} …")
        call_command("make_sample_corpus", str(out), "--patents", str(SAMPLE_PATENTS), "--seed", "0")
    return out


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


if __name__ == "__main__":
    sys.exit(main())
