"""The text channel's rows: each figure's words and their sentence vector, kept up to date.

A figure's text row is rebuilt from its patent (title, object name), the figure (viewpoint,
caption) and its FigureText rows (LLM descriptions, generated captions): after ingest and
after describing, the affected figures are queued on commit (retrieval.tasks); a batch is
rebuilt idempotently (same inputs, same row), so a redelivered task does no harm.

Failure policy: the sentence model is a pinned local dependency; if it cannot load, the task
fails loudly (ModelRegistrationError) rather than writing rows without vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.conf import settings

from retrieval import index, inference
from retrieval.models import Figure, FigureText
from retrieval.services.batches import enqueue_on_commit
from retrieval.tasks import figure_search_text_batch_task


def figures_search_text_enqueue(*, figure_ids: Sequence[int]) -> int:
    """Queue the rebuild of these figures' text rows once the transaction commits."""
    if not figure_ids:
        return 0
    return enqueue_on_commit(
        list(figure_ids), settings.RETRIEVAL_ENCODE_BATCH_SIZE,
        lambda batch: figure_search_text_batch_task.delay(batch),
    )


def figure_search_text_batch(*, figure_ids: Sequence[int]) -> int:
    """Rebuild the text rows of these figures (those still ready); returns the rows written."""
    figures = list(
        Figure.objects.filter(pk__in=list(figure_ids), status=Figure.Status.READY)
        .select_related("patent").order_by("pk")
    )
    if not figures:
        return 0
    described: dict[int, list[str]] = {}
    for figure_id, text in (
        FigureText.objects.filter(figure__in=figures).order_by("figure_id", "id").values_list("figure_id", "text")
    ):
        described.setdefault(figure_id, []).append(text)
    pieces = [_pieces(f, described.get(f.pk, [])) for f in figures]
    flat = [p for row in pieces for p in row]
    vectors = inference.embed_sentences(flat) if flat else np.zeros((0, index.SENTENCE_DIM), np.float32)
    version = inference.sentence_version()
    rows, start = [], 0
    for figure, row in zip(figures, pieces, strict=True):
        sentence = None
        if row:
            mean = vectors[start : start + len(row)].mean(axis=0)
            norm = float(np.linalg.norm(mean))
            sentence = (mean / norm).astype(np.float32) if norm > 0 else None
        start += len(row)
        rows.append(index.SearchTextRow(
            figure_id=figure.pk, names=_names(figure), document="\n".join(row),
            sentence=sentence, sentence_version=version,
        ))
    return index.upsert_search_texts(rows)


def search_texts_missing(*, figure_ids: Sequence[int] | None = None) -> list[int]:
    """Ready figures (of ``figure_ids`` or all) whose text row is missing or outdated."""
    return index.figures_without_search_text(figure_ids=figure_ids, sentence_version=inference.sentence_version())


def _names(figure: Figure) -> str:
    patent = figure.patent
    return " ".join(dict.fromkeys(t.strip() for t in (patent.title, patent.object_name) if t.strip()))


def _pieces(figure: Figure, descriptions: list[str]) -> list[str]:
    """The distinct non-empty texts of a figure, title first."""
    patent = figure.patent
    texts = [patent.title, patent.object_name, figure.viewpoint, figure.caption, *descriptions]
    return list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
