"""Through the API with a real Celery worker: upload a zip (202, job id), watch the job on
GET /api/v1/jobs/{id}/ until it ends; a refused corpus lists its rows, also as CSV."""

from __future__ import annotations

import pytest

from console.models import Job
from retrieval.models import Figure
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]

JOB_KEYS = {"state", "done", "failed", "pending", "total", "problems"}


@pytest.fixture(autouse=True)
def _dirs(settings, tmp_path):
    settings.CONSOLE_UPLOAD_DIR = tmp_path / "uploads"


def _finished(admin_api, job_id):  # noqa: ANN001, ANN202
    box = {}

    def check() -> bool:
        box["job"] = admin_api.get(f"/api/v1/jobs/{job_id}/").json()
        return box["job"]["state"] not in ("queued", "running")

    wait_for(check, timeout=120)
    return box["job"]


def test_upload_ingest_and_encode_on_workers(celery_worker, admin_api, active_model, good_zip, truncated_zip):
    with open(good_zip, "rb") as f:
        response = admin_api.post("/api/v1/corpora/", {"archive": f, "name": "uploaded"}, format="multipart")
    assert response.status_code == 202, response.content
    assert set(response.json()) == {"job"}
    job = _finished(admin_api, response.json()["job"])
    assert JOB_KEYS <= set(job)
    assert (job["state"], job["done"], job["failed"], job["pending"], job["total"], job["problems"]) == (
        "succeeded", 12, 0, 0, 12, []
    )
    encode = Job.objects.get(kind=Job.Kind.ENCODE)
    encoded = _finished(admin_api, encode.pk)
    assert (encoded["state"], encoded["done"], encoded["pending"], encoded["total"]) == ("succeeded", 12, 0, 12)
    listed = admin_api.get("/api/v1/jobs/").json()["results"]
    assert [j["kind"] for j in listed] == ["encode", "ingest"]

    with open(truncated_zip, "rb") as f:
        refused = admin_api.post("/api/v1/corpora/", {"archive": f}, format="multipart")
    assert refused.status_code == 202
    job = _finished(admin_api, refused.json()["job"])
    assert job["state"] == "failed"
    assert [(p["file"], p["line"]) for p in job["problems"]] == [("cut.png", 3), ("gone.png", 4)]
    assert Figure.objects.count() == 12  # nothing of the refused corpus was written
    csv = admin_api.get(f"/api/v1/jobs/{job['id']}/problems.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0] == "file,line,reason" and lines[2] == "gone.png,4,file not found"


def test_upload_without_archive_or_folder(admin_api):
    response = admin_api.post("/api/v1/corpora/", {"name": "x"}, format="multipart")
    assert response.status_code == 400
    assert "Send either archive (a .zip file) or folder" in response.json()["message"]
    assert not Job.objects.exists()
