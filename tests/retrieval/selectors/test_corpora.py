"""retrieval/selectors/corpora.py: corpus lists with counts, and encoding progress."""

import numpy as np
import pytest

from retrieval import index
from retrieval.models import Figure
from retrieval.selectors.corpora import corpus_encoding_progress, corpus_list
from tests.retrieval.factories import (
    CorpusFactory,
    FigureFactory,
    PatentFactory,
    VectorModelFactory,
)

pytestmark = pytest.mark.django_db


def test_corpus_list_counts_figures_and_patents_in_name_order():
    zeta, alpha, empty = CorpusFactory(name="zeta"), CorpusFactory(name="alpha"), CorpusFactory(name="empty")
    for corpus, patents, views in ((zeta, 2, 3), (alpha, 1, 2)):
        for _ in range(patents):
            FigureFactory.create_batch(views, patent=PatentFactory(corpus=corpus), corpus=corpus)
    listed = [(c.name, c.figure_count, c.patent_count) for c in corpus_list()]
    assert listed == [("alpha", 2, 1), ("empty", 0, 0), ("zeta", 6, 2)]
    assert empty.pk in {c.pk for c in corpus_list()}


def test_encoding_progress_counts_vectors_of_the_model_and_failed_figures():
    corpus, other = CorpusFactory(name="mine"), CorpusFactory(name="other")
    figures = FigureFactory.create_batch(4, patent=PatentFactory(corpus=corpus), corpus=corpus)
    FigureFactory.create_batch(2, patent=PatentFactory(corpus=other), corpus=other)
    model, unrelated = VectorModelFactory(dim=8), VectorModelFactory(dim=8)
    for m in (model, unrelated):
        index.ensure_model_index(m)
    vectors = np.eye(8, dtype=np.float32)
    index.upsert_embeddings(model, [figures[0].pk, figures[1].pk], vectors[:2])
    index.upsert_embeddings(unrelated, [figures[2].pk], vectors[2:3])

    progress = corpus_encoding_progress(corpus_id=corpus.pk, model=model)
    assert (progress.total, progress.encoded, progress.failed, progress.done) == (4, 2, 0, False)

    Figure.objects.filter(pk__in=[figures[2].pk, figures[3].pk]).update(status=Figure.Status.FAILED)
    progress = corpus_encoding_progress(corpus_id=corpus.pk, model=model)
    assert (progress.encoded, progress.failed, progress.done) == (2, 2, True)
