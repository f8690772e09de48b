"""Evaluation jobs and the dashboard: each model's numbers are evaluate_search's (retrieval.ml's
metrics), stored on the job, shown side by side and downloadable as JSON and CSV."""

from __future__ import annotations

import pytest
from django.test import Client

from console.models import Job
from console.services.evaluation import job_evaluate_run
from retrieval.ml.encoders.factory import init_checkpoint
from retrieval.selectors.evaluation import SearchEvaluationRequest, evaluate_search
from retrieval.services.encoding import figure_encode_batch
from retrieval.services.ingest import corpus_ingest
from retrieval.services.models import model_register
from tests.drawings import small_corpus


@pytest.fixture
def two_models(tmp_path, active_model):
    result = corpus_ingest(path=small_corpus(tmp_path / "labelled", patents=4, views=3), name="labelled")
    ckpt = init_checkpoint("ps-tiny", tmp_path / "other", seed=7, name="other")
    other = model_register(spec=str(ckpt), name="other")
    for model in (active_model, other):
        figure_encode_batch(figure_ids=result.figure_ids, model_id=model.pk)
    return result, active_model, other


def test_evaluate_two_models_side_by_side(two_models, admin_api, admin_user, django_capture_on_commit_callbacks):
    result, active, other = two_models
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_api.post("/api/v1/evaluations/", {
            "corpus": result.corpus_id, "models": [active.pk, other.pk], "relevance": ["patent", "us_class"],
        }, format="json")
    assert response.status_code == 202
    job_ids = response.json()["jobs"]
    for job_id in job_ids:
        assert job_evaluate_run(job_id=job_id) == Job.State.SUCCEEDED
    other_job = Job.objects.get(pk=job_ids[1])
    expected = evaluate_search(SearchEvaluationRequest(corpus="labelled", relevance="us_class", k=100), model=other)
    stored = other_job.result["us_class"]
    assert stored["model"]["name"] == "other"
    assert {k: stored[k] for k in ("mAP", "recall@1", "recall@10", "mrr@10", "queries")} == {
        k: expected[k] for k in ("mAP", "recall@1", "recall@10", "mrr@10", "queries")
    }
    assert stored["queries"] == 12

    rows = admin_api.get("/api/v1/evaluations/").json()
    assert sorted((r["model"], r["relevance"]) for r in rows) == [
        ("other", "patent"), ("other", "us_class"), ("test-tiny", "patent"), ("test-tiny", "us_class"),
    ]
    csv = b"".join(admin_api.get("/api/v1/evaluations.csv").streaming_content).decode().splitlines()
    assert csv[0].startswith("job,date,corpus,model,model_version,relevance,exclude_same_patent,mAP,recall@1")
    assert len(csv) == 5
    assert csv[0].endswith(",tail_mAP," + ",".join(f"precision@recall{i / 10:.1f}" for i in range(11)))
    other_us = next(line for line in csv[1:] if ",other," in line and ",us_class," in line).split(",")
    assert [float(v) for v in other_us[-11:]] == pytest.approx(stored["pr_curve"]["precision"])
    report = admin_api.get(f"/api/v1/jobs/{other_job.pk}/report.json")
    assert report.status_code == 200 and report.json()["us_class"]["mAP"] == stored["mAP"]

    client = Client()
    client.force_login(admin_user)
    page = client.get("/console/evaluation/").content.decode()
    assert "labelled · relevance us_class" in page
    assert f"{stored['mAP']:.3f}" in page
    # the 2-D map of each model's vectors: one dot per figure, coloured by US main class
    assert len(other_job.embedding_map) == 12
    assert {p[2] for p in other_job.embedding_map} == {"D14", "D21"}
    assert page.count('<svg class="plot map"') == 2
    # the precision-recall curves: one per corpus and relevance kind, one line per model
    assert stored["pr_curve"] == expected["pr_curve"]
    assert stored["pr_curve"]["recall"] == pytest.approx([i / 10 for i in range(11)])
    assert page.count('<svg class="plot pr"') == 2 and page.count('class="pr-line"') == 4
    assert 'data-model="other' in page


def test_evaluation_input_refused(two_models, admin_api):
    result, active, _ = two_models
    for body in ({"corpus": 999999, "models": [active.pk]},
                 {"corpus": result.corpus_id, "models": [999999]},
                 {"corpus": result.corpus_id, "models": [active.pk], "relevance": ["colour"]},
                 {"corpus": result.corpus_id, "models": []}):
        response = admin_api.post("/api/v1/evaluations/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["message"]
    assert not Job.objects.filter(kind=Job.Kind.EVALUATE).exists()
