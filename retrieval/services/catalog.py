"""Edits of patents and figures made outside ingest (the admin), kept consistent with search."""

from collections.abc import Sequence

from django.db import transaction

from retrieval import index


@transaction.atomic
def catalog_attributes_changed(*, patent_ids: Sequence[int] = (), figure_ids: Sequence[int] = ()) -> int:
    """Searches filter on copies of these attributes; bring the copies up to date."""
    return index.refresh_attributes(patent_ids=patent_ids, figure_ids=figure_ids)
