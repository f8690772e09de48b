"""The model registry as search and the pages read it: which model is active."""

from __future__ import annotations

from retrieval.exceptions import NoActiveModelError
from retrieval.models import RetrievalModel


def active_model() -> RetrievalModel | None:
    """The model search uses; None before any is activated (the one lookup of it)."""
    return RetrievalModel.objects.filter(is_active=True).first()


def model_get_active() -> RetrievalModel:
    """The active model, for work that cannot go on without one.

    Raises:
        NoActiveModelError: none is active yet (a fresh install before its first ingest).
    """
    model = active_model()
    if model is None:
        raise NoActiveModelError("No model is active yet: ingest a corpus or register a model first.")
    return model
