"""Two requests at once, in tests: each call in its own thread and database connection, released
together past a barrier, with a check slowed down so that both pass it before either writes.
Without the lock or index that a test is about, both would write every time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from patentsearch.exceptions import ApplicationError


def slowed(monkeypatch: pytest.MonkeyPatch, cls: type, method: str, seconds: float = 0.5) -> None:
    """``cls.method`` waits ``seconds`` before it runs: the window between a check and a write."""
    real = getattr(cls, method)

    def slow(self: object, *args: object, **kwargs: object) -> object:
        time.sleep(seconds)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, slow)


def at_once(call: Callable[[], object], times: int = 2) -> list[str]:
    """``call`` run ``times`` at once: each outcome, "done" or the refusal's message, sorted."""
    barrier = threading.Barrier(times)

    def one() -> str:
        barrier.wait()
        try:
            call()
            return "done"
        except ApplicationError as error:
            return error.message
        finally:
            connection.close()

    with ThreadPoolExecutor(times) as pool:
        return sorted(pool.map(lambda _: one(), range(times)))
