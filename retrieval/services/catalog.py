"""Edits of patents and figures made outside ingest (the admin), kept consistent with search."""

from collections.abc import Collection, Sequence

from django.db import transaction

from retrieval import index
from retrieval.models import Figure
from retrieval.services.search_text import (
    FIGURE_WORD_FIELDS,
    PATENT_WORD_FIELDS,
    figures_search_text_enqueue,
)


@transaction.atomic
def catalog_attributes_changed(
    *, patent_ids: Sequence[int] = (), figure_ids: Sequence[int] = (), fields: Collection[str] | None = None
) -> int:
    """Searches filter on copies of these attributes, and the text channels read the words (title,
    object name, viewpoint, caption, descriptions) from each figure's text row: bring the copies up
    to date and, where ``fields`` (the names of the fields edited; None: not known) include words,
    queue the figures' text rows to be rebuilt (on commit). Returns the vector rows updated."""
    changed = None if fields is None else set(fields)
    if changed is None or (patent_ids and changed & PATENT_WORD_FIELDS) or (figure_ids and changed & FIGURE_WORD_FIELDS):
        patents_figures = Figure.objects.filter(patent_id__in=list(patent_ids)).values_list("pk", flat=True)
        figures_search_text_enqueue(figure_ids=sorted(set(figure_ids) | set(patents_figures)))
    return index.refresh_attributes(patent_ids=patent_ids, figure_ids=figure_ids)


def figure_texts_changed(*, figure_ids: Sequence[int]) -> int:
    """An admin added, edited or deleted descriptions of these figures: queue their text rows to be
    rebuilt (on commit). A deletion leaves no newer text behind, so the sweep would not see it.
    Returns the batches queued."""
    return figures_search_text_enqueue(figure_ids=sorted(set(figure_ids)))
