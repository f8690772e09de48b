"""retrieval/services/catalog.py: admin edits of patents and figures reach the search filters."""

import numpy as np
import pytest

from retrieval import index
from retrieval.index import FigureFilters
from retrieval.services.catalog import catalog_attributes_changed
from tests.retrieval.factories import FigureFactory, PatentFactory, VectorModelFactory

pytestmark = pytest.mark.django_db


def test_changed_patent_and_figure_attributes_reach_the_search_filters():
    model = VectorModelFactory(dim=8)
    index.ensure_model_index(model)
    patent = PatentFactory(us_class_main="D14")
    figures = FigureFactory.create_batch(2, patent=patent, corpus=patent.corpus)
    vectors = np.eye(8, dtype=np.float32)[:2]
    index.upsert_embeddings(model, [f.pk for f in figures], vectors)

    def found(**filters: object) -> list[int]:
        hits = index.nearest_figures(model=model, query=vectors[0], k=5, filters=FigureFilters(**filters))
        return sorted(h.figure_id for h in hits)

    patent.us_class_main = "D7"
    patent.save()
    assert found(us_class_main=["D7"]) == []  # the copies search filters on are stale until told
    assert catalog_attributes_changed(patent_ids=[patent.pk]) == 2
    assert found(us_class_main=["D7"]) == sorted(f.pk for f in figures)
    assert found(us_class_main=["D14"]) == []

    figures[0].is_front_page = True
    figures[0].save()
    catalog_attributes_changed(figure_ids=[figures[0].pk])
    assert found(us_class_main=["D7"]) == [figures[1].pk]  # front pages are left out of searches
