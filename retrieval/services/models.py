"""The model registry: register encoder versions, activate one, bootstrap the default."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError

from retrieval import index, inference
from retrieval.exceptions import ModelRegistrationError
from retrieval.models import RetrievalModel
from retrieval.selectors.models import active_model
from retrieval.services.encoding import model_encode_missing, model_follow_checkpoint

logger = logging.getLogger(__name__)

PLACEHOLDER_NAME = "placeholder-random-ps-tiny"
PLACEHOLDER_ARCHITECTURE = "ps-tiny"


def _normalise_spec(spec: str) -> str:
    path = Path(spec).expanduser()
    try:
        exists = path.exists()
    except OSError:  # e.g. a name longer than a path may be: no folder, so a name for the loader to judge
        exists = False
    return str(path.resolve()) if exists else spec


@transaction.atomic
def model_register(*, spec: str, name: str | None = None, activate: bool = False) -> RetrievalModel:
    """Register a checkpoint folder or hub name as a model (loading it once to check it). Its name
    is the one given, else a shipped model's own name ("classical" stays "classical", so every
    command that takes a model by name finds it), else the name the checkpoint carries."""
    spec = _normalise_spec(spec)
    encoder = inference.load_encoder(spec)
    name = name or (spec if inference.is_shipped_name(spec) else encoder.name)
    if RetrievalModel.objects.filter(name=name).exists():
        raise ModelRegistrationError(f"A model named {name!r} is already registered.")
    model = RetrievalModel.objects.create(
        name=name, architecture=getattr(encoder, "architecture", encoder.name), dim=encoder.dim,
        checkpoint=spec, version=encoder.version,
    )
    index.ensure_model_index(model)
    if activate:
        model_activate(model=model)
    return model


@transaction.atomic
def model_activate(*, model: RetrievalModel) -> RetrievalModel:
    """Make this the model search uses, and encode every figure it has no vector for yet."""
    RetrievalModel.objects.select_for_update().filter(is_active=True).exclude(pk=model.pk).update(
        is_active=False
    )
    model.is_active = True
    model.save(update_fields=["is_active"])
    index.ensure_model_index(model)
    model_encode_missing(model=model)
    return model


def model_ensure_active() -> RetrievalModel:
    """The active model; on a fresh install, register and activate the default one first. A model
    whose checkpoint changed since its figures were encoded starts again
    (:func:`model_follow_checkpoint`)."""
    active = active_model()
    if active is not None:
        model_follow_checkpoint(model=active)
        return active
    with transaction.atomic():
        RetrievalModel.objects.select_for_update().all().exists()
        active = active_model()
        if active is not None:
            return active
        return _bootstrap_default()


def _bootstrap_default() -> RetrievalModel:
    spec, name = settings.RETRIEVAL_DEFAULT_MODEL, None
    if spec and not inference.model_available(spec):
        logger.warning("The default model %r is not available (not built?)", spec)
        spec = ""
    if not spec:
        folder = Path(settings.RETRIEVAL_MODELS_DIR) / f"{PLACEHOLDER_NAME}-seed0"
        spec = str(inference.make_random_checkpoint(
            folder, architecture=PLACEHOLDER_ARCHITECTURE, seed=0, name=PLACEHOLDER_NAME
        ))
        name = PLACEHOLDER_NAME
        logger.warning("No trained model is configured: using %s (random weights)", PLACEHOLDER_NAME)
    existing = RetrievalModel.objects.filter(checkpoint=_normalise_spec(spec)).first()
    if existing is not None:
        return model_activate(model=existing)
    return model_register(spec=spec, name=name, activate=True)


@transaction.atomic
def model_delete(*, model: RetrievalModel) -> None:
    """Remove a model, its vectors and its index. The active model cannot be removed, nor one that
    other records keep (a study's arm): then nothing is removed, its index included."""
    if model.is_active:
        raise ModelRegistrationError("Activate another model before deleting the active one.")
    index.drop_model_index(model)  # in this transaction: undone if the delete is refused
    try:
        model.delete()
    except ProtectedError as exc:
        kinds = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects})
        raise ModelRegistrationError(
            f"Model {model.name!r} cannot be deleted while {len(exc.protected_objects)} "
            f"{' and '.join(kinds)} record(s) refer to it."
        ) from exc
