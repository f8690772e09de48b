"""Helpers shared by the benchmarks: a clean database, timers, memory."""

from __future__ import annotations

import platform
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from django.core.management import call_command


def fresh_database() -> None:
    from retrieval import index
    from retrieval.models import RetrievalModel

    call_command("migrate", interactive=False, verbosity=0)
    for model in RetrievalModel.objects.all():
        index.drop_model_index(model)
    call_command("flush", interactive=False, verbosity=0)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    started = time.perf_counter()
    yield box
    box.append(time.perf_counter() - started)


def report(name: str, value: float, unit: str) -> None:
    print(f"  {name:<48} {value:>10.2f} {unit}")
