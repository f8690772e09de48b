"""gunicorn settings of the web process: `make demo`, the Docker image and benchmarks/load.py
(`gunicorn -c python:patentsearch.gunicorn_conf patentsearch.wsgi`).

A search spends most of its time in PyTorch encoding the query drawing, which holds one core
for tens of milliseconds. So: one worker process per core, each with one thread (gunicorn's sync
worker) and PyTorch on its share of the cores (RETRIEVAL_TORCH_THREADS, see
retrieval/ml/runtime.py). With 16 concurrent examiners on the 2-core machine, 2 workers x 1
thread answered the most queries with the shortest tail; more threads per worker added no
throughput and let requests starve (p95 3.6 s against 13.7 s with 2 threads and 29 s with 4;
docs/scaling.md). The sync worker wants a buffering proxy in front (Caddy in docker/). Override
with WEB_CONCURRENCY (workers), PATENTSEARCH_WEB_THREADS and RETRIEVAL_TORCH_THREADS.
"""

from __future__ import annotations

import logging
import os

cores = os.cpu_count() or 1
workers = int(os.environ.get("WEB_CONCURRENCY", str(cores)))
threads = int(os.environ.get("PATENTSEARCH_WEB_THREADS", "1"))
timeout = 300
# Each worker's share of the cores for PyTorch; read by the settings in every worker.
os.environ.setdefault("RETRIEVAL_TORCH_THREADS", str(max(1, cores // max(1, workers))))


def post_worker_init(worker) -> None:
    """Load the active model once per worker before it takes requests: the first examiner of
    each worker would otherwise wait seconds for it. Where an upgrade changed the model's weights,
    start encoding its figures again now rather than at the next sweep (once, whichever worker
    comes first: retrieval.services.encoding.model_follow_checkpoint). A worker that cannot (no
    database yet) starts anyway and loads the model with its first search."""
    from retrieval.selectors.models import active_model
    from retrieval.selectors.search import search_warm_up
    from retrieval.services.encoding import model_follow_checkpoint

    log = logging.getLogger("gunicorn.error")
    try:
        name = search_warm_up()
        model = active_model()
        queued = model_follow_checkpoint(model=model) if model is not None else None
    except Exception as exc:  # noqa: BLE001 - serving without a warm model beats not serving
        log.warning("Model warm-up skipped: %s", exc)
        return
    if name:
        log.info("Worker %s: model %s loaded", worker.pid, name)
    if queued is not None:
        log.warning("Model %s has new weights: %d figures queued for encoding again", name, queued)
