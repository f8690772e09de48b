"""retrieval/selectors/encoding.py: which ready figures lack a vector, waiting or lost."""

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from retrieval import index
from retrieval.models import Figure
from retrieval.selectors.encoding import (
    EncodingBacklog,
    encoding_backlog,
    figures_lost,
    figures_without_vector,
)
from tests.retrieval.factories import FigureFactory, VectorModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def model():
    model = VectorModelFactory(dim=8)
    index.ensure_model_index(model)
    return model


def test_ready_figures_without_a_vector_of_this_model_are_missing(model):
    encoded, missing, failed = FigureFactory(), FigureFactory(), FigureFactory(status=Figure.Status.FAILED)
    index.upsert_embeddings(model, [encoded.pk], np.eye(8, dtype=np.float32)[:1])
    other = VectorModelFactory(dim=8)
    assert list(figures_without_vector(model=model)) == [missing]
    assert list(figures_without_vector(model=other)) == [encoded, missing]  # failed: never
    assert list(figures_without_vector(model=model, figure_ids=[encoded.pk, failed.pk])) == []


def test_a_figure_is_waiting_until_its_task_is_older_than_the_requeue_limit(model, settings):
    settings.RETRIEVAL_ENCODE_REQUEUE_AFTER = 3600
    now = timezone.now()
    never_queued = FigureFactory(encode_queued_at=None)
    recent = FigureFactory(encode_queued_at=now - dt.timedelta(minutes=5))
    stale = FigureFactory(encode_queued_at=now - dt.timedelta(hours=2))
    assert set(figures_lost(model=model)) == {never_queued, stale}
    assert list(figures_lost(model=model, figure_ids=[recent.pk])) == []
    assert encoding_backlog(model=model) == EncodingBacklog(waiting=1, lost=2)
