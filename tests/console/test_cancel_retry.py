"""Cancel and retry for every job kind, and no job left `running` by a task that gave up or a
stale heartbeat. Batches are run here as the workers run them (the same service functions)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from console.models import Job
from console.services import evaluation as evaluation_service
from console.services.evaluation import job_evaluate_run
from console.services.jobs import _encode_job_create, jobs_sweep
from console.tasks import job_evaluate_task, job_ingest_task
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import FigureEmbedding, FigureText
from retrieval.services.describe import figure_describe_batch
from retrieval.services.encoding import encoding_sweep, figure_encode_batch
from tests.drawings import small_corpus


@pytest.fixture
def corpus(tmp_path, active_model):
    """4 figures, none encoded yet (their batches were never sent: no on_commit in these tests)."""
    return corpus_ingest(path=small_corpus(tmp_path / "c", patents=2, views=2), name="c")


def _vectors(model, ids) -> int:  # noqa: ANN001
    return FigureEmbedding.objects.filter(model=model, figure_id__in=ids).count()


def test_cancel_an_encode_job_stops_its_queued_batches_and_retry_resumes(admin_api, corpus, active_model,
                                                                          django_capture_on_commit_callbacks):
    job = _encode_job_create(corpus_id=corpus.corpus_id, user_id=None)
    response = admin_api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"

    assert figure_encode_batch(figure_ids=corpus.figure_ids, model_id=active_model.pk) == 0  # a queued batch
    assert _vectors(active_model, corpus.figure_ids) == 0
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert encoding_sweep() == 0  # held, not lost: the sweep does not queue them again
    assert not sent
    shown = admin_api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (shown["state"], shown["done"], shown["pending"]) == ("cancelled", 0, 4)
    again = admin_api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert again.status_code == 400 and "cancelled already" in again.json()["message"]

    with django_capture_on_commit_callbacks(execute=False) as sent:
        retried = admin_api.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert retried.status_code == 200 and retried.json()["state"] == "running"
    assert sent  # the rest is queued again
    assert figure_encode_batch(figure_ids=corpus.figure_ids, model_id=active_model.pk) == 4
    assert admin_api.get(f"/api/v1/jobs/{job.pk}/").json()["state"] == "succeeded"
    done = admin_api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert done.status_code == 400 and "succeeded already" in done.json()["message"]


def test_cancel_a_reindex_job(admin_api, corpus, active_model, tmp_path, django_capture_on_commit_callbacks):
    from retrieval.ml.encoders.factory import init_checkpoint

    checkpoint = init_checkpoint("ps-tiny", tmp_path / "second", seed=3, name="second")
    with django_capture_on_commit_callbacks(execute=False):
        created = admin_api.post("/api/v1/models/", {"checkpoint": str(checkpoint), "name": "second"}, format="json")
    job_id, model_id = created.json()["job"], created.json()["id"]
    figure_encode_batch(figure_ids=corpus.figure_ids[:1], model_id=model_id)  # one batch ran already
    assert admin_api.post(f"/api/v1/jobs/{job_id}/cancel/").json()["state"] == "cancelled"
    assert figure_encode_batch(figure_ids=corpus.figure_ids, model_id=model_id) == 0
    assert FigureEmbedding.objects.filter(model_id=model_id).count() == 1  # what was done stays
    # the active model's own encoding is not held by the other model's cancelled job
    assert figure_encode_batch(figure_ids=corpus.figure_ids, model_id=active_model.pk) == 4


def test_cancel_and_retry_a_describe_job_with_a_chosen_backend(admin_api, corpus, settings, monkeypatch,
                                                                django_capture_on_commit_callbacks):
    settings.RETRIEVAL_DESCRIBE_BACKEND = "openai"  # the server's default is not what is chosen
    monkeypatch.delenv("PATENTSEARCH_LLM_BASE_URL", raising=False)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = admin_api.post(f"/api/v1/corpora/{corpus.corpus_id}/describe/", {"backend": "offline"},
                                  format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert job.options["backend"] == "offline" and job.options["source"].startswith("offline:")
    assert sent
    assert admin_api.post(f"/api/v1/jobs/{job.pk}/cancel/").json()["state"] == "cancelled"
    assert figure_describe_batch(figure_ids=corpus.figure_ids, backend="offline") == 0
    assert not FigureText.objects.filter(kind=FigureText.Kind.DESCRIPTION).exists()

    with django_capture_on_commit_callbacks(execute=False):
        assert admin_api.post(f"/api/v1/jobs/{job.pk}/retry/").json()["state"] == "running"
    assert figure_describe_batch(figure_ids=corpus.figure_ids, backend="offline") == 4
    shown = admin_api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (shown["state"], shown["done"], shown["total"]) == ("succeeded", 4, 4)
    sources = set(FigureText.objects.filter(kind=FigureText.Kind.DESCRIPTION).values_list("source", flat=True))
    assert sources == {job.options["source"]}


@pytest.mark.parametrize(("body", "fragment"), [
    ({"backend": "gpt-9"}, "must be one of"),
    ({"backend": "transformers", "model_path": "/etc"}, "import root"),
    ({"backend": "offline", "model_path": "x"}, "transformers backend"),
    ({"backend": "transformers", "model_path": "no-such-folder"}, "no folder"),
])
def test_describe_backend_input_refused(admin_api, corpus, settings, tmp_path, body, fragment):
    settings.CONSOLE_IMPORT_ROOT = tmp_path / "import"
    settings.CONSOLE_IMPORT_ROOT.mkdir()
    response = admin_api.post(f"/api/v1/corpora/{corpus.corpus_id}/describe/", body, format="json")
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert not Job.objects.exists()


def test_describe_with_a_transformers_folder_checks_it_first(admin_api, corpus, settings, tmp_path,
                                                              django_capture_on_commit_callbacks):
    settings.CONSOLE_IMPORT_ROOT = tmp_path / "import"
    (settings.CONSOLE_IMPORT_ROOT / "tiny-llm").mkdir(parents=True)
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_api.post(f"/api/v1/corpora/{corpus.corpus_id}/describe/",
                                  {"backend": "transformers", "model_path": "tiny-llm"}, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert job.options["source"] == "transformers:tiny-llm"
    assert job.options["model_path"] == str((settings.CONSOLE_IMPORT_ROOT / "tiny-llm").resolve())


def _evaluate_job(admin_api, corpus, active_model):  # noqa: ANN001, ANN202
    figure_encode_batch(figure_ids=corpus.figure_ids, model_id=active_model.pk)
    response = admin_api.post("/api/v1/evaluations/", {
        "corpus": corpus.corpus_id, "models": [active_model.pk], "relevance": ["patent"]}, format="json")
    return Job.objects.get(pk=response.json()["jobs"][0])


def test_cancel_a_queued_evaluation_then_run_it_again(admin_api, corpus, active_model,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = _evaluate_job(admin_api, corpus, active_model)
    assert admin_api.post(f"/api/v1/jobs/{job.pk}/cancel/").json()["state"] == "cancelled"
    assert job_evaluate_run(job_id=job.pk) == Job.State.CANCELLED  # the queued task finds it cancelled
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert admin_api.post(f"/api/v1/jobs/{job.pk}/retry/").json()["state"] == "queued"
    assert len(sent) == 1
    assert job_evaluate_run(job_id=job.pk) == Job.State.SUCCEEDED
    job.refresh_from_db()
    assert job.result["patent"]["queries"] == 4


def test_cancel_a_running_evaluation_unwinds_at_its_next_progress_step(admin_api, corpus, active_model,
                                                                        monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = _evaluate_job(admin_api, corpus, active_model)

    def evaluate_search(request, *, progress, model):  # noqa: ANN001, ANN202
        progress(10, 40)
        assert admin_api.post(f"/api/v1/jobs/{job.pk}/cancel/").json()["state"] == "cancelled"
        progress(20, 40)
        raise AssertionError("the job should have unwound")

    monkeypatch.setattr(evaluation_service, "evaluate_search", evaluate_search)
    assert job_evaluate_run(job_id=job.pk) == Job.State.CANCELLED
    job.refresh_from_db()
    assert (job.state, job.done, job.result) == (Job.State.CANCELLED, 10, None)


def test_a_task_that_gives_up_fails_its_job_with_the_reason(admin_user):
    for task in (job_ingest_task, job_evaluate_task):
        job = Job.objects.create(kind=Job.Kind.INGEST, corpus_name="x", state=Job.State.RUNNING)
        task.on_failure(OperationalError("the database went away"), "task-id", (job.pk,), {}, None)
        job.refresh_from_db()
        assert job.state == Job.State.FAILED and job.finished_at is not None
        assert "gave up" in job.message and "the database went away" in job.message


def test_the_sweep_fails_running_jobs_whose_heartbeat_is_stale(db, settings):
    settings.CONSOLE_JOB_STALE_SECONDS = 600
    old = timezone.now() - dt.timedelta(seconds=601)
    stale = Job.objects.create(kind=Job.Kind.EVALUATE, state=Job.State.RUNNING)
    fresh = Job.objects.create(kind=Job.Kind.INGEST, corpus_name="y", state=Job.State.RUNNING)
    measured = Job.objects.create(kind=Job.Kind.ENCODE, state=Job.State.RUNNING)  # progress from the data
    Job.objects.filter(pk__in=[stale.pk, measured.pk]).update(updated_at=old)
    assert jobs_sweep() == 1
    states = dict(Job.objects.values_list("pk", "state"))
    assert states == {stale.pk: "failed", fresh.pk: "running", measured.pk: "running"}
    assert "No progress for 10 minutes" in Job.objects.get(pk=stale.pk).message
    assert jobs_sweep() == 0
