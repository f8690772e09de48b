"""What the text channel's rows hold against what they should (reads only; the rows are written
by retrieval.services.search_text): the version every row should carry, the figures whose row
is missing or outdated, those of them whose rebuild is lost, and the counts per corpus that the
console shows."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from retrieval import index, inference
from retrieval.selectors.encoding import requeue_cutoff

#: The composition's own version, part of :func:`text_row_version`: bump it when
#: the composition (retrieval.ml.sentence_composition) changes, so stored vectors are rebuilt. (Rows written before it
#: existed, the plain mean of every text, carry the model's version alone.)
COMPOSITION_VERSION = "names-share-1"


def text_row_version() -> str:
    """The version stored with each text row: the sentence model (name and weights digest),
    the composition and its names share, e.g. ``all-minilm-l6-v2@53aa51172d14/names-share-1:0.2``."""
    return f"{inference.sentence_version()}/{COMPOSITION_VERSION}:{float(settings.RETRIEVAL_SENTENCE_NAMES_SHARE):g}"


def search_texts_missing(*, figure_ids: Sequence[int] | None = None) -> list[int]:
    """Ready figures (of ``figure_ids`` or all) whose text row is missing or outdated (another
    sentence model or composition: :func:`text_row_version`; or older than a description written
    since)."""
    return index.figures_without_search_text(figure_ids=figure_ids, sentence_version=text_row_version())


def search_texts_lost() -> list[int]:
    """The figures of :func:`search_texts_missing` whose rebuild is not waiting in a queue: never
    queued (the broker was down at the ingest or the describe), queued longer ago than
    ``RETRIEVAL_ENCODE_REQUEUE_AFTER`` (a worker lost it), or queued before the change that
    outdated the row (an upgrade of the sentence model or of the composition)."""
    return index.figures_without_search_text(sentence_version=text_row_version(), queued_before=requeue_cutoff())


def search_texts_by_corpus() -> dict[int, index.TextRowCounts]:
    """Per corpus id, its ready figures by the state of their text rows (current, missing,
    outdated; of the last two, waiting in a queue or lost): the console's table."""
    return index.search_text_counts_by_corpus(sentence_version=text_row_version(), queued_before=requeue_cutoff())
