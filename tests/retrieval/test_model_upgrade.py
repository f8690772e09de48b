"""A model whose weights change under its name (an upgrade retrained the shipped `default`, or an
admin replaced a checkpoint's weights): its stored vectors are of the old weights. Search refuses
to compare new query vectors with them, no worker adds new vectors to old ones, and the sweep,
an ingest or `encode_missing` drops them and encodes every figure again, once."""

import html
import io

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from patentsearch.celery import app
from retrieval import index, inference
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import FigureEmbedding, RetrievalModel
from retrieval.services.encoding import encoding_sweep, figure_encode_batch, model_follow_checkpoint
from retrieval.services.models import model_ensure_active, model_register
from tests.conftest import wait_for
from tests.drawings import small_corpus
from tests.faults.helpers import start_worker, stop_worker
from tests.retrieval.factories import FigureFactory

pytestmark = pytest.mark.django_db
OLD = "ps-tiny@000000000000"  # the version the stored vectors were encoded with


def _vectors_of_old_weights(model: RetrievalModel, figure_ids: list[int]) -> None:
    """Stored vectors of other weights: one constant vector, recorded under an old version."""
    constant = np.ones((len(figure_ids), model.dim), dtype=np.float32) / np.sqrt(model.dim)
    index.upsert_embeddings(model, figure_ids, constant)
    RetrievalModel.objects.filter(pk=model.pk).update(version=OLD)
    model.refresh_from_db()


def test_search_refuses_vectors_of_other_weights_and_says_what_happens(active_model, examiner_api):
    figure = FigureFactory()
    _vectors_of_old_weights(active_model, [figure.pk])

    response = examiner_api.post("/api/v1/search/", {"text": "chair", "k": 5}, format="multipart")

    assert response.status_code == 503 and response["Retry-After"] == "60"
    message = response.json()["message"]
    assert "has new weights" in message and OLD in message and "encode_missing" in message


def test_the_search_page_says_so_too(active_model, client, examiner):
    _vectors_of_old_weights(active_model, [FigureFactory().pk])
    client.force_login(examiner)

    response = client.post(reverse("retrieval:search"), {
        "k": 6, "text": "chair", "us_class_main": "", "grant_date_from": "", "grant_date_to": "",
    })

    assert "has new weights" in html.unescape(response.content.decode())


def test_a_worker_never_adds_vectors_of_other_weights(active_model):
    old, new = FigureFactory(), FigureFactory()
    _vectors_of_old_weights(active_model, [old.pk])

    assert figure_encode_batch(figure_ids=[new.pk], model_id=active_model.pk) == 0

    assert not FigureEmbedding.objects.filter(figure=new).exists()


def test_following_the_checkpoint_drops_the_old_vectors_and_queues_every_figure_once(
    active_model, django_capture_on_commit_callbacks,
):
    figures = FigureFactory.create_batch(3)
    _vectors_of_old_weights(active_model, [f.pk for f in figures])
    loaded = inference.encoder_version(active_model.checkpoint)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert model_ensure_active() == active_model
    active_model.refresh_from_db()
    assert active_model.version == loaded
    assert not FigureEmbedding.objects.filter(model=active_model).exists()
    assert len(callbacks) == 1, "the three figures, in one batch, sent on commit"

    with django_capture_on_commit_callbacks(execute=False) as again:
        assert model_follow_checkpoint(model=active_model) is None
    assert again == []


def test_the_sweep_follows_every_registered_model_a_study_arm_too(
    active_model, second_checkpoint, django_capture_on_commit_callbacks,
):
    figures = FigureFactory.create_batch(2)
    _vectors_of_old_weights(active_model, [f.pk for f in figures])
    arm = model_register(spec=str(second_checkpoint), name="arm")  # not active: a study's other arm
    _vectors_of_old_weights(arm, [figures[0].pk])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        encoding_sweep()

    assert len(callbacks) >= 2, "a batch for each model"
    for model in (active_model, arm):
        model.refresh_from_db()
        assert model.version == inference.encoder_version(model.checkpoint)
        assert not FigureEmbedding.objects.filter(model=model).exists()


def test_a_checkpoint_that_no_longer_loads_does_not_stop_the_sweep(
    active_model, tmp_path, caplog, django_capture_on_commit_callbacks,
):
    import shutil

    from retrieval.ml.encoders.factory import init_checkpoint

    folder = init_checkpoint("ps-tiny", tmp_path / "gone", seed=2, name="gone")
    model_register(spec=str(folder), name="gone")
    shutil.rmtree(folder)
    inference._cache.clear()  # a process started after the folder went
    figure = FigureFactory()
    _vectors_of_old_weights(active_model, [figure.pk])

    with django_capture_on_commit_callbacks(execute=False):
        encoding_sweep()

    assert "model gone skipped" in caplog.text
    assert not FigureEmbedding.objects.filter(model=active_model).exists()


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_after_an_upgrade_a_real_worker_encodes_every_figure_again(tmp_path, active_model, transactional_db):
    app.control.purge()
    ids = corpus_ingest(path=small_corpus(tmp_path / "corpus", patents=2, views=3)).figure_ids
    worker = start_worker("-Q", "default,gpu", "--pool", "solo", "-B", env={"RETRIEVAL_SWEEP_SECONDS": "2"})
    try:
        wait_for(lambda: FigureEmbedding.objects.filter(model=active_model).count() == 6, timeout=180)
        fresh = index.embeddings_for(active_model, ids)
        _vectors_of_old_weights(active_model, ids)  # what the database holds after the upgrade

        # the worker's beat sweeps every 2 s: it drops the old vectors and encodes all six again
        wait_for(lambda: RetrievalModel.objects.get(pk=active_model.pk).version != OLD, timeout=120)
        wait_for(lambda: FigureEmbedding.objects.filter(model=active_model).count() == 6, timeout=180)
    finally:
        stop_worker(worker)
    again = index.embeddings_for(active_model, ids)
    assert all(np.allclose(again[i], fresh[i], atol=2e-3) for i in ids), "the new weights' vectors, not the old"
    out = io.StringIO()
    call_command("encode_missing", stdout=out)
    assert "Queued 0 figures" in out.getvalue()


def test_encode_missing_after_an_upgrade_queues_every_figure_once(active_model, transactional_db, settings):
    """The command follows the new weights (every figure queued, on that step's commit), then
    queues what has no vector: before, that was every figure again, so each was encoded twice.
    Real commits and the real broker: the batches the broker holds are counted."""
    import redis

    settings.RETRIEVAL_ENCODE_BATCH_SIZE = 64  # one batch for each sending
    ids = [f.pk for f in FigureFactory.create_batch(3)]
    _vectors_of_old_weights(active_model, ids)
    app.control.purge()
    out = io.StringIO()
    call_command("encode_missing", stdout=out)
    assert "Queued 3 figures" in out.getvalue() and "3 had vectors of the model's earlier weights" in out.getvalue()
    assert redis.Redis.from_url(settings.REDIS_URL).llen("gpu") == 1, "one batch, not one per step"
    again = io.StringIO()
    call_command("encode_missing", stdout=again)  # run again while they wait: queued again, as asked
    assert "Queued 3 figures" in again.getvalue() and "3 were still waiting in the queue" in again.getvalue()
    app.control.purge()


def test_a_web_worker_starting_after_the_upgrade_queues_the_figures_at_once(
    active_model, django_capture_on_commit_callbacks, caplog,
):
    import patentsearch.gunicorn_conf as conf

    _vectors_of_old_weights(active_model, [FigureFactory().pk])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        conf.post_worker_init(type("Worker", (), {"pid": 1})())

    assert len(callbacks) == 1 and not FigureEmbedding.objects.filter(model=active_model).exists()
    assert "has new weights: 1 figures queued" in caplog.text
