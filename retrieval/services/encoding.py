"""Encoding figures into vectors: enqueue in batches on commit; encode a batch idempotently; start
again under a model whose weights changed."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from PIL import Image

from retrieval import index, inference
from retrieval.exceptions import InvalidImageError, ModelRegistrationError
from retrieval.images import decode_first_page
from retrieval.models import Figure, RetrievalModel
from retrieval.selectors.encoding import figures_lost, figures_without_vector
from retrieval.selectors.models import active_model
from retrieval.services.batches import enqueue_on_commit
from retrieval.services.work_gates import ENCODE, figures_held
from retrieval.tasks import figure_encode_batch_task

logger = logging.getLogger(__name__)


def figures_encode_enqueue(*, figure_ids: Sequence[int], model: RetrievalModel) -> int:
    """Queue encoding of these figures under the model once the transaction commits."""
    if not figure_ids:
        return 0
    model_id = model.id
    return enqueue_on_commit(figure_ids, settings.RETRIEVAL_ENCODE_BATCH_SIZE,
                             lambda batch: figure_encode_batch_task.delay(batch, model_id), stamp="encode_queued_at")


def model_encode_missing(*, model: RetrievalModel, queued_before: dt.datetime | None = None) -> int:
    """Queue every ready figure that has no vector under this model, waiting or lost, except
    those the broker took at ``queued_before`` or later (the caller's own batches: after an
    upgrade, ``encode_missing`` follows the new weights, which queues every figure, and then
    queued every figure a second time). Returns the figure count."""
    ids = list(figures_without_vector(model=model, queued_before=queued_before).values_list("id", flat=True))
    figures_encode_enqueue(figure_ids=ids, model=model)
    return len(ids)


def figures_reencode(*, figure_ids: Sequence[int]) -> int:
    """Their images changed (an admin replaced one): drop their vectors under every model, make
    them ready again and queue them under the active model on commit. Returns the batches
    queued: none while no model is active (activating one encodes every ready figure)."""
    index.delete_embeddings(figure_ids=figure_ids)
    Figure.objects.filter(pk__in=figure_ids).update(status=Figure.Status.READY, error="", encode_queued_at=None)
    model = active_model()
    return figures_encode_enqueue(figure_ids=figure_ids, model=model) if model is not None else 0


@transaction.atomic
def model_follow_checkpoint(*, model: RetrievalModel) -> int | None:
    """Start again with a model whose checkpoint now loads as another version: an upgrade that
    retrained the shipped models, or weights replaced in the folder. Its stored vectors are of
    the old weights, and a query vector of the new ones must never be compared with them, so
    they are dropped, the new version recorded and the figures that had one queued (on commit).

    Returns the figures queued, or None when the version is the one recorded. Safe twice and
    from several processes at once: the row is locked and the version read again under the lock,
    so only the first caller finds a difference.

    Raises:
        ModelRegistrationError: the checkpoint cannot be loaded at all.
    """
    version = inference.encoder_version(model.checkpoint)
    if model.version == version:
        return None
    locked = RetrievalModel.objects.select_for_update().get(pk=model.pk)
    if locked.version == version:
        model.version = version
        return None
    dropped = index.delete_model_embeddings(locked)
    logger.warning(
        "Model %s now loads as %s (its vectors were of %s): %d vectors dropped, their figures queued again",
        locked.name, version, locked.version, len(dropped),
    )
    locked.version = model.version = version
    locked.save(update_fields=["version"])
    figures_encode_enqueue(figure_ids=dropped, model=locked)
    return len(dropped)


def encoding_sweep() -> int:
    """Queue the lost figures of the active model again (see retrieval.selectors.encoding), and
    every figure of a registered model whose weights changed (:func:`model_follow_checkpoint`;
    a study's arm is such a model too). Returns the figure count (0 while no model is active:
    then no figure has been queued under one yet). Safe to run at any time: encoding is
    idempotent."""
    followed = 0
    for registered in RetrievalModel.objects.order_by("pk"):
        try:
            followed += model_follow_checkpoint(model=registered) or 0
        except ModelRegistrationError as exc:  # one unloadable checkpoint does not stop the sweep
            logger.warning("Encoding sweep: model %s skipped: %s", registered.name, exc.message)
    model = active_model()
    if model is None:
        return followed
    ids = list(figures_lost(model=model).values_list("id", flat=True))
    held = figures_held(work=ENCODE, model_id=model.pk, figure_ids=ids) if ids else set()
    ids = [i for i in ids if i not in held]  # cancelled by an admin: not lost
    if ids:
        logger.warning("Encoding sweep: queueing %d figures that have no vector under %s", len(ids), model.name)
        figures_encode_enqueue(figure_ids=ids, model=model)
    return followed + len(ids)


def figure_encode_batch(*, figure_ids: Sequence[int], model_id: int) -> int:
    """Encode the figures of the batch that still need it; returns how many were encoded.

    Idempotent: figures already encoded under the model, or gone, are skipped; so are figures
    held by a cancelled job (retrieval.services.work_gates). A figure whose image cannot be
    decoded is marked failed with the reason (and is not retried).
    """
    model = RetrievalModel.objects.filter(pk=model_id).first()
    if model is None:
        logger.info("Model %s is gone; skipping %d figures", model_id, len(figure_ids))
        return 0
    held = figures_held(work=ENCODE, model_id=model_id, figure_ids=figure_ids)
    figures = list(
        Figure.objects.filter(pk__in=[i for i in figure_ids if i not in held], status=Figure.Status.READY)
        .exclude(embeddings__model=model)
        .order_by("pk")
    )
    if not figures:
        return 0
    version = inference.encoder_version(model.checkpoint)
    if version != model.version:
        # A vector of other weights must not join the model's: this process loads the checkpoint
        # as another version than the row records (the row is followed by the next sweep, or this
        # worker predates an upgrade and must be restarted). The figures stay without a vector,
        # so the sweep queues them again once the two agree.
        logger.warning(
            "Not encoding %d figures: model %s is recorded as %s, this process loads %s",
            len(figures), model.name, model.version, version,
        )
        return 0
    # Each figure's file is read, checked and decoded once, in threads, while the model
    # encodes the figures before it (retrieval.inference.embed_image_loaders).
    vectors, ok, errors = inference.embed_image_loaders(
        model.checkpoint, [functools.partial(_open_figure_image, figure) for figure in figures]
    )
    for position, exc in errors.items():
        if not isinstance(exc, (InvalidImageError, OSError)):
            raise exc
        reason = exc.message if isinstance(exc, InvalidImageError) else f"image unreadable: {exc}"
        _mark_failed(figures[position], reason)
    if not ok:
        return 0
    return index.upsert_embeddings(model, [figures[i].pk for i in ok], vectors)


def _open_figure_image(figure: Figure) -> Image.Image:
    """The figure's stored page, checked (type, size, integrity) and decoded."""
    with figure.image.open("rb") as f:
        data = f.read()
    return decode_first_page(data, max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS)


def _mark_failed(figure: Figure, reason: str) -> None:
    logger.warning("Figure %s failed: %s", figure.pk, reason)
    Figure.objects.filter(pk=figure.pk).update(status=Figure.Status.FAILED, error=reason)
    index.delete_embeddings(figure_ids=[figure.pk])
