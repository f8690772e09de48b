"""Evaluation jobs and the dashboard: each model's numbers are evaluate_search's (retrieval.ml's
metrics), stored on the job, shown side by side and downloadable as JSON and CSV."""

from __future__ import annotations

import pytest
from django.test import Client

from console.models import Job
from console.services.evaluation import job_evaluate_run
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.ml.encoders.factory import init_checkpoint
from retrieval.selectors.evaluation import SearchEvaluationRequest, evaluate_search
from retrieval.services.encoding import figure_encode_batch
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
    # the two models' lines differ by their dash, not by colour alone
    assert page.count('stroke-dasharray=""') >= 2 and page.count('stroke-dasharray="7 3"') >= 2
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


def test_a_model_still_encoding_is_not_evaluated(two_models, admin_api, tmp_path, examiner):
    """Its missing vectors would score as zeros that look like results: refused, with its coverage,
    against a corpus (its figures) and against the judgments (the whole catalogue)."""
    import datetime as dt

    from cases.services.cases import case_create
    from cases.services.judgments import judgment_set
    from cases.services.searches import case_search_run

    result, active, _ = two_models
    case = case_create(examiner=examiner, application_number="29/000,002", title="Widget", cutoff_date=dt.date(2030, 1, 1))
    case_search_run(case=case, user=examiner, k=4, like_figure=result.figure_ids[0])
    judgment_set(case=case, figure_id=result.figure_ids[1], user=examiner, grade=3)
    late = model_register(spec=str(init_checkpoint("ps-tiny", tmp_path / "late", seed=9, name="late")), name="late")
    figure_encode_batch(figure_ids=result.figure_ids[:3], model_id=late.pk)
    refusals = {
        "corpus": "Model 'late' has vectors for 3 of 12 figures (25.0 %) of corpus",
        "qrels": "Model 'late' has vectors for 3 of 12 figures (25.0 %) of the catalogue: evaluate it once",
    }
    for body in ({"corpus": result.corpus_id, "models": [active.pk, late.pk]}, {"qrels": "judgments", "models": [late.pk]}):
        response = admin_api.post("/api/v1/evaluations/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["message"].startswith(refusals[next(iter(body))]), response.json()
        assert response.json()["extra"] == {"model": late.pk, "encoded": 3, "total": 12}
    assert not Job.objects.filter(kind=Job.Kind.EVALUATE).exists()
    figure_encode_batch(figure_ids=result.figure_ids[3:], model_id=late.pk)
    accepted = admin_api.post("/api/v1/evaluations/", {"corpus": result.corpus_id, "models": [late.pk]}, format="json")
    assert accepted.status_code == 202, accepted.json()


def test_evaluate_against_the_examiners_judgments(two_models, admin_api, admin_user, examiner,
                                                  django_capture_on_commit_callbacks):
    """The cases' logged original queries, run again under each model, scored against the case's
    grades (>= 2 relevant, unjudged not relevant); the active model reproduces the logged
    rankings, so its numbers are checked by hand from the log."""
    import datetime as dt

    from PIL import Image

    from cases.models import LoggedHit
    from cases.services.cases import case_create
    from cases.services.judgments import judgment_set
    from cases.services.searches import QueryDrawing, case_search_run
    from retrieval.models import Figure

    result, active, other = two_models
    refused = admin_api.post("/api/v1/evaluations/", {"qrels": "judgments", "models": [active.pk]}, format="json")
    assert refused.status_code == 400 and "graded relevant" in refused.json()["message"]

    figures = list(Figure.objects.filter(pk__in=result.figure_ids).select_related("patent").order_by("pk"))
    case = case_create(examiner=examiner, application_number="29/000,001", title="Widget",
                       cutoff_date=dt.date(2030, 1, 1), locarno_class="14-04")
    seed = figures[0]
    with seed.image.open("rb") as f:
        data = f.read()
    drawn = case_search_run(case=case, user=examiner, k=12,
                            drawings=[QueryDrawing(data, "query.png", Image.open(seed.image.path))])
    same_patent = [f for f in figures if f.patent_id == seed.patent_id]
    assert len(same_patent) >= 3
    # "more like this" from a figure that is itself graded relevant: the search leaves it out, so
    # it cannot be found and does not count among the relevant figures that search could find
    like = case_search_run(case=case, user=examiner, k=12, like_figure=same_patent[1].pk)
    for figure in same_patent:
        judgment_set(case=case, figure_id=figure.pk, user=examiner, grade=3)
    marginal = next(f for f in figures if f.patent_id != seed.patent_id)
    judgment_set(case=case, figure_id=marginal.pk, user=examiner, grade=1)  # below the relevant grade

    with django_capture_on_commit_callbacks(execute=False):
        started = admin_api.post("/api/v1/evaluations/", {"qrels": "judgments", "models": [active.pk, other.pk]},
                                 format="json")
    assert started.status_code == 202, started.content
    for job_id in started.json()["jobs"]:
        assert job_evaluate_run(job_id=job_id) == Job.State.SUCCEEDED
    report = Job.objects.get(pk=started.json()["jobs"][0]).result["judgments"]
    assert (report["queries"], report["cases"], report["searches"], report["skipped"]) == (2, 1, 2, 0)

    relevant_ids = {f.pk for f in same_patent}
    aps, first_ranks = [], []
    for search in (drawn, like):
        ranked = list(LoggedHit.objects.filter(search=search).order_by("rank").values_list("figure_id", flat=True))
        findable = relevant_ids - {search.like_figure_id}
        assert search.like_figure_id not in ranked
        flags = [f in findable for f in ranked]
        found, total = 0, 0.0
        for rank, flag in enumerate(flags, start=1):
            if flag:
                found += 1
                total += found / rank
        aps.append(total / len(findable))
        first_ranks.append(flags.index(True) + 1)
    assert report["mAP"] == pytest.approx(sum(aps) / 2)
    assert report["mrr@10"] == pytest.approx(sum(1 / r for r in first_ranks if r <= 10) / 2)
    assert report["mrr@1"] == pytest.approx(sum(1 for r in first_ranks if r == 1) / 2)
    assert len(report["pr_curve"]["precision"]) == 11

    rows = admin_api.get("/api/v1/evaluations/").json()
    judged = sorted(r["model"] for r in rows if r["relevance"] == "judgments")
    assert judged == ["other", "test-tiny"]
    client = Client()
    client.force_login(admin_user)
    page = client.get("/console/evaluation/").content.decode()
    assert "examiners&#x27; judgments · relevance judgments" in page
    assert f"{report['mAP']:.3f}" in page
