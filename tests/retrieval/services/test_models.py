"""retrieval/services/models.py: register, activate, delete, and the active model on a fresh install."""

import numpy as np
import pytest
from django.db import connection

from retrieval import index
from retrieval.exceptions import ModelRegistrationError
from retrieval.models import FigureEmbedding, RetrievalModel
from retrieval.services.models import (
    PLACEHOLDER_NAME,
    model_activate,
    model_delete,
    model_ensure_active,
    model_register,
)
from tests.retrieval.factories import FigureFactory

pytestmark = pytest.mark.django_db


def _index_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        return cursor.fetchone() is not None


def test_register_checks_the_checkpoint_and_refuses_a_second_model_of_the_same_name(random_checkpoint):
    model = model_register(spec=str(random_checkpoint), name="tiny")
    assert not model.is_active and model.dim > 0 and model.version
    assert model.checkpoint == str(random_checkpoint.resolve())
    assert _index_exists(index.index_name(model))
    with pytest.raises(ModelRegistrationError, match="already registered"):
        model_register(spec=str(random_checkpoint), name="tiny")
    assert RetrievalModel.objects.count() == 1


def test_activating_a_model_deactivates_the_other_and_queues_its_missing_figures(
    random_checkpoint, django_capture_on_commit_callbacks
):
    first = model_register(spec=str(random_checkpoint), name="first", activate=True)
    second = model_register(spec=str(random_checkpoint), name="second")
    FigureFactory.create_batch(3)
    with django_capture_on_commit_callbacks() as queued:
        model_activate(model=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_active and not first.is_active
    assert list(RetrievalModel.objects.filter(is_active=True)) == [second]
    assert queued  # the three figures without a vector of the new model go to the encoders


def test_the_active_model_cannot_be_deleted_and_another_goes_with_its_vectors(random_checkpoint):
    active = model_register(spec=str(random_checkpoint), name="active", activate=True)
    old = model_register(spec=str(random_checkpoint), name="old")
    figure = FigureFactory()
    index.upsert_embeddings(old, [figure.pk], np.ones((1, old.dim), dtype=np.float32) / np.sqrt(old.dim))
    with pytest.raises(ModelRegistrationError, match="Activate another model"):
        model_delete(model=active)
    assert RetrievalModel.objects.filter(pk=active.pk).exists()

    old_index = index.index_name(old)
    assert _index_exists(old_index)
    model_delete(model=old)
    assert not RetrievalModel.objects.filter(pk=old.pk).exists()
    assert not FigureEmbedding.objects.filter(figure=figure).exists()
    assert not _index_exists(old_index)


def test_ensure_active_returns_the_active_model(active_model):
    assert model_ensure_active() == active_model
    assert RetrievalModel.objects.count() == 1


def test_ensure_active_on_a_fresh_install_registers_the_default_model(random_checkpoint, settings):
    settings.RETRIEVAL_DEFAULT_MODEL = str(random_checkpoint)
    model = model_ensure_active()
    assert model.is_active and model.checkpoint == str(random_checkpoint.resolve())
    assert model_ensure_active() == model  # once
    assert RetrievalModel.objects.count() == 1


def test_ensure_active_without_a_default_makes_the_seeded_placeholder(settings, tmp_path):
    settings.RETRIEVAL_DEFAULT_MODEL = ""
    settings.RETRIEVAL_MODELS_DIR = tmp_path / "models"
    model = model_ensure_active()
    assert model.is_active and model.name == PLACEHOLDER_NAME
    assert model.checkpoint.startswith(str(tmp_path / "models"))
