"""A study defined through the API gets its arm models' vectors from a real Celery worker."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from studies.models import Study
from studies.services.definition import study_vectors_missing
from tests.conftest import wait_for
from tests.studies.conftest import MODEL_A, MODEL_B

pytestmark = [pytest.mark.worker, pytest.mark.slow]


def test_vectors_are_queued_on_commit_and_the_participant_waits_for_them(
    celery_worker, study_corpus, participants
):
    admin = APIClient()
    admin.force_authenticate(User.objects.create_user("root", password="x", role=User.Role.ADMIN))
    response = admin.post("/api/v1/studies/", {
        "name": "queued", "arms": [MODEL_A, MODEL_B], "participants": ["pia"], "tasks_from": study_corpus,
        "n_tasks": 2, "k": 5,
    }, format="json")
    assert response.status_code == 201, response.content
    study = Study.objects.get(name="queued")
    pia = APIClient()
    pia.force_authenticate(participants[0])
    first = pia.get("/api/v1/study/tasks/next/")
    if first.status_code == 503:  # the worker has not finished yet: a clear answer, nothing started
        assert first["Retry-After"] and "being prepared" in first.json()["message"]
        assert not study.participants.get().assignments.filter(started_at__isnull=False).exists()
    wait_for(lambda: not any(study_vectors_missing(study=study).values()), timeout=120)
    task = pia.get("/api/v1/study/tasks/next/")
    assert task.status_code == 200 and len(task.json()["hits"]) == 5
