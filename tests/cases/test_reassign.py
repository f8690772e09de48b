"""An admin gives a case to another examiner (one who left, a workload moved): the case moves
from one examiner's list to the other's, its record keeps who made each search and judgment, and
a move that would break a rule is refused and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry

from accounts.models import User
from cases.models import Case, CaseSearch
from cases.services.cases import case_create
from tests.accounts.factories import UserFactory
from tests.pages import alert_lines, signed_in

pytestmark = pytest.mark.django_db

def test_an_admin_gives_a_case_to_another_examiner_and_the_record_keeps_who_did_what(
    encoded_corpus, case, examiner, other_examiner, admin_user, examiner_api
):
    examiner_api.post(f"/api/v1/cases/{case.pk}/searches/", {"text": "widget", "k": 3}, format="multipart")
    admin = signed_in(admin_user)
    page = admin.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="reassign-form"' in page and '<option value="bob">bob</option>' in page
    assert 'value="ada" selected>ada (now)' in page
    moved = admin.post(f"/cases/{case.pk}/", {"action": "reassign", "examiner": "bob"})
    assert moved["Location"] == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.examiner == other_examiner
    assert signed_in(examiner).get(f"/cases/{case.pk}/").status_code == 404  # no longer hers
    bob = signed_in(other_examiner)
    assert bob.get(f"/cases/{case.pk}/").status_code == 200
    assert f"/cases/{case.pk}/" in bob.get("/cases/").content.decode()
    assert CaseSearch.objects.get(case=case).created_by == examiner  # the log keeps who searched
    entry = LogEntry.objects.get(object_id=str(case.pk))
    assert entry.user == admin_user and entry.change_message == "Moved from ada to bob."
    assert "Moved from ada to bob by root on" in bob.get(f"/cases/{case.pk}/").content.decode()


def test_a_move_that_breaks_a_rule_is_refused_and_changes_nothing(case, examiner, other_examiner, admin_user):
    admin = signed_in(admin_user)
    case_create(examiner=other_examiner, application_number=case.application_number, title="Bob's copy",
                cutoff_date=dt.date(2030, 1, 1))
    UserFactory(username="gone", is_active=False)
    UserFactory(username="pat", role=User.Role.PARTICIPANT)
    for examiner_name, problem in (
        ("bob", "bob already has a case for application 29/123,456: merge their work into one case first, "
                "or give this case to someone else."),
        ("gone", "gone cannot work cases: they are deactivated."),
        ("pat", "pat cannot work cases: their role does not search."),
        ("nobody", "Choose the examiner to give the case to."),
        ("a\x00b", "Choose the examiner to give the case to."),
    ):
        response = admin.post(f"/cases/{case.pk}/", {"action": "reassign", "examiner": examiner_name})
        assert response.status_code == 400
        assert alert_lines(response) == [problem]
    assert Case.objects.get(pk=case.pk).examiner == examiner
    refused = signed_in(examiner).post(f"/cases/{case.pk}/", {"action": "reassign", "examiner": "bob"})
    assert alert_lines(refused) == ["Only admins give a case to another examiner."]
    assert 'id="reassign-form"' not in signed_in(examiner).get(f"/cases/{case.pk}/").content.decode()
    assert Case.objects.get(pk=case.pk).examiner == examiner and not LogEntry.objects.exists()


def test_a_deactivated_examiner_s_open_cases_are_found_from_the_users_page(case, examiner, admin_user):
    admin = signed_in(admin_user)
    admin.post(f"/console/users/{examiner.pk}/deactivate")
    users = admin.get("/console/users/").content.decode()
    assert 'href="/cases/?examiner=ada&amp;status=open"' in users and ">to give<" in users
    listed = admin.get("/cases/?examiner=ada&status=open").content.decode()
    assert f"/cases/{case.pk}/" in listed and "1 case matches · open only · examiner ada" in listed
    assert f"/cases/{case.pk}/" not in admin.get("/cases/?examiner=root").content.decode()
    api = signed_in(admin_user).get("/api/v1/cases/?examiner=ada").json()
    assert [c["id"] for c in api["results"]] == [case.pk]


def test_a_leaver_s_open_cases_go_to_another_examiner_all_at_once_or_none(examiner, other_examiner, admin_user):
    admin = signed_in(admin_user)
    first, second = (case_create(examiner=examiner, application_number=n, title="Lamp", cutoff_date=dt.date(2030, 1, 1))
                     for n in ("29/1", "29/2"))
    closed = case_create(examiner=examiner, application_number="29/3", title="Old", cutoff_date=dt.date(2030, 1, 1))
    Case.objects.filter(pk=closed.pk).update(status=Case.Status.CLOSED)
    clash = case_create(examiner=other_examiner, application_number="29/2", title="Bob's", cutoff_date=dt.date(2030, 1, 1))
    admin.post(f"/console/users/{examiner.pk}/deactivate")
    page = admin.get("/console/users/").content.decode()
    assert "Give the 2 open cases of ada" in page

    refused = admin.post(f"/console/users/{examiner.pk}/cases", {"to": "bob"}, follow=True)
    assert alert_lines(refused) == ["bob already has a case for application 29/2: merge those first, or give them to "
                                    "someone else; no case was moved."]
    assert set(Case.objects.filter(examiner=examiner).values_list("pk", flat=True)) == {first.pk, second.pk, closed.pk}
    Case.objects.filter(pk=clash.pk).update(application_number="29/9")
    moved = admin.post(f"/console/users/{examiner.pk}/cases", {"to": "bob", "back": "/console/users/?state=inactive"})
    assert moved["Location"] == "/console/users/?state=inactive"
    assert set(Case.objects.filter(examiner=other_examiner).values_list("pk", flat=True)) == {first.pk, second.pk, clash.pk}
    assert Case.objects.get(pk=closed.pk).examiner == examiner  # a closed case stays with its record
    assert LogEntry.objects.filter(change_message="Moved from ada to bob.").count() == 2
    for to, problem in (("ada", "The cases are ada's already: choose another examiner."),
                        ("nobody", "Choose the examiner to give the cases to.")):
        again = admin.post(f"/console/users/{examiner.pk}/cases", {"to": to}, follow=True)
        assert alert_lines(again) == [problem]


def test_open_cases_of_someone_whose_role_no_longer_searches_are_marked_to_give(case, examiner, admin_user):
    admin = signed_in(admin_user)
    assert ">to give<" not in admin.get("/console/users/").content.decode()
    admin.post(f"/console/users/{examiner.pk}/role", {"role": "participant"})
    page = admin.get("/console/users/").content.decode()
    assert ">to give<" in page and "Give the 1 open case of ada" in page
