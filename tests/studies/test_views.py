"""The study pages: the participant's page is blind; the admin's pages define and summarise."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from studies.models import Study
from studies.services import participation
from tests.pages import alert_lines, signed_in
from tests.studies.conftest import MODEL_A, MODEL_B, make_study

pytestmark = pytest.mark.django_db

def test_participant_pages_never_name_an_arm(study_corpus, participants):
    study = Study.objects.get(pk=make_study("pages", study_corpus, tasks=2).study_id)
    pia = participants[0]
    participation.assignment_next(user=pia)
    client = signed_in(pia)
    home = client.get("/studies/")
    assert home.status_code == 302 and home["Location"] == "/studies/run/"
    search = client.get("/")  # the search page names the active model: participants go to their tasks
    assert search.status_code == 302 and search["Location"] == "/studies/run/"
    page = client.get("/studies/run/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "I think that I would like to use this system frequently." in html
    secrets = [MODEL_A, MODEL_B, *study.arms.values_list("name", flat=True)]
    for secret in secrets:
        assert secret not in html
    assert "data-arm" not in html
    assert client.get(f"/studies/{study.pk}/").status_code == 403
    assert client.get("/studies/new/").status_code == 403


def test_admin_sees_the_summary_with_a_plot_per_metric_and_the_exports(study_corpus, participants):
    study = Study.objects.get(pk=make_study("admin-page", study_corpus, tasks=1).study_id)
    admin = signed_in(User.objects.create_user("root", password="x", role=User.Role.ADMIN))
    listing = admin.get("/studies/").content.decode()
    assert "admin-page" in listing
    html = admin.get(f"/studies/{study.pk}/").content.decode()
    assert html.count("<svg") == 4
    assert MODEL_A in html and MODEL_B in html
    for name in ("events", "outcomes", "questionnaires"):
        assert f"/api/v1/studies/{study.pk}/{name}.csv" in html
    assert admin.get("/studies/run/").status_code == 403


def test_admin_creates_a_study_on_the_page(study_corpus, participants):
    admin = signed_in(User.objects.create_user("root", password="x", role=User.Role.ADMIN))
    form = admin.get("/studies/new/").content.decode()
    assert f"{MODEL_B}+text" in form and "pia" in form
    data = {"name": "from-page", "arms": [MODEL_A, MODEL_B], "corpus": study_corpus, "n_tasks": 2, "views": 1,
            "participants": ["pia", "paul"], "design": "interleave", "k": 6, "seed": 1}
    response = admin.post("/studies/new/", data)
    study = Study.objects.get(name="from-page")
    assert response.status_code == 302 and response["Location"] == f"/studies/{study.pk}/"
    assert study.tasks.count() == 2 and study.k == 6 and study.design == "interleave"
    one_arm = admin.post("/studies/new/", {**data, "name": "one-arm", "arms": [MODEL_A]})
    assert one_arm.status_code == 400 and "Arms: a study needs at least two arms" in alert_lines(one_arm)
    again = admin.post("/studies/new/", {**data, "time_limit_s": 2**31})
    assert again.status_code == 400
    assert alert_lines(again) == ["The study was not created.", "Name: a study named 'from-page' already exists",
                                  f"Time limit per task (seconds): must be at most {2**31 - 1}"]
    body = {"name": "from-page", "arms": [MODEL_A, MODEL_B], "participants": ["pia"], "tasks_from": study_corpus,
            "n_tasks": 1, "views": 1, "time_limit_s": 2**31}
    api = APIClient()
    api.force_authenticate(User.objects.get(username="root"))
    refused = api.post("/api/v1/studies/", body, format="json").json()  # the API keeps its keys
    assert refused["message"] == ("The study was not created: name: a study named 'from-page' already exists "
                                  "(and 1 more problems).")
    assert refused["extra"]["problems"] == [
        {"where": "name", "reason": "a study named 'from-page' already exists"},
        {"where": "time_limit_s", "reason": f"must be at most {2**31 - 1}"}]


def test_admin_adds_a_participant_on_the_study_page(study_corpus, participants):
    study = Study.objects.get(pk=make_study("grow-page", study_corpus, tasks=1).study_id)
    User.objects.create_user("otto", password="x", role=User.Role.PARTICIPANT)
    admin = signed_in(User.objects.create_user("root", password="x", role=User.Role.ADMIN))
    page = admin.get(f"/studies/{study.pk}/").content.decode()
    assert 'value="otto"' in page and 'value="pia"' not in page
    response = admin.post(f"/studies/{study.pk}/participants/", {"participants": ["otto"]})
    assert response.status_code == 302
    assert study.participants.filter(user__username="otto", position=2).exists()
    refused = admin.post(f"/studies/{study.pk}/participants/", {"participants": ["otto"]}, follow=True)
    assert alert_lines(refused) == ["Add participants: 'otto' already takes part in this study"]
    nobody = admin.post(f"/studies/{study.pk}/participants/", {}, follow=True)
    assert alert_lines(nobody) == ["Add participants: This field is required."]
