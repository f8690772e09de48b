"""What a user sees on the pages around the features: error pages in the app's look, the
navigation, empty states, labelled forms and codes shown as words (Django's test client)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from accounts.models import User
from retrieval.models import Corpus
from studies.models import Study
from tests.accounts.factories import UserFactory
from tests.studies.conftest import make_study, participants, study_corpus, two_models  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _client(user: User | None = None, **options: object) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


def test_a_missing_page_is_the_apps_page_with_a_way_back(examiner):
    page = _client(examiner).get("/cases/99999/")
    assert page.status_code == 404
    html = page.content.decode()
    assert "<title>Not found · PatentSearch</title>" in html
    assert "Page not found" in html and "/cases/99999/" in html
    assert 'href="/"' in html and "Go to search" in html and "Log out" in html  # the app's top bar

    anonymous = _client().get("/no-such-page/")
    assert anonymous.status_code == 404
    assert "Page not found" in anonymous.content.decode() and 'href="/accounts/login/"' in anonymous.content.decode()


def test_a_participant_lost_in_the_examiners_pages_is_sent_to_the_study():
    pia = UserFactory(username="pia", role=User.Role.PARTICIPANT)
    page = _client(pia).get("/cases/99999/")
    assert page.status_code == 404
    assert "Go to your study" in page.content.decode()


def test_a_server_error_is_the_apps_page_and_says_nothing_was_the_users_fault():
    response = server_error(RequestFactory().get("/"))  # rendered as Django does: without a request context
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "css/app.css" in html


def test_a_request_the_server_cannot_read_is_the_apps_page_too():
    from django.core.exceptions import SuspiciousOperation
    from django.views.defaults import bad_request

    response = bad_request(RequestFactory().get("/"), SuspiciousOperation("bad"))
    assert response.status_code == 400
    assert "The request could not be read" in response.content.decode() and "Nothing was changed" in response.content.decode()


def test_an_expired_form_says_so_instead_of_a_bare_csrf_failure(examiner):
    client = _client(examiner, enforce_csrf_checks=True)
    refused = client.post("/cases/", {"application_number": "29/1", "title": "x", "cutoff_date": "2030-01-01"})
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "This form has expired" in html and "Nothing was saved" in html


def test_the_top_bar_marks_the_current_section_and_shows_each_role_its_own_links(examiner):
    html = _client(examiner).get("/cases/").content.decode()
    assert re.search(r'<a href="/cases/" aria-current="page">Cases</a>', html)
    assert 'href="/api/v1/docs/"' in html and 'class="skip" href="#main"' in html and '<main id="main">' in html

    pia = UserFactory(username="pia", role=User.Role.PARTICIPANT)
    run = _client(pia).get("/studies/run/").content.decode()
    nav = run[run.index('<nav aria-label="Main">'):run.index("</nav>")]
    assert "Studies" in nav and "Search" not in nav and "Cases" not in nav and "API" not in nav


def test_the_search_page_says_when_there_is_nothing_to_search(examiner):
    html = _client(examiner).get("/").content.decode()
    assert "no patent corpus has been added" in html and "An administrator adds corpora" in html
    Corpus.objects.create(name="one")
    Corpus.objects.create(name="two")
    html = _client(examiner).get("/").content.decode()
    assert "similar figures in 2 corpora." in html
    assert 'id="search-progress" role="status"' in html
    assert "none chosen: all" in html  # the corpus filter says what an empty choice does
    assert '<dialog id="viewer" aria-label="Figure beside your drawing">' in html


def test_the_studies_list_empty_state_links_to_the_form(admin_user):
    html = _client(admin_user).get("/studies/").content.decode()
    assert 'id="no-studies"' in html and 'href="/studies/new/">Create one</a>' in html


def test_the_study_form_labels_every_field_and_puts_each_error_under_its_field(admin_user):
    client = _client(admin_user)
    html = client.get("/studies/new/").content.decode()
    ids = re.findall(r'<label for="([^"]+)"', html)
    assert len(ids) >= 10
    for field_id in ids:
        assert f'id="{field_id}"' in html  # every label is tied to its input
    assert "empty: no limit" in html
    assert ">Choose a corpus</option>" in html and "---------" not in html

    refused = client.post("/studies/new/", {"name": "s", "n_tasks": "0", "views": "2", "k": "10", "seed": "0"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "fix the fields marked below" in html
    # the field's aria-describedby (Django's own, id_X_error) names the box of its errors
    assert 'class="field-error" id="id_n_tasks_error"' in html
    assert re.search(r'<input[^>]*aria-describedby="[^"]*id_n_tasks_error[^"]*"[^>]*id="id_n_tasks"', html) or \
        re.search(r'<input[^>]*id="id_n_tasks"[^>]*aria-describedby="[^"]*id_n_tasks_error', html)
    assert "n_tasks:" not in html  # no field codes in the messages
    assert 'aria-invalid="true"' in html


def test_the_study_results_name_metrics_in_words(admin_user, study_corpus, participants):  # noqa: F811
    study = Study.objects.get(pk=make_study("words", study_corpus, tasks=2).study_id)
    html = _client(admin_user).get(f"/studies/{study.pk}/").content.decode()
    tests_table = html[html.index('id="tests"'):]
    tests_table = tests_table[:tests_table.index("</table>")]
    assert "Precision@5 (grades ≥ 2)" in tests_table and "Seconds to the first relevant hit" in tests_table
    assert ">time_to_first_relevant_s<" not in tests_table
    assert '<a href="/studies/">Studies</a> › words' in html


def test_the_evaluation_form_says_what_each_relevance_means(admin_user, study_corpus):  # noqa: F811
    html = _client(admin_user).get("/console/evaluation/").content.decode()
    assert "us_class <span class=\"hint\">(same US design main class, e.g. D14)</span>" in html
    assert "(same Locarno class, e.g. 14-04)" in html


def test_the_upload_page_explains_the_corpus_folder(admin_user):
    html = _client(admin_user).get("/console/upload/").content.decode()
    assert 'id="corpus-format"' in html and "<code>image_file</code>" in html and "<code>patent_id</code>" in html
    assert "nothing is imported" in html
    # the visible progress follows every event; a live region says it at each tenth
    assert 'id="upload-said" class="visually-hidden" role="status" aria-live="polite"' in html


def test_a_long_studies_list_is_paged(admin_user, monkeypatch):
    from studies import views

    monkeypatch.setattr(views, "STUDIES_PER_PAGE", 2)
    for n in range(5):
        Study.objects.create(name=f"study-{n}")
    first = _client(admin_user).get("/studies/").content.decode()
    assert first.count('href="/studies/') >= 2 and "study-4" in first and "study-2" not in first
    assert "page 1 of 3 · 5 in all" in first and 'href="?page=2" rel="next"' in first
    last = _client(admin_user).get("/studies/?page=3").content.decode()
    assert "study-0" in last and 'href="?page=2" rel="prev"' in last


def test_running_evaluations_show_their_progress_instead_of_a_blind_reload(admin_user, study_corpus):  # noqa: F811
    from console.models import Job

    job = Job.objects.create(kind=Job.Kind.EVALUATE, state=Job.State.RUNNING, done=3, total=12,
                             corpus=Corpus.objects.get(name=study_corpus))
    html = _client(admin_user).get("/console/evaluation/").content.decode()
    running = html[html.index('id="evaluations-running"'):]
    running = running[:running.index("</ul>")]
    assert f'data-api="/api/v1/jobs/{job.pk}/"' in running
    assert '<progress max="100" value="25"' in running and "3 / 12 queries" in running
    assert "this page reloads itself then" in html


def test_search_results_name_their_channels_in_words(examiner, encoded_corpus):
    page = _client(examiner).post("/", {"text": "widget", "k": "5"})
    assert page.status_code == 200
    html = page.content.decode()
    shown = re.findall(r'<span class="channel" data-channel="(\w+)" title="[^"]+">([^<#]+) #\d+</span>', html)
    assert shown, "no channel shown"
    words = {"drawing": "drawing", "text_tower": "text", "fulltext": "words", "trigram": "spelling",
             "sentence": "meaning", "joint": "drawing + text"}
    for code, label in shown:
        assert label.strip() == words[code]
    assert "texttower" not in html


def test_long_lists_of_cases_and_jobs_are_paged_the_same_way(examiner, admin_user, monkeypatch):
    import datetime as dt

    from cases import views as case_views
    from cases.services.cases import case_create
    from console import views as console_views
    from console.models import Job

    monkeypatch.setattr(case_views, "CASES_PER_PAGE", 2)
    for n in range(3):
        case_create(examiner=examiner, application_number=f"29/000,00{n}", title=f"Case {n}",
                    cutoff_date=dt.date(2030, 1, 1))
    first = _client(examiner).get("/cases/").content.decode()
    assert '<nav class="pager" aria-label="Pages">' in first and "page 1 of 2 · 3 in all" in first
    assert 'href="?page=2" rel="next"' in first
    second = _client(examiner).get("/cases/?page=2").content.decode()
    assert second.count('<td><a href="/cases/') == 1 and 'rel="prev"' in second

    monkeypatch.setattr(console_views, "JOBS_PER_PAGE", 2)
    for n in range(3):
        Job.objects.create(kind=Job.Kind.INGEST, corpus_name=f"c{n}", state=Job.State.SUCCEEDED)
    jobs = _client(admin_user).get("/console/").content.decode()
    assert "page 1 of 2 · 3 in all" in jobs and 'href="?page=2" rel="next"' in jobs
    assert jobs.count("<tr data-job=") == 2


def test_the_login_page_says_what_the_app_is_and_why_it_is_asked(db):
    html = _client().get("/accounts/login/?next=/cases/").content.decode()
    assert "prior-art search of design patents by drawing" in html
    assert "Log in to open the page you asked for." in html
    assert 'name="next" value="/cases/"' in html


def test_the_patent_page_leads_back_to_the_search_it_was_opened_from(examiner, encoded_corpus):
    import datetime as dt

    from cases.services.cases import case_create
    from cases.services.searches import case_search_run

    case = case_create(examiner=examiner, application_number="29/1", title="Widget", cutoff_date=dt.date(2030, 1, 1))
    search = case_search_run(case=case, user=examiner, text="widget", k=5)
    client = _client(examiner)
    review = client.get(f"/cases/{case.pk}/searches/{search.pk}/").content.decode()
    patent_id = re.search(r'data-patent-url="/cases/\d+/patents/(\w+)/\?search=' + str(search.pk) + '"', review).group(1)
    page = client.get(f"/cases/{case.pk}/patents/{patent_id}/?search={search.pk}").content.decode()
    assert f'<a href="/cases/{case.pk}/searches/{search.pk}/#results" id="back-to-search">search {search.number}</a>' in page
    for wrong in ("abc", "99999", "9" * 40, "²"):  # not a search of this case: no link, no error
        other = client.get(f"/cases/{case.pk}/patents/{patent_id}/", {"search": wrong})
        assert other.status_code == 200 and 'id="back-to-search"' not in other.content.decode()


def test_each_evaluation_table_shows_its_newest_runs_and_says_where_the_rest_are(admin_user):
    import datetime as dt

    from console.models import Job
    from console.views import EVALUATION_ROWS_SHOWN

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(EVALUATION_ROWS_SHOWN + 2):
        Job.objects.create(kind=Job.Kind.EVALUATE, state=Job.State.SUCCEEDED,
                           finished_at=start + dt.timedelta(days=n),
                           result={"patent": {"corpus": "dev", "model": {"name": "default"}, "mAP": n / 100,
                                              "queries": 10}})
    html = _client(admin_user).get("/console/evaluation/").content.decode()
    table = html[html.index('data-relevance="patent"'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr><td>default") == EVALUATION_ROWS_SHOWN
    assert "2026-01-22" in table and "2026-01-01" not in table  # the newest first, the oldest left out
    assert f"The newest {EVALUATION_ROWS_SHOWN} of {EVALUATION_ROWS_SHOWN + 2} runs" in html


def test_a_study_s_participants_are_paged_and_keep_the_other_parameters(admin_user, study_corpus, participants,  # noqa: F811
                                                                         monkeypatch):
    from studies import views
    from studies.services.definition import study_add_participants

    monkeypatch.setattr(views, "PARTICIPANTS_PER_PAGE", 2)
    study = Study.objects.get(pk=make_study("paged", study_corpus, tasks=1).study_id)  # pia, paul
    for name in ("ines", "otto", "ulla"):
        UserFactory(username=name, role=User.Role.PARTICIPANT)
    study_add_participants(study=study, participants=["ines", "otto", "ulla"])
    client = _client(admin_user)

    def shown(html: str) -> list[str]:
        table = html[html.index('id="participant-table"'):]
        return re.findall(r"<tr><td>(\w+)</td>", table[:table.index("</table>")])

    first = client.get(f"/studies/{study.pk}/").content.decode()
    assert shown(first) == ["pia", "paul"] and 'id="participant-count">5 participants<' in first
    assert "page 1 of 3 · 5 in all" in first and 'href="?participants_page=2#participants" rel="next"' in first
    second = client.get(f"/studies/{study.pk}/?x=1&participants_page=2").content.decode()
    assert shown(second) == ["ines", "otto"]
    assert 'href="?x=1&amp;participants_page=1#participants" rel="prev"' in second
    assert 'href="?x=1&amp;participants_page=3#participants" rel="next"' in second
    assert shown(client.get(f"/studies/{study.pk}/?participants_page=3").content.decode()) == ["ulla"]
    for value, names in [("abc", ["pia", "paul"]), ("%00", ["pia", "paul"]), ("9" * 5000, ["pia", "paul"]),
                         ("0", ["ulla"]), ("99999", ["ulla"]), (str(10**30), ["ulla"])]:
        response = client.get(f"/studies/{study.pk}/?participants_page={value}")
        assert response.status_code == 200 and shown(response.content.decode()) == names, value
    api = client.get(f"/api/v1/studies/{study.pk}/").json()  # the API's study keeps its full list
    assert api["participants"] == ["pia", "paul", "ines", "otto", "ulla"]


def test_the_evaluation_downloads_show_only_with_results_to_download(admin_user):
    from console.models import Job

    html = _client(admin_user).get("/console/evaluation/").content.decode()
    assert "All as JSON" not in html and "All as CSV" not in html
    assert 'id="no-evaluations"' in html and "the JSON and CSV downloads appear with the first results" in html
    Job.objects.create(kind=Job.Kind.EVALUATE, state=Job.State.SUCCEEDED,
                       result={"patent": {"corpus": "dev", "model": {"name": "default"}, "mAP": 0.5, "queries": 10}})
    html = _client(admin_user).get("/console/evaluation/").content.decode()
    assert "All as JSON" in html and "All as CSV" in html and 'id="no-evaluations"' not in html


def test_an_empty_jobs_list_points_to_where_command_line_ingests_show(admin_user):
    html = _client(admin_user).get("/console/").content.decode()
    empty = html[html.index('id="no-jobs"'):]
    empty = empty[:empty.index("</p>")]
    assert "No jobs yet." not in html and "manage.py ingest_corpus" in empty
    assert '<a href="#encoding">Encoding per corpus and model</a>' in empty and 'id="encoding"' in html
