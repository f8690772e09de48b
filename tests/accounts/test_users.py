"""Users as admins manage them on the console's users page, and a user's own account page:
one-time passwords, roles, deactivation, resets, lockouts, passwords and API tokens. Sign-ins go
through the real login form (django-axes counting failures), never force_login, where the
password is what is tested."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from accounts.models import User
from cases.models import Case
from cases.services.cases import case_create
from tests.accounts.factories import PASSWORD, UserFactory
from tests.pages import alert_lines, signed_in
from tests.races import at_once, slowed

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh passphrase of mine 42"

def sign_in(username: str, password: str) -> tuple[Client, object]:
    """A browser that sent the login form: the client and the login's answer."""
    client = Client()
    return client, client.post("/accounts/login/", {"username": username, "password": password})


def one_time_password(response: object) -> str:
    content = response.content.decode()  # type: ignore[attr-defined]
    match = re.search(r'<code class="secret" id="one-time-password">([^<]+)</code>', content)
    assert match, content[:2000]
    return match.group(1)


def notices(response: object) -> list[str]:
    content = response.content.decode()  # type: ignore[attr-defined]
    boxes = re.findall(r'<div class="notice" role="status">(.*?)</div>', content, re.S)
    return [line.strip() for box in boxes for line in re.findall(r"<p[^>]*>(.*?)</p>", box, re.S)]


def test_an_admin_adds_a_user_who_signs_in_with_the_one_time_password_and_must_choose_their_own(admin_user):
    admin = signed_in(admin_user)
    added = admin.post("/console/users/", {"username": "grace", "email": "grace@example.org", "role": "examiner"})
    assert added.status_code == 200
    assert "no-store" in added["Cache-Control"]  # shown once: not kept by the browser's cache
    password = one_time_password(added)
    grace = User.objects.get(username="grace")
    assert grace.role == User.Role.EXAMINER and grace.email == "grace@example.org"
    assert grace.password_change_required and grace.check_password(password)
    assert password not in User.objects.values_list("password", flat=True)  # only its hash is stored

    browser, login = sign_in("grace", password)
    assert login.status_code == 302
    page = browser.get("/", follow=True)  # every page leads to the password page first
    assert page.redirect_chain[-1][0] == "/accounts/password/?next=%2F"
    assert "Choose your password" in page.content.decode()
    assert browser.get("/cases/")["Location"] == "/accounts/password/?next=%2Fcases%2F"
    api = browser.get("/api/v1/cases/")
    assert api.status_code == 403 and api.json()["message"].startswith("Choose your own password first")

    refused = browser.post("/accounts/password/", {"new_password1": "grace", "new_password2": "grace", "next": "/"})
    assert refused.status_code == 400
    assert any("too similar to the username" in line or "too short" in line for line in alert_lines(refused))
    chosen = browser.post("/accounts/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
                                                  "next": "/cases/"})
    assert chosen["Location"] == "/cases/"
    assert browser.get("/cases/").status_code == 200  # this session goes on
    grace.refresh_from_db()
    assert not grace.password_change_required
    assert sign_in("grace", password)[1].status_code == 200  # the one-time password is spent
    assert sign_in("grace", NEW_PASSWORD)[1].status_code == 302
    entry = LogEntry.objects.get(object_id=str(grace.pk))
    assert entry.user == admin_user and "one-time password" in entry.change_message


def test_a_refused_new_user_says_why_keeps_what_was_typed_and_adds_no_one(admin_user, examiner):
    admin = signed_in(admin_user)
    before = User.objects.count()
    for data, problem in (
        ({"username": "ADA", "role": "examiner"}, "A user named 'ADA' exists already."),
        ({"username": "has space", "role": "examiner"}, "Username: Enter a valid username."),
        ({"username": "bob", "email": "not-an-email", "role": "examiner"}, "Email: Enter a valid email address."),
        ({"username": "bob", "role": "superuser"}, 'Role: "superuser" is not a valid choice.'),
        ({"username": "b" * 151, "role": "examiner"}, "Username: Ensure this field has no more than 150 characters."),
    ):
        response = admin.post("/console/users/", data)
        assert response.status_code == 400
        assert any(line.startswith(problem) for line in alert_lines(response)), (data, alert_lines(response))
        assert f'value="{data["username"]}"' in response.content.decode()
    assert User.objects.count() == before


def test_a_new_role_brings_its_permissions_and_is_logged_with_who_changed_it(admin_user, examiner):
    admin = signed_in(admin_user)
    assert signed_in(examiner).get("/console/").status_code == 403
    response = admin.post(f"/console/users/{examiner.pk}/role", {"role": "admin", "back": "/console/users/?q=ad"})
    assert response["Location"] == "/console/users/?q=ad"
    examiner.refresh_from_db()
    assert examiner.role == "admin" and examiner.is_staff
    assert list(examiner.groups.values_list("name", flat=True)) == ["role: admin"]
    assert signed_in(examiner).get("/console/").status_code == 200
    admin.post(f"/console/users/{examiner.pk}/role", {"role": "participant"})
    examiner = User.objects.get(pk=examiner.pk)  # permissions are cached on the object
    assert not examiner.is_staff and not examiner.has_perm("accounts.search_prior_art")
    page = admin.get("/console/users/")
    assert "Role changed from Admin to Study participant." in page.content.decode()
    history = [e.change_message for e in LogEntry.objects.filter(object_id=str(examiner.pk)).order_by("pk")]
    assert history == ["Role changed from Examiner to Admin.", "Role changed from Admin to Study participant."]


def test_an_admin_cannot_lock_themselves_out_nor_take_over_an_operator(admin_user):
    admin = signed_in(admin_user)
    operator = UserFactory(username="ops", role=User.Role.ADMIN, is_superuser=True, is_staff=True)
    for action, data in (("role", {"role": "examiner"}), ("deactivate", {}), ("password", {})):
        mine = admin.post(f"/console/users/{admin_user.pk}/{action}", data, follow=True)
        assert alert_lines(mine) and alert_lines(mine)[0].startswith(("You cannot", "Your own password"))
        theirs = admin.post(f"/console/users/{operator.pk}/{action}", data, follow=True)
        assert alert_lines(theirs) == ["ops is an operator account (superuser): only an operator changes it, "
                                       "in the admin site."]
    admin_user.refresh_from_db()
    operator.refresh_from_db()
    assert admin_user.role == "admin" and admin_user.is_active and admin_user.check_password(PASSWORD)
    assert operator.is_active and operator.check_password(PASSWORD)
    assert not LogEntry.objects.exists()
    assert signed_in(admin_user).post(f"/console/users/{admin_user.pk}/nope").status_code == 404
    assert signed_in(admin_user).post("/console/users/999999/deactivate").status_code == 404


def test_a_deactivated_user_is_signed_out_everywhere_and_their_work_stays(admin_user, examiner):
    case = case_create(examiner=examiner, application_number="29/1", title="Lamp", cutoff_date=dt.date(2020, 1, 1))
    browser = signed_in(examiner)
    token = Token.objects.create(user=examiner)
    assert browser.get("/cases/").status_code == 200
    signed_in(admin_user).post(f"/console/users/{examiner.pk}/deactivate")
    assert browser.get("/cases/")["Location"].startswith("/accounts/login/")  # the open session ended
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token.key}").json()["message"] == "Invalid token."
    assert not Token.objects.filter(user=examiner).exists()
    assert LogEntry.objects.get(object_id=str(examiner.pk)).change_message == "Deactivated; API token deleted."
    assert sign_in("ada", PASSWORD)[1].status_code == 200  # the login form refuses them
    assert Case.objects.filter(pk=case.pk).exists()
    assert f"/cases/{case.pk}/" in signed_in(admin_user).get("/cases/").content.decode()  # admins still see it
    page = signed_in(admin_user).get("/console/users/?state=inactive")
    assert 'data-user="ada"' in page.content.decode() and 'data-user="root"' not in page.content.decode()
    signed_in(admin_user).post(f"/console/users/{examiner.pk}/activate")
    assert sign_in("ada", PASSWORD)[1].status_code == 302
    signed_in(admin_user).post(f"/console/users/{examiner.pk}/deactivate")  # no token this time: not said
    assert [e.change_message for e in LogEntry.objects.filter(object_id=str(examiner.pk)).order_by("pk")] == [
        "Deactivated; API token deleted.", "Reactivated.", "Deactivated."]


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_reset_password_ends_sessions_and_lifts_a_lockout(admin_user, examiner):
    browser = signed_in(examiner)
    for _ in range(3):
        sign_in("ada", "wrong")
    assert sign_in("ada", PASSWORD)[1].status_code == 429  # locked out, the right password too
    page = signed_in(admin_user).get("/console/users/?q=ada").content.decode()
    assert "locked out until" in page and "Lift the lockout of ada" in page

    reset = signed_in(admin_user).post(f"/console/users/{examiner.pk}/password")
    password = one_time_password(reset)
    assert browser.get("/cases/")["Location"].startswith("/accounts/login/")
    assert sign_in("ada", PASSWORD)[1].status_code == 200  # the old password no longer works
    client, login = sign_in("ada", password)
    assert login.status_code == 302
    assert client.get("/")["Location"] == "/accounts/password/?next=%2F"


@override_settings(AXES_FAILURE_LIMIT=2)
def test_unlock_lifts_a_lockout_and_keeps_the_password(admin_user, examiner):
    for _ in range(2):
        sign_in("ada", "wrong")
    assert sign_in("ada", PASSWORD)[1].status_code == 429
    done = signed_in(admin_user).post(f"/console/users/{examiner.pk}/unlock", follow=True)
    assert notices(done) == ["ada may sign in again from every address."]
    assert sign_in("ada", PASSWORD)[1].status_code == 302
    again = signed_in(admin_user).post(f"/console/users/{examiner.pk}/unlock", follow=True)
    assert notices(again) == ["ada was not locked out."]


def test_examiners_cannot_act_on_users(examiner, admin_user):
    browser = signed_in(examiner)
    for url in ("/console/users/", f"/console/users/{admin_user.pk}/password", f"/console/users/{admin_user.pk}/role"):
        assert browser.post(url, {"username": "x", "role": "admin"}).status_code == 403
    assert User.objects.count() == 2 and not LogEntry.objects.exists()
    assert 'href="/console/users/"' in signed_in(admin_user).get("/console/").content.decode()


def test_the_users_page_filters_and_pages(admin_user):
    UserFactory.create_batch(55, role=User.Role.PARTICIPANT)
    UserFactory(username="zoe", email="zoe@lab.example", role=User.Role.EXAMINER, password_change_required=True)
    admin = signed_in(admin_user)
    first = admin.get("/console/users/").content.decode()
    assert first.count("data-user=") == 50 and "page 1 of 2 · 57 in all" in first
    assert admin.get("/console/users/?q=lab.example").content.decode().count("data-user=") == 1
    pending = admin.get("/console/users/?state=pending").content.decode()
    assert 'data-user="zoe"' in pending and "one-time password" in pending and pending.count("data-user=") == 1
    examiners = admin.get("/console/users/?role=examiner").content.decode()
    assert examiners.count("data-user=") == 1
    assert admin.get("/console/users/?role=nope&state=%00&q=" + "x" * 5000).status_code == 200


def test_own_password_change_needs_the_current_one_and_signs_out_other_sessions(examiner):
    other = signed_in(examiner)
    browser, _ = sign_in("ada", PASSWORD)
    wrong = browser.post("/accounts/password/", {"old_password": "nope", "new_password1": NEW_PASSWORD,
                                                 "new_password2": NEW_PASSWORD})
    assert wrong.status_code == 400
    assert alert_lines(wrong) == ["Old password: Your old password was entered incorrectly. Please enter it again."]
    differ = browser.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                  "new_password2": NEW_PASSWORD + "x"})
    assert alert_lines(differ) == ["New password confirmation: The two password fields didn’t match."]
    done = browser.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                "new_password2": NEW_PASSWORD}, follow=True)
    assert done.redirect_chain == [("/accounts/", 302)]
    assert notices(done) == ["Your password is changed. Your other sessions are signed out."]
    assert other.get("/cases/")["Location"].startswith("/accounts/login/")
    assert browser.get("/cases/").status_code == 200
    offsite = browser.post("/accounts/password/", {"old_password": NEW_PASSWORD, "new_password1": PASSWORD + "!",
                                                   "new_password2": PASSWORD + "!", "next": "https://evil.example/"})
    assert offsite["Location"] == "/accounts/"  # a next address of another site is not followed


def test_an_api_token_is_shown_once_works_and_is_replaced_or_deleted(examiner):
    browser = signed_in(examiner)
    assert "You have no token." in browser.get("/accounts/").content.decode()
    made = browser.post("/accounts/", {"action": "token"})
    assert "no-store" in made["Cache-Control"]
    key = re.search(r'id="new-token">([0-9a-f]{40})<', made.content.decode()).group(1)
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    page = browser.get("/accounts/").content.decode()
    assert key not in page and f"…{key[-4:]}" in page
    replaced = browser.post("/accounts/", {"action": "token"})
    new_key = re.search(r'id="new-token">([0-9a-f]{40})<', replaced.content.decode()).group(1)
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {key}").json()["message"] == "Invalid token."
    deleted = browser.post("/accounts/", {"action": "token_delete"}, follow=True)
    assert notices(deleted) == ["Your API token is deleted; clients that used it are refused from now on."]
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {new_key}").json()["message"] == "Invalid token."
    assert browser.post("/accounts/", {"action": "nope"}).status_code == 400


def test_participants_have_no_token_section_and_cannot_make_one(db):
    participant = signed_in(UserFactory(username="pat", role=User.Role.PARTICIPANT))
    page = participant.get("/accounts/").content.decode()
    assert "API token" not in page and "Change your password" in page
    assert participant.post("/accounts/", {"action": "token"}).status_code == 403
    assert not Token.objects.exists()


def test_the_account_page_lists_what_admins_changed(admin_user, examiner):
    signed_in(admin_user).post(f"/console/users/{examiner.pk}/role", {"role": "admin"})
    page = signed_in(User.objects.get(pk=examiner.pk)).get("/accounts/").content.decode()
    assert "Changes admins made to your account" in page and "Role changed from Examiner to Admin." in page


def test_two_admins_adding_the_same_name_at_once_make_one_user(transactional_db, monkeypatch):
    """Both requests pass the name check before either has written; the database's unique index
    decides, and the second admin is told the name exists, not shown a server error."""
    from accounts.services import user_invite

    admin = UserFactory(username="root", role=User.Role.ADMIN)
    slowed(monkeypatch, User, "full_clean")
    assert at_once(lambda: user_invite(username="twin", role="examiner", by=admin)) == [
        "A user named 'twin' exists already.", "done"]
    assert User.objects.filter(username="twin").count() == 1
    assert LogEntry.objects.filter(object_repr="twin").count() == 1


def test_several_users_are_added_at_once_or_none_with_each_problem_named_by_its_line(admin_user, examiner):
    import json

    admin = signed_in(admin_user)
    text = "pia, pia@lab.example\n\npaul\nADA\nPia\nbad name\nzoe; not-an-address\n"
    refused = admin.post("/console/users/batch", {"users": text, "role": "participant"})
    assert refused.status_code == 400
    assert alert_lines(refused) == [
        "Line 6: Username: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ "
        "characters.",
        "Line 7: Email: Enter a valid email address.",
        "No user was added.",
    ]
    assert "pia, pia@lab.example\n\npaul" in refused.content.decode()  # what was typed stays
    text = "pia, pia@lab.example\n\npaul\nADA\nPia\n"
    refused = admin.post("/console/users/batch", {"users": text, "role": "participant"})
    assert alert_lines(refused) == ["Line 4: a user named 'ADA' exists already.", "Line 5: 'Pia' is also entry 1.",
                                    "No user was added."]
    assert User.objects.count() == 2

    made = admin.post("/console/users/batch", {"users": "pia, pia@lab.example\n\npaul\n", "role": "participant"})
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    page = made.content.decode()
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]*)</td><td>([^<]+)</td><td><code class=\"secret\">([^<]+)</code>",
                      page)
    assert [(name, email, role) for name, email, role, _ in rows] == [
        ("pia", "pia@lab.example", "Study participant"), ("paul", "", "Study participant")]
    for name, _, _, password in rows:
        user = User.objects.get(username=name)
        assert user.check_password(password) and user.password_change_required and user.role == "participant"
    csv = json.loads(re.search(r'<script id="one-time-passwords-csv" type="application/json">(.*?)</script>',
                               page, re.S).group(1))
    assert csv.splitlines() == ["username,email,role,one_time_password",
                                *[f"{n},{e},participant,{p}" for n, e, _, p in rows]]
    assert admin.post("/console/users/batch", {"users": "", "role": "participant"}).status_code == 400
    over = "\n".join(f"u{i}" for i in range(201))
    assert alert_lines(admin.post("/console/users/batch", {"users": over}))[0] == (
        "Users: Ensure this field has no more than 200 elements.")


def test_a_user_sets_their_own_email_address(examiner):
    browser = signed_in(examiner)
    saved = browser.post("/accounts/", {"action": "email", "email": " ada@example.org "}, follow=True)
    assert notices(saved) == ["Your email address is saved."]
    examiner.refresh_from_db()
    assert examiner.email == "ada@example.org"
    refused = browser.post("/accounts/", {"action": "email", "email": "not an address"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'role="alert"' in page and "Enter a valid email address." in page and 'value="not an address"' in page
    examiner.refresh_from_db()
    assert examiner.email == "ada@example.org"
    participant = signed_in(UserFactory(username="pat", role=User.Role.PARTICIPANT))
    assert participant.post("/accounts/", {"action": "email", "email": ""}).status_code == 302


def test_a_one_time_password_past_its_term_no_longer_signs_in(admin_user, examiner, settings):
    from django.utils import timezone

    settings.PATENTSEARCH_ONE_TIME_PASSWORD_DAYS = 2
    reset = signed_in(admin_user).post(f"/console/users/{examiner.pk}/password")
    password = one_time_password(reset)
    examiner.refresh_from_db()
    expires = examiner.one_time_password_expires_at
    assert abs((expires - timezone.now()).total_seconds() - 2 * 86400) < 60
    assert f"works until {timezone.localtime(expires):%Y-%m-%d %H:%M}" in reset.content.decode()
    User.objects.filter(pk=examiner.pk).update(one_time_password_expires_at=timezone.now() - dt.timedelta(seconds=1))
    _, refused = sign_in("ada", password)
    assert refused.status_code == 200
    assert re.search(r"Your one-time password expired on [0-9: -]+: ask an admin for a new one\.",
                     refused.content.decode())
    assert "one-time password expired</span>" in signed_in(admin_user).get("/console/users/").content.decode()
    again = one_time_password(signed_in(admin_user).post(f"/console/users/{examiner.pk}/password"))
    client, login = sign_in("ada", again)
    assert login.status_code == 302
    client.post("/accounts/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    examiner.refresh_from_db()
    assert examiner.one_time_password_expires_at is None and not examiner.password_change_required


def test_signing_out_everywhere_else_keeps_this_session_the_password_and_the_token(examiner, admin_user):
    elsewhere = signed_in(examiner)
    here, _ = sign_in("ada", PASSWORD)
    token = Token.objects.create(user=examiner)
    done = here.post("/accounts/", {"action": "sessions"}, follow=True)
    assert notices(done) == ["Your other sessions are signed out (other browsers and devices)."]
    assert here.get("/cases/").status_code == 200
    assert elsewhere.get("/cases/")["Location"].startswith("/accounts/login/")
    assert Client().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    assert sign_in("ada", PASSWORD)[1].status_code == 302

    # an admin ends all of them (a lost device): the user signs in again with the same password
    ended = signed_in(admin_user).post(f"/console/users/{examiner.pk}/sessions", follow=True)
    assert notices(ended) == ["ada is signed out everywhere; their password and API token still work."]
    assert here.get("/cases/")["Location"].startswith("/accounts/login/")
    assert sign_in("ada", PASSWORD)[1].status_code == 302
    assert LogEntry.objects.get(object_id=str(examiner.pk)).change_message == "Every session ended."
    operator = UserFactory(username="ops", is_superuser=True, role=User.Role.ADMIN)
    refused = signed_in(admin_user).post(f"/console/users/{operator.pk}/sessions", follow=True)
    assert alert_lines(refused)[0].startswith("ops is an operator account")


def test_a_session_made_before_any_sign_out_everywhere_still_holds_after_an_upgrade(examiner):
    """Generation 0 keeps Django's own session hash, so installing this version signs no one out."""
    from django.contrib.auth.base_user import AbstractBaseUser

    assert examiner.session_generation == 0
    assert examiner.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(examiner)
