"""Encoding services that work on "the active model" while none is active yet."""

import pytest

from retrieval.models import Figure, RetrievalModel
from retrieval.services.encoding import encoding_sweep, figures_reencode
from tests.retrieval.factories import FigureFactory

pytestmark = pytest.mark.django_db


def test_without_an_active_model_the_sweep_queues_nothing_and_registers_nothing(
    django_capture_on_commit_callbacks,
):
    FigureFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert encoding_sweep() == 0
    assert callbacks == []
    assert not RetrievalModel.objects.exists()


def test_reencode_without_an_active_model_makes_the_figure_ready_for_the_next_activation(
    django_capture_on_commit_callbacks,
):
    figure = FigureFactory(status=Figure.Status.FAILED, error="image unreadable")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert figures_reencode(figure_ids=[figure.pk]) == 0
    figure.refresh_from_db()
    assert (figure.status, figure.error, callbacks) == (Figure.Status.READY, "", [])
    assert not RetrievalModel.objects.exists()


def test_reencode_queues_under_the_active_model(active_model, django_capture_on_commit_callbacks):
    figure = FigureFactory(status=Figure.Status.FAILED, error="image unreadable")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert figures_reencode(figure_ids=[figure.pk]) == 1
    assert len(callbacks) == 1, "one batch, sent on commit"
