"""Process-wide settings of the PyTorch runtime on the CPU.

PyTorch runs each operator on one thread per core by default. That is the fastest for one
process alone on an idle machine, and the slowest where several processes share the cores
(gunicorn workers, Celery workers, other programs): each operator ends at a barrier that waits
for every one of its threads, and a thread the kernel has given to another process holds the
others up. On the shared 2-core development machine a single-drawing forward pass took 1.6 s
with 2 threads against 0.2 s with 1. Give each process its share of the cores instead.
"""

from __future__ import annotations

import threading

import torch

_lock = threading.Lock()
_configured: list[int] = []


def set_cpu_threads(threads: int) -> None:
    """Run PyTorch's CPU operators of this process on ``threads`` threads (0: PyTorch's
    default, one per core). The first call of a process wins; later calls change nothing, so
    that every model of the process sees the same setting.

    Raises:
        ValueError: ``threads`` is negative.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"threads must be a non-negative int, got {threads!r}")
    with _lock:
        if _configured:
            return
        _configured.append(threads)
        if threads:
            torch.set_num_threads(threads)
