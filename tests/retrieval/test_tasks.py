"""The encoding task's retry policy. These run the task eagerly with Task.apply(): the policy is
a property of the task object, and a worker process adds nothing to what is checked here (the
worker itself is exercised in test_worker.py)."""

import pytest
from django.db import OperationalError

from retrieval import tasks
from retrieval.services import encoding
from tests.conftest import fails_first

pytestmark = pytest.mark.django_db


def test_transient_database_errors_are_retried(monkeypatch):
    flaky, calls = fails_first(OperationalError("server closed the connection unexpectedly"))
    monkeypatch.setattr(encoding, "figure_encode_batch", flaky)
    monkeypatch.setattr(tasks.figure_encode_batch_task, "retry_backoff", False)
    result = tasks.figure_encode_batch_task.apply(args=([1, 2], 7))
    assert result.get() == 2 and len(calls) == 3


def test_other_errors_are_not_retried(monkeypatch):
    calls = []

    def broken(*, figure_ids, model_id):
        calls.append(figure_ids)
        raise ValueError("a bug, not a passing fault")

    monkeypatch.setattr(encoding, "figure_encode_batch", broken)
    result = tasks.figure_encode_batch_task.apply(args=([1], 7))
    assert isinstance(result.result, ValueError) and len(calls) == 1


def test_missing_model_or_figures_are_skipped(active_model):
    assert tasks.figure_encode_batch_task.apply(args=([999_999], active_model.pk)).get() == 0
    assert tasks.figure_encode_batch_task.apply(args=([1], 999_999)).get() == 0
