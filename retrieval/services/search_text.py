"""The text channel's rows: each figure's words and their sentence vector, kept up to date.

A figure's text row is rebuilt from its patent (title, object name), the figure (viewpoint,
caption) and its FigureText rows (LLM descriptions, generated captions): after ingest and
after describing, the affected figures are queued on commit (retrieval.tasks); a batch is
rebuilt idempotently (same inputs, same row), so a redelivered task does no harm. A rebuild the
broker never took (it was down), or that a worker lost, or a row of an older version after an
upgrade is queued again by the periodic sweep (:func:`search_texts_sweep`), as lost encodings are.

Every piece goes into the full-text document; the sentence vector is composed
(retrieval.ml.sentence_composition, through retrieval.inference): the names (title and object name) take the share
``RETRIEVAL_SENTENCE_NAMES_SHARE`` of it and the LLM descriptions the rest, so that generic
words ("a front perspective view of an ornamental design", "a black and white drawing") do not
pull every figure's vector towards "a drawing of an object" and figures with many texts weigh
their names as much as those with few (docs/evaluation.md has the comparison on the validation
patents). A row's ``sentence_version`` names the sentence model and this composition
(retrieval.selectors.search_text.text_row_version); rows of another version count as outdated.

Failure policy: the sentence model is a pinned local dependency; if it cannot load, the task
fails loudly (ModelRegistrationError) rather than writing rows without vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
from django.conf import settings
from django.utils import timezone

from retrieval import index, inference
from retrieval.models import Figure, FigureText
from retrieval.selectors.search_text import (
    search_texts_lost,
    search_texts_missing,
    text_row_version,
)
from retrieval.services.batches import enqueue_on_commit
from retrieval.tasks import figure_search_text_batch_task

logger = logging.getLogger(__name__)


def figures_search_text_enqueue(*, figure_ids: Sequence[int]) -> int:
    """Queue the rebuild of these figures' text rows once the transaction commits."""
    if not figure_ids:
        return 0
    return enqueue_on_commit(list(figure_ids), settings.RETRIEVAL_ENCODE_BATCH_SIZE,
                             lambda batch: figure_search_text_batch_task.delay(batch), stamp="text_queued_at")


def figure_search_text_batch(*, figure_ids: Sequence[int]) -> int:
    """Rebuild the text rows of these figures (those still ready); returns the rows written."""
    read_at = timezone.now()
    figures = list(
        Figure.objects.filter(pk__in=list(figure_ids), status=Figure.Status.READY)
        .select_related("patent").order_by("pk")
    )
    if not figures:
        return 0
    described: dict[int, list[tuple[str, str]]] = {}
    for figure_id, kind, text in (
        FigureText.objects.filter(figure__in=figures).order_by("figure_id", "id")
        .values_list("figure_id", "kind", "text")
    ):
        described.setdefault(figure_id, []).append((kind, text))
    pieces = [_pieces(f, described.get(f.pk, [])) for f in figures]
    share = float(settings.RETRIEVAL_SENTENCE_NAMES_SHARE)
    # Only the texts that weigh in the sentence vector go through the sentence model (never the
    # viewpoint; the captions only where a figure has no descriptions): same vector, less work.
    counted = [
        [piece for piece, weight in zip(row, inference.sentence_weights([kind for kind, _ in row], names_share=share),
                                        strict=True) if weight > 0]
        for row in pieces
    ]
    flat = [text for row in counted for _, text in row]
    vectors = inference.embed_sentences(flat) if flat else np.zeros((0, index.SENTENCE_DIM), np.float32)
    version = text_row_version()
    rows, start = [], 0
    for figure, row, used in zip(figures, pieces, counted, strict=True):
        sentence = inference.sentence_vector([kind for kind, _ in used], vectors[start : start + len(used)], names_share=share)
        start += len(used)
        rows.append(index.SearchTextRow(
            figure_id=figure.pk, names=_names(figure), document="\n".join(text for _, text in row),
            sentence=sentence, sentence_version=version,
        ))
    return index.upsert_search_texts(rows, texts_read_at=read_at)


def search_texts_sweep() -> int:
    """Queue the rebuild of every lost text row (:func:`search_texts_lost`), and delete the
    names no text row carries any more (retrieval.index.prune_search_names: figures deleted or
    renamed); the periodic sweep calls it beside the encoding's
    (retrieval.tasks.encoding_sweep_task). Returns the figures queued. Safe twice: a queued
    figure is waiting, not lost, a rebuild is idempotent, and a name in use is never deleted."""
    pruned = index.prune_search_names()
    if pruned:
        logger.info("Text sweep: deleted %d names no figure carries any more", pruned)
    ids = search_texts_lost()
    if ids:
        logger.warning("Text sweep: queueing %d figures whose text row is missing or outdated", len(ids))
        figures_search_text_enqueue(figure_ids=ids)
    return len(ids)


def search_texts_rebuild_missing(*, batch_size: int = 64, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild, in this process, every text row that is missing or outdated (after a change of
    the sentence model or of the composition); returns how many figures were rebuilt.
    ``progress(done, total)`` is called after each batch. Safe to rerun: a rebuilt row is
    current and is not rebuilt again."""
    missing = search_texts_missing()
    for start in range(0, len(missing), batch_size):
        figure_search_text_batch(figure_ids=missing[start : start + batch_size])
        if progress is not None:
            progress(min(start + batch_size, len(missing)), len(missing))
    return len(missing)


#: The fields a figure's text row is read from (:func:`_pieces`, :func:`_names`): an edit of any
#: other field of a patent or a figure leaves the row as it is. A figure's status and image count
#: too: only ready figures have a row, and a replaced image makes a figure ready again; and
#: ``texts``, its descriptions (retrieval.models.FigureText, the figure's ``texts``).
PATENT_WORD_FIELDS = frozenset({"title", "object_name"})
FIGURE_WORD_FIELDS = frozenset({"patent", "viewpoint", "caption", "status", "image", "texts"})


def _names(figure: Figure) -> str:
    patent = figure.patent
    return " ".join(dict.fromkeys(t.strip() for t in (patent.title, patent.object_name) if t.strip()))


def _pieces(figure: Figure, texts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The distinct non-empty texts of a figure with their kind, title first.
    ``texts``: its FigureText rows as (kind, text)."""
    patent = figure.patent
    return inference.figure_texts(
        title=patent.title, object_name=patent.object_name, viewpoint=figure.viewpoint,
        caption=figure.caption, texts=texts,
    )
