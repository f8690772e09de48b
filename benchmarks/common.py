"""Helpers shared by the benchmarks: a clean database, timers, memory, the results table."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from django.core.management import call_command


def fresh_database() -> None:
    from retrieval import index
    from retrieval.models import RetrievalModel

    call_command("migrate", interactive=False, verbosity=0)
    for model in RetrievalModel.objects.all():
        index.drop_model_index(model)
    call_command("flush", interactive=False, verbosity=0)


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "processor": _cpu_model() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its finished children (ru_maxrss, in MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    started = time.perf_counter()
    yield box
    box.append(time.perf_counter() - started)


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    values = 1000 * np.asarray(seconds)
    return {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 95, 99)}


def report(name: str, value: float, unit: str) -> None:
    print(f"  {name:<58} {value:>10.2f} {unit}", flush=True)
