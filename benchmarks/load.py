"""16 examiners at once: image queries against a real gunicorn server for a fixed time.

Each simulated examiner is a thread with its own HTTP connection that posts a drawing page to
POST /api/v1/search/, waits for the answer and posts again, for the whole duration (closed loop,
no think time: the worst case of 16 people pressing search together). The server runs the
configuration `make demo` and the Docker image use (patentsearch/gunicorn_conf.py: workers x
threads, torch threads per worker); --gunicorn-workers and --gunicorn-threads try others.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from benchmarks.common import percentiles_ms, report

REPO = Path(__file__).resolve().parents[1]


def run(*, page: bytes, token: str, users: int, seconds: float, workers: int | None, threads: int | None,
        results: dict[str, object]) -> None:
    port = _free_port()
    workers, threads, torch_threads = _configuration(workers, threads)
    print(f"Load: {users} concurrent examiners, image queries for {seconds:.0f} s "
          f"(gunicorn {workers} workers x {threads} threads, {torch_threads} torch thread(s) each)", flush=True)
    env = {**os.environ, "WEB_CONCURRENCY": str(workers), "PATENTSEARCH_WEB_THREADS": str(threads),
           "RETRIEVAL_TORCH_THREADS": str(torch_threads)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:patentsearch.gunicorn_conf", "patentsearch.wsgi",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=REPO, env=env,
    )
    try:
        _wait_for(port, server)
        body, content_type = _multipart(page)
        headers = {"Authorization": f"Token {token}", "Content-Type": content_type,
                   "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
        for _ in range(workers * 2):  # load the model in every worker before timing
            _post(port, body, headers)
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def examiner() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    status = _post(port, body, headers, connection)
                except (OSError, http.client.HTTPException) as exc:
                    status, connection = repr(exc), http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    (latencies.append(time.perf_counter() - started) if status == 200 else errors.append(str(status)))

        started = time.monotonic()
        pool = [threading.Thread(target=examiner) for _ in range(users)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    p = percentiles_ms(latencies) if latencies else {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    report("queries answered per second", len(latencies) / elapsed, "q/s")
    report("latency p50 under load", p["p50"], "ms")
    report("latency p95 under load", p["p95"], "ms")
    report("errors", float(len(errors)), "")
    results["load"] = {"users": users, "seconds": round(elapsed, 1), "workers": workers, "threads": threads,
                       "torch_threads": torch_threads,
                       "queries": len(latencies), "queries_per_s": round(len(latencies) / elapsed, 2),
                       **p, "errors": len(errors), "error_examples": sorted(set(errors))[:5],
                       "mean_ms": round(1000 * float(np.mean(latencies)), 2) if latencies else None}


def _configuration(workers: int | None, threads: int | None) -> tuple[int, int, int]:
    """gunicorn workers, threads and torch threads per worker: patentsearch/gunicorn_conf.py's
    (what `make demo` and the Docker image run) unless the command line chose others."""
    saved = {name: os.environ.get(name) for name in ("WEB_CONCURRENCY", "PATENTSEARCH_WEB_THREADS",
                                                      "RETRIEVAL_TORCH_THREADS")}
    try:
        if workers is not None:
            os.environ["WEB_CONCURRENCY"] = str(workers)
        if threads is not None:
            os.environ["PATENTSEARCH_WEB_THREADS"] = str(threads)
        os.environ.pop("RETRIEVAL_TORCH_THREADS", None)
        import importlib

        import patentsearch.gunicorn_conf as conf

        conf = importlib.reload(conf)
        return conf.workers, conf.threads, int(os.environ["RETRIEVAL_TORCH_THREADS"])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _post(port: int, body: bytes, headers: dict[str, str], connection: http.client.HTTPConnection | None = None) -> int:
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", "/api/v1/search/", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        if own:
            connection.close()


def _multipart(page: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\n20\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"page.png\"\r\n"
        "Content-Type: image/png\r\n\r\n"
    ).encode() + page + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, timeout: float = 120) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start within 120 s")
