"""Model versions from the console: register beside the active model, atomic activation refused
below full coverage (unless forced, and then marked), roll back, delete."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User
from console.models import Job, ModelActivation
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import FigureEmbedding, RetrievalModel
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import small_corpus


@pytest.fixture
def corpus(tmp_path, active_model):
    result = corpus_ingest(path=small_corpus(tmp_path / "c", patents=2, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    return result


def _register(admin_api, checkpoint, name="second"):  # noqa: ANN001, ANN202
    response = admin_api.post("/api/v1/models/", {"checkpoint": str(checkpoint), "name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_register_lists_and_queues_a_reindex(admin_api, corpus, second_checkpoint, active_model, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        data = _register(admin_api, second_checkpoint)
    assert callbacks  # encoding of the catalogue is queued on commit
    assert data["is_active"] is False and data["coverage"] == {"encoded": 0, "total": 4, "percent": 0.0, "complete": False}
    job = Job.objects.get(pk=data["job"])
    assert job.kind == Job.Kind.REINDEX and job.model_id == data["id"]
    listed = admin_api.get("/api/v1/models/").json()
    assert [(m["name"], m["is_active"], m["coverage"]["percent"]) for m in listed] == [
        ("test-tiny", True, 100.0), ("second", False, 0.0),
    ]
    assert {"name", "architecture", "dim", "digest", "coverage", "is_active"} <= set(listed[0])
    # the active model keeps serving
    assert RetrievalModel.objects.get(is_active=True) == active_model


def test_activation_refused_at_partial_coverage(admin_api, corpus, second_checkpoint, active_model):
    data = _register(admin_api, second_checkpoint)
    figure_encode_batch(figure_ids=corpus.figure_ids[:2], model_id=data["id"])  # 2 of 4
    refused = admin_api.post(f"/api/v1/models/{data['id']}/activate/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("second has vectors for 2 of 4 figures (50.0 %)")
    assert RetrievalModel.objects.get(is_active=True) == active_model
    assert not ModelActivation.objects.exists()
    forced = admin_api.post(f"/api/v1/models/{data['id']}/activate/", {"force": True}, format="json")
    assert forced.status_code == 200 and forced.json()["forced"] is True
    assert RetrievalModel.objects.get(is_active=True).pk == data["id"]
    client = Client()

    client.force_login(User.objects.get(username="root"))
    page = client.get("/console/models/").content.decode()
    assert "forced at 50 % coverage" in page


def test_activate_at_full_coverage_then_roll_back(admin_api, corpus, second_checkpoint, active_model):
    data = _register(admin_api, second_checkpoint)
    figure_encode_batch(figure_ids=corpus.figure_ids, model_id=data["id"])
    switched = admin_api.post(f"/api/v1/models/{data['id']}/activate/", {}, format="json")
    assert switched.status_code == 200
    assert switched.json() | {"created_at": None} == {
        "model": data["id"], "previous": active_model.pk, "forced": False, "rollback": False,
        "coverage": 1.0, "created_at": None,
    }
    assert RetrievalModel.objects.filter(is_active=True).count() == 1
    # rolling back from a model that is not active is refused
    assert admin_api.post(f"/api/v1/models/{active_model.pk}/rollback/").status_code == 400
    back = admin_api.post(f"/api/v1/models/{data['id']}/rollback/")
    assert back.status_code == 200 and back.json()["rollback"] is True and back.json()["forced"] is False
    assert RetrievalModel.objects.get(is_active=True) == active_model


def test_delete_a_model_and_its_vectors(admin_api, corpus, second_checkpoint, active_model):
    data = _register(admin_api, second_checkpoint)
    figure_encode_batch(figure_ids=corpus.figure_ids, model_id=data["id"])
    assert FigureEmbedding.objects.filter(model_id=data["id"]).count() == 4
    refused = admin_api.delete(f"/api/v1/models/{active_model.pk}/")
    assert refused.status_code == 400 and "Activate another model" in refused.json()["message"]
    assert admin_api.delete(f"/api/v1/models/{data['id']}/").status_code == 204
    assert not RetrievalModel.objects.filter(pk=data["id"]).exists()
    assert not FigureEmbedding.objects.filter(model_id=data["id"]).exists()


def test_register_bad_checkpoint(admin_api, active_model, tmp_path):
    response = admin_api.post("/api/v1/models/", {"checkpoint": str(tmp_path / "nothing")}, format="json")
    assert response.status_code == 400 and response.json()["message"]
    assert RetrievalModel.objects.count() == 1 and not Job.objects.exists()
    empty = admin_api.post("/api/v1/models/", {"checkpoint": ""}, format="json")
    assert empty.status_code == 400


def test_jobs_page_shows_encoding_per_corpus_and_model(admin_api, admin_user, corpus, second_checkpoint):
    data = _register(admin_api, second_checkpoint)
    figure_encode_batch(figure_ids=corpus.figure_ids[:1], model_id=data["id"])
    client = Client()
    client.force_login(admin_user)
    page = client.get("/console/").content.decode()
    table = page.split(f'data-model="{data["id"]}"', 1)[1].split("</table>", 1)[0]
    cells = dict(re.findall(r'<td data-label="(\w+)" class="num">([^<]*)</td>', table))
    # never handed to a broker here, so lost
    assert cells == {"Figures": "4", "Encoded": "1", "Failed": "0", "Waiting": "0", "Lost": "3"}
    job = admin_api.get(f"/api/v1/jobs/{data['job']}/").json()
    assert (job["kind"], job["done"], job["pending"], job["lost"], job["state"]) == ("reindex", 1, 3, 3, "running")


def test_coverage_short_of_done_never_reads_100_percent():
    from retrieval.selectors.encoding import Coverage

    assert Coverage(encoded=9_996, total=10_000).percent == 99.9 and not Coverage(encoded=9_996, total=10_000).complete
    assert Coverage(encoded=1, total=3).said() == "vectors for 1 of 3 figures (33.3 %)"
    assert Coverage(encoded=10_000, total=10_000).percent == 100.0 and Coverage(encoded=0, total=0).percent == 100.0
