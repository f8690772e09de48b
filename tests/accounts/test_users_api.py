"""/api/v1/users/: the users page's actions for scripts (provisioning a class of study
participants, a leaver's deactivation), through the same services and checks."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from rest_framework.authtoken.models import Token

from accounts.models import User
from tests.accounts.factories import UserFactory
from tests.conftest import api_client
from tests.pages import signed_in

pytestmark = pytest.mark.django_db


def test_an_admin_adds_lists_changes_and_resets_users_through_the_api(admin_user, examiner):
    api = api_client(admin_user)
    made = api.post("/api/v1/users/", {"username": "pia", "email": "pia@lab.example", "role": "participant"},
                    format="json")
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    body = made.json()
    assert {k: body[k] for k in ("username", "email", "role", "is_active", "password_change_required")} == {
        "username": "pia", "email": "pia@lab.example", "role": "participant", "is_active": True,
        "password_change_required": True}
    pia = User.objects.get(username="pia")
    assert pia.check_password(body["one_time_password"])
    assert Client().post("/accounts/login/", {"username": "pia", "password": body["one_time_password"]}).status_code == 302

    listed = api.get("/api/v1/users/?role=participant").json()
    assert listed["count"] == 1 and listed["results"][0]["username"] == "pia"
    assert "one_time_password" not in listed["results"][0]
    assert [u["username"] for u in api.get("/api/v1/users/?state=pending").json()["results"]] == ["pia"]
    assert api.get(f"/api/v1/users/{examiner.pk}/").json()["has_token"] is False

    changed = api.patch(f"/api/v1/users/{examiner.pk}/", {"role": "admin", "is_active": False,
                                                          "email": "ada@example.org"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["is_active"], changed.json()["email"]) == (
        "admin", False, "ada@example.org")
    reset = api.post(f"/api/v1/users/{pia.pk}/password/")
    assert reset.status_code == 200 and reset["Cache-Control"] == "no-store"
    pia.refresh_from_db()
    assert pia.check_password(reset.json()["one_time_password"])
    assert api.post(f"/api/v1/users/{pia.pk}/unlock/").json() == {"removed": 0}
    assert api.post(f"/api/v1/users/{pia.pk}/sessions/end/").status_code == 204
    assert LogEntry.objects.filter(user=admin_user).count() == 6  # made, email, role, deactivated, reset, sessions
    assert LogEntry.objects.filter(change_message="Email changed from none to ada@example.org.").exists()


def test_refusals_have_the_api_s_error_shape_and_change_nothing(admin_user, examiner):
    api = api_client(admin_user)
    operator = UserFactory(username="ops", is_superuser=True, role=User.Role.ADMIN)
    before = list(User.objects.order_by("pk").values_list("username", "role", "is_active", "password"))
    for method, url, body, status, message in (
        ("post", "/api/v1/users/", {"username": "ada", "role": "examiner"}, 400, "A user named 'ada' exists already."),
        ("post", "/api/v1/users/", {"username": "a b"}, 400,
         "username: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."),
        ("patch", f"/api/v1/users/{examiner.pk}/", {}, 400, "Send role, is_active, email or several."),
        ("patch", f"/api/v1/users/{examiner.pk}/", {"role": "boss"}, 400, 'role: "boss" is not a valid choice.'),
        ("patch", f"/api/v1/users/{admin_user.pk}/", {"is_active": False}, 400,
         "You cannot deactivate yourself: another admin can."),
        # a role and a refused deactivation together: neither is made
        ("patch", f"/api/v1/users/{operator.pk}/", {"role": "examiner"}, 400,
         "ops is an operator account (superuser): only an operator changes it, in the admin site."),
        ("post", f"/api/v1/users/{admin_user.pk}/password/", None, 400,
         "Your own password is changed on your account page, with the one you have now."),
        ("get", "/api/v1/users/999999/", None, 404, "No such user."),
        ("get", "/api/v1/users/?state=gone", None, 400, 'state: "gone" is not a valid choice.'),
    ):
        response = getattr(api, method)(url, body, format="json") if body is not None else getattr(api, method)(url)
        assert response.status_code == status, (url, response.content)
        assert response.json()["message"] == message
    mixed = api.patch(f"/api/v1/users/{admin_user.pk}/", {"role": "admin", "is_active": False}, format="json")
    assert mixed.status_code == 400
    assert list(User.objects.order_by("pk").values_list("username", "role", "is_active", "password")) == before
    assert not LogEntry.objects.exists()


def test_examiners_and_tokens_of_the_deactivated_get_nothing(examiner, admin_user):
    refused = api_client(examiner).get("/api/v1/users/")
    assert refused.status_code == 403 and refused.json()["message"] == "Only admins use the console."
    token = Token.objects.create(user=admin_user)
    assert Client().get("/api/v1/users/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_a_leaver_s_open_cases_go_to_another_examiner_through_the_api(admin_user, examiner):
    import datetime as dt

    from cases.models import Case
    from cases.services.cases import case_create

    bob = UserFactory(username="bob")
    case = case_create(examiner=examiner, application_number="29/1", title="Lamp", cutoff_date=dt.date(2030, 1, 1))
    api = api_client(admin_user)
    assert api.post(f"/api/v1/users/{examiner.pk}/cases/", {"to": "nobody"}, format="json").json()["message"] == (
        "There is no user named 'nobody'.")
    assert api.post(f"/api/v1/users/{examiner.pk}/cases/", {"to": "bob"}, format="json").json() == {"moved": [case.pk]}
    assert Case.objects.get(pk=case.pk).examiner == bob


def test_several_users_through_the_api_all_or_none(admin_user, examiner):
    api = api_client(admin_user)
    refused = api.post("/api/v1/users/batch/", {"role": "participant", "users": [
        {"username": "pia"}, {"username": "ada"}, {"username": "PIA"}]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["extra"]["problems"] == [
        {"entry": 2, "reason": "a user named 'ada' exists already"}, {"entry": 3, "reason": "'PIA' is also entry 1"}]
    assert not User.objects.filter(username="pia").exists()
    made = api.post("/api/v1/users/batch/", {"role": "participant", "users": [
        {"username": "pia", "email": "pia@lab.example"}, {"username": "paul"}]}, format="json")
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    users = made.json()["users"]
    assert [(u["username"], u["role"]) for u in users] == [("pia", "participant"), ("paul", "participant")]
    assert all(User.objects.get(username=u["username"]).check_password(u["one_time_password"]) for u in users)


def test_the_users_csv_lists_who_may_sign_in_as_filtered(admin_user, examiner):
    import csv
    import io

    UserFactory(username="=cmd", role=User.Role.PARTICIPANT, is_active=False)
    Token.objects.create(user=examiner)
    page = signed_in(admin_user).get("/console/users/?role=examiner").content.decode()
    assert 'href="/api/v1/users.csv?role=examiner"' in page
    rows = list(csv.reader(io.StringIO(b"".join(api_client(admin_user).get("/api/v1/users.csv").streaming_content)
                                       .decode())))
    assert rows[0] == ["username", "email", "role", "is_active", "is_operator", "one_time_password_pending",
                       "api_token", "open_cases", "last_login", "date_joined"]
    assert [r[:8] for r in rows[1:]] == [
        ["'=cmd", "", "participant", "no", "no", "no", "no", "0"],  # a name a spreadsheet would run: inert
        ["ada", "", "examiner", "yes", "no", "no", "yes", "0"],
        ["root", "", "admin", "yes", "no", "no", "no", "0"]]
    only = api_client(admin_user).get("/api/v1/users.csv?role=examiner")
    assert b"".join(only.streaming_content).decode().count("\r\n") == 2
    assert api_client(admin_user).get("/api/v1/users.csv?state=nope").status_code == 400
    assert api_client(examiner).get("/api/v1/users.csv").status_code == 403
