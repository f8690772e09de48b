"""End to end on real servers: a Celery worker process encodes an ingested corpus, then search."""

import pytest
from django.db import transaction

from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Figure, FigureEmbedding
from retrieval.selectors.search import figure_search
from retrieval.services.encoding import figures_encode_enqueue
from tests.conftest import wait_for
from tests.drawings import drawing, small_corpus

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_worker_encodes_an_ingested_corpus_and_each_figure_finds_itself(
    tmp_path, active_model, celery_worker
):
    result = corpus_ingest(path=small_corpus(tmp_path / "e2e", patents=4, views=3))
    wait_for(lambda: FigureEmbedding.objects.filter(model=active_model).count() == 12, timeout=120)
    for patent in range(4):
        for view in range(3):
            hits = figure_search(image=drawing(patent * 100 + view), k=3).hits
            top = hits[0].figure
            assert (top.patent.patent_id, top.figure_label) == (f"USD{800000 + patent}", str(view + 1))
    assert result.figures_added == 12


def test_a_figure_whose_image_cannot_be_decoded_is_marked_failed(tmp_path, active_model, celery_worker):
    result = corpus_ingest(path=small_corpus(tmp_path / "gone", patents=1, views=2, seed=7))
    wait_for(lambda: FigureEmbedding.objects.filter(figure_id__in=result.figure_ids).count() == 2, timeout=120)
    broken = Figure.objects.get(pk=result.figure_ids[0])
    # The stored file turns to garbage (a disk problem, say) and the figure is encoded again.
    with open(broken.image.path, "wb") as f:
        f.write(b"garbage")
    FigureEmbedding.objects.filter(figure=broken).delete()
    with transaction.atomic():
        figures_encode_enqueue(figure_ids=[broken.pk], model=active_model)
    wait_for(lambda: Figure.objects.get(pk=broken.pk).status == Figure.Status.FAILED, timeout=60)
    broken.refresh_from_db()
    assert "not an image" in broken.error
    assert not FigureEmbedding.objects.filter(figure=broken).exists()
