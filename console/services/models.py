"""Model versions from the console: register (and encode the catalogue beside the active model),
activate atomically (refused below full coverage unless forced), roll back, delete.

Built on retrieval.services.models; the console adds the coverage rule and the activation record
(console.models.ModelActivation) that rollback reads.
"""

from __future__ import annotations

from django.db import transaction

from console.exceptions import ConsoleInputError
from console.models import Job, ModelActivation
from console.selectors.jobs import last_activation
from console.services.jobs import reindex_job_create
from retrieval.models import RetrievalModel
from retrieval.selectors.encoding import model_coverage
from retrieval.services.encoding import model_encode_missing
from retrieval.services.models import model_activate, model_delete, model_register


@transaction.atomic
def console_model_register(*, spec: str, name: str | None, user_id: int | None) -> tuple[RetrievalModel, Job]:
    """Register a checkpoint folder or shipped name, inactive, and queue encoding of every ready
    figure under it (on commit); the active model keeps serving searches meanwhile."""
    spec = spec.strip()
    if not spec:
        raise ConsoleInputError("Give a checkpoint folder or a shipped model name.", {"field": "checkpoint"})
    model = model_register(spec=spec, name=(name or "").strip() or None, activate=False)
    model_encode_missing(model=model)
    return model, reindex_job_create(model_id=model.pk, user_id=user_id)


@transaction.atomic
def console_model_activate(
    *, model: RetrievalModel, user_id: int | None, force: bool = False, rollback: bool = False
) -> ModelActivation:
    """Make this model the one search uses, in one transaction. Refused while some ready figure
    has no vector under it, unless forced (the switch is then recorded as forced)."""
    locked = list(RetrievalModel.objects.select_for_update().order_by("pk"))
    model = next((m for m in locked if m.pk == model.pk), None)
    if model is None:
        raise ConsoleInputError("That model has been deleted.")
    if model.is_active:
        raise ConsoleInputError(f"{model.name} is the active model already.", {"model": model.pk})
    coverage = model_coverage(model)
    if not coverage.complete and not force:
        raise ConsoleInputError(
            f"{model.name} has {coverage.said()}; wait for encoding to finish, or force the switch.",
            {"model": model.pk, "encoded": coverage.encoded, "total": coverage.total},
        )
    previous = next((m for m in locked if m.is_active), None)
    model_activate(model=model)
    return ModelActivation.objects.create(
        model=model, previous=previous, forced=not coverage.complete, coverage=coverage.fraction,
        rollback=rollback, created_by_id=user_id,
    )


def console_model_rollback(*, model: RetrievalModel, user_id: int | None) -> ModelActivation:
    """Switch from the active model back to the one it replaced (forced if that one now misses
    vectors for figures added since: going back must always be possible)."""
    activation = last_activation()
    if not model.is_active:
        raise ConsoleInputError(f"{model.name} is not the active model; only the active one rolls back.")
    if activation is None or activation.model_id != model.pk or activation.previous is None:
        raise ConsoleInputError(f"There is no earlier model to roll back to from {model.name}.")
    return console_model_activate(model=activation.previous, user_id=user_id, force=True, rollback=True)


def console_model_delete(*, model: RetrievalModel) -> None:
    """Delete an inactive model with its vectors and index."""
    from retrieval.exceptions import ModelRegistrationError

    try:
        model_delete(model=model)
    except ModelRegistrationError as exc:
        raise ConsoleInputError(exc.message, {"model": model.pk}) from exc
