"""Encoding figures into vectors: enqueue in batches on commit; encode a batch idempotently."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from django.conf import settings
from django.utils import timezone
from PIL import Image

from retrieval import index, inference
from retrieval.exceptions import InvalidImageError
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

    def send(batch: list[int]) -> None:
        figure_encode_batch_task.delay(batch, model_id)
        Figure.objects.filter(pk__in=batch).update(encode_queued_at=timezone.now())

    return enqueue_on_commit(figure_ids, settings.RETRIEVAL_ENCODE_BATCH_SIZE, send)


def model_encode_missing(*, model: RetrievalModel) -> int:
    """Queue every ready figure that has no vector under this model. Returns the figure count."""
    ids = list(figures_without_vector(model=model).values_list("id", flat=True))
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


def encoding_sweep() -> int:
    """Queue the lost figures of the active model again (see retrieval.selectors.encoding).
    Returns the figure count (0 while no model is active: then no figure has been queued under
    one yet). Safe to run at any time: encoding is idempotent."""
    model = active_model()
    if model is None:
        return 0
    ids = list(figures_lost(model=model).values_list("id", flat=True))
    held = figures_held(work=ENCODE, model_id=model.pk, figure_ids=ids) if ids else set()
    ids = [i for i in ids if i not in held]  # cancelled by an admin: not lost
    if ids:
        logger.warning("Encoding sweep: queueing %d figures that have no vector under %s", len(ids), model.name)
        figures_encode_enqueue(figure_ids=ids, model=model)
    return len(ids)


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
