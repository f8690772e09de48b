"""Whatever a user sends gets an answer below 500: a refusal is a 4xx with the API's one error
shape ({"message", "extra"}) or a page that says what is wrong, and it leaves the database as it
was.

Sweeps: every field of a valid request to each endpoint is replaced in turn by each hostile value
(NUL characters, integers beyond any column, wrong types, over-long text, impossible dates, ...),
then raw bodies no client should send, query parameters, ids in the path and HTTP methods. Each
request runs inside a savepoint that is rolled back, so every one starts from the same database.
A sweep collects every offending input and fails with the list. The tests after the sweeps pin
the 500s that the sweeps found, one fix each.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import struct
import zlib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from cases.models import Case, CaseSearch
from cases.services.cases import case_create
from retrieval.models import Corpus, Figure, RetrievalModel
from studies.models import Participant, Study
from tests.accounts.factories import PASSWORD, UserFactory
from tests.drawings import drawing, png_bytes
from tests.pages import alert_lines, signed_in
from tests.studies.conftest import (  # noqa: F401
    MODEL_A,
    MODEL_B,
    make_study,
    participants,
    study_corpus,
    two_models,
)

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
HUGE = 10**30
# JSON values: each replaces one field of a valid body in turn.
HOSTILE_JSON = [NUL, HUGE, -1, "abc", ["a", "b"], {"a": 1}, None, "x" * 20_000, 1.5, "", [HUGE], [NUL]]
# Form values (multipart and HTML forms): text only.
HOSTILE_FORM = [NUL, str(HUGE), "-1", "²", "abc", "NaN", "1e400", "x" * 20_000, "0001-01-01", "[[0,0,NaN,1]]", "[" * 5000,
                ""]
# Bodies no client should send, with the content type they claim.
RAW_BODIES = [
    (b"{not json", "application/json"), (b"[1, 2]", "application/json"), (b'"text"', "application/json"),
    (b"\xff\xfe\x00", "application/json"), (b'{"grade": NaN, "k": Infinity}', "application/json"),
    (b"[" * 100_000, "application/json"),
    (b"a=%ff%fe&b=\x00", "application/x-www-form-urlencoded"), (b"plain", "text/plain"),
    (b"--zz\r\nbroken", "multipart/form-data; boundary=zz"), (b"", "multipart/form-data"),
]
# Tables the sweeps compare before and after a refusal (sessions and the login-failure log excluded).
WATCHED_APPS = {"accounts", "retrieval", "cases", "studies", "console"}


def snapshot() -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every watched table, in one query."""
    tables = sorted({m._meta.db_table for m in apps.get_models() if m._meta.app_label in WATCHED_APPS})
    sql = " UNION ALL ".join(
        f"SELECT '{t}', count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM {t} r"
        for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def _short(body: object) -> str:
    text = repr(body)
    return text if len(text) < 160 else text[:150] + "...}"


def send(client: Client, method: str, url: str, body: object = None, *, before: dict | None = None,
         **kwargs: object) -> list[str]:
    """One request, rolled back afterwards; the problems with its answer (none: fine). ``before``:
    the database's snapshot, when the caller has it (every request starts from the same state)."""
    before = before or snapshot()
    savepoint = transaction.savepoint()
    try:
        call = getattr(client, method)
        response = call(url, **kwargs) if body is None else call(url, body, **kwargs)
        after = snapshot() if response.status_code >= 400 else before
    except Exception as exc:  # noqa: BLE001 - the test client re-raises what a server answers with 500
        transaction.savepoint_rollback(savepoint)
        return [f"{method.upper()} {url} {_short(body)}: {type(exc).__name__}: {str(exc)[:200]}"]
    transaction.savepoint_rollback(savepoint)
    where = f"{method.upper()} {url} {_short(body)} -> {response.status_code}"
    problems = []
    if response.status_code >= 500:
        problems.append(where)
    elif response.status_code >= 400:
        if method == "head":
            pass  # no body to judge
        elif url.startswith("/api/"):
            data = response.json() if response.get("Content-Type", "").startswith("application/json") else None
            if not (isinstance(data, dict) and set(data) == {"message", "extra"} and data["message"]):
                problems.append(f"{where}: not the error shape: {response.content[:200]!r}")
        elif response.status_code == 400 and b'role="alert"' not in response.content:
            problems.append(f"{where}: the page shows no error")
        if after != before:
            changed = [label for label in before if before[label] != after[label]]
            problems.append(f"{where}: refused, yet changed {changed}")
    return problems


def sweep(client: Client, method: str, url: str, valid: dict, values: list, **kwargs: object) -> list[str]:
    """Each field of ``valid`` replaced by each value in turn; an unknown field added (a few values)."""
    problems: list[str] = []
    before = snapshot()
    for field in valid:
        for value in values:
            problems += send(client, method, url, {**valid, field: value}, before=before, **kwargs)
    for value in values[:3]:
        problems += send(client, method, url, {**valid, "unexpected": value}, before=before, **kwargs)
    return problems


def raw(client: Client, method: str, url: str) -> list[str]:
    problems: list[str] = []
    before = snapshot()
    for body, content_type in RAW_BODIES:
        problems += send(client, method, url, body, before=before, content_type=content_type)
    return problems


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client

def upload(data: bytes, name: str = "drawing.png") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width × height pixels but holds almost nothing (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


BAD_FILES = [b"", b"not an image", png_bytes(drawing(1))[:120], b"%PDF-1.4 broken", b"GIF89a" + bytes(20),
             png_header(100_000, 100_000), png_header(1, 10**9)]


@pytest.fixture
def world(encoded_corpus, examiner, admin_user):  # noqa: ANN001, ANN201
    """An examiner with a case and one logged search over the 12-figure corpus; an admin."""
    case = case_create(examiner=examiner, application_number="29/123,456", title="Widget",
                       cutoff_date=dt.date(2030, 1, 1))
    response = api(examiner).post(f"/api/v1/cases/{case.pk}/searches/", {"text": "widget", "k": 5},
                                  format="multipart")
    assert response.status_code == 201, response.content
    search = CaseSearch.objects.get(pk=response.json()["id"])
    return {"case": case, "search": search, "figure": search.hits.first().figure_id,
            "examiner": examiner, "admin": admin_user}


# --- sweeps ---------------------------------------------------------------------------------


def test_cases_api_answers_every_hostile_field_with_a_4xx_that_changes_nothing(world):
    examiner = api(world["examiner"])
    case, search, figure = world["case"].pk, world["search"].pk, world["figure"]
    endpoints = [
        ("post", "/api/v1/cases/", {"application_number": "29/1", "title": "Lamp", "cutoff_date": "2020-01-01",
                                    "description": "d", "locarno_class": "03-01", "us_class": "D1/1", "notes": "n"}),
        ("patch", f"/api/v1/cases/{case}/", {"title": "Lamp", "cutoff_date": "2020-01-01", "status": "open",
                                             "application_number": "29/2", "notes": "n"}),
        ("put", f"/api/v1/cases/{case}/judgments/{figure}/", {"grade": 2, "category": "X", "note": "n",
                                                               "search": search}),
        ("post", f"/api/v1/cases/{case}/searches/{search}/rerun/", {"k": 3}),
    ]
    problems: list[str] = []
    for method, url, valid in endpoints:
        problems += sweep(examiner, method, url, valid, HOSTILE_JSON, format="json")
        problems += raw(examiner, method, url)
    admin, other = api(world["admin"]), world["examiner"].pk
    for method, url, valid in (("post", "/api/v1/users/", {"username": "grace", "email": "g@x.org", "role": "examiner"}),
                               ("patch", f"/api/v1/users/{other}/", {"role": "admin", "is_active": False,
                                                                     "email": "a@example.org"}),
                               ("post", f"/api/v1/users/{other}/cases/", {"to": "root"}),
                               ("post", "/api/v1/users/batch/", {"role": "participant",
                                                                 "users": [{"username": "pia", "email": ""}]})):
        problems += sweep(admin, method, url, valid, HOSTILE_JSON, format="json")
        problems += raw(admin, method, url)
    for value in ("abc", "-1", "%00", "%ff", "9" * 5000):
        for param in ("q", "role", "state", "limit", "offset"):
            problems += send(admin, "get", f"/api/v1/users/?{param}={value}")
            problems += send(admin, "get", f"/api/v1/users.csv?{param}={value}")
    assert problems == []


@pytest.mark.parametrize("url", ["/api/v1/search/", "/api/v1/cases/{case}/searches/"])
def test_search_forms_answer_every_hostile_field_and_file_with_a_4xx(world, url):
    examiner = api(world["examiner"])
    url = url.format(case=world["case"].pk)
    fields = ["text_weight", "k", "corpus", "us_class_main", "locarno_class", "grant_date_from", "grant_date_to",
              "include_front_page", "query_token", "crops", "cutoff", "ignore_cutoff", "like_figure", "refine"]
    problems = sweep(examiner, "post", url, dict.fromkeys(fields, "") | {"text": "lamp"}, HOSTILE_FORM,
                     format="multipart")
    file_field = "image" if url == "/api/v1/search/" else "images"
    for data in BAD_FILES:
        problems += send(examiner, "post", url, {file_field: upload(data)}, format="multipart")
    problems += raw(examiner, "post", url)
    assert problems == []


def test_study_apis_answer_every_hostile_field_with_a_4xx_that_changes_nothing(study_corpus, participants):  # noqa: F811
    study = Study.objects.get(pk=make_study("sweep", study_corpus, tasks=2).study_id)
    admin = api(UserFactory(username="root", role=User.Role.ADMIN))
    pia = api(participants[0])
    task = pia.get("/api/v1/study/tasks/next/").json()
    tasks, hit = f"/api/v1/study/tasks/{task['task']}", task["hits"][0]["figure_id"]
    figure = Figure.objects.filter(corpus__name=study_corpus).first().pk
    arms, corpus = [MODEL_A, MODEL_B], Corpus.objects.get(name=study_corpus).pk
    model = RetrievalModel.objects.get(name=MODEL_B).pk
    endpoints = [
        (pia, "post", f"{tasks}/grades/", {"figure_id": hit, "grade": 2}),
        (pia, "post", f"{tasks}/opened/", {"figure_id": hit}),
        (pia, "post", f"{tasks}/end/", {"found_citable": True}),
        (pia, "post", f"{tasks}/finish/", {"confidence": 3, "usefulness": 4, "comment": "c", "found_citable": True}),
        (pia, "post", "/api/v1/study/sus/", {"answers": [3] * 10}),
        (admin, "post", "/api/v1/studies/", {"name": "s2", "arms": arms, "participants": ["paul"], "k": 5,
                                             "time_limit_s": 60, "seed": 1, "tasks_from": study_corpus,
                                             "n_tasks": 1, "views": 1, "design": "within", "description": "d"}),
        (admin, "post", "/api/v1/studies/", {"name": "s3", "arms": arms, "participants": ["paul"], "tasks": [
            {"query_figures": [figure], "text": "t", "gallery": None, "known_relevant": ["USD800001"]}]}),
        (admin, "post", f"/api/v1/studies/{study.pk}/participants/", {"participants": ["root"]}),
        (admin, "post", "/api/v1/corpora/", {"folder": "nowhere", "name": "n"}),
        (admin, "post", f"/api/v1/corpora/{corpus}/describe/", {"backend": "offline", "model_path": ""}),
        (admin, "post", "/api/v1/models/", {"checkpoint": "/nonexistent", "name": "m"}),
        (admin, "post", f"/api/v1/models/{model}/activate/", {"force": False}),
        (admin, "post", "/api/v1/evaluations/", {"corpus": corpus, "models": [model], "relevance": ["patent"],
                                                 "exclude_same_patent": False, "qrels": ""}),
    ]
    problems: list[str] = []
    for client, method, url, valid in endpoints:
        problems += sweep(client, method, url, valid, HOSTILE_JSON, format="json")
        problems += raw(client, method, url)
    task_spec = {"query_figures": [figure], "text": "t", "gallery": None, "known_relevant": ["USD800001"]}
    for field in task_spec:
        for value in HOSTILE_JSON:
            body = {"name": "s4", "arms": arms, "participants": ["paul"], "tasks": [{**task_spec, field: value}]}
            problems += send(admin, "post", "/api/v1/studies/", body, format="json")
    assert problems == []


def test_query_parameters_ids_and_methods_never_make_a_500(world):
    examiner, admin = api(world["examiner"]), api(world["admin"])
    case, search = world["case"].pk, world["search"].pk
    problems: list[str] = []
    queries = ["limit=abc", "limit=-1", f"limit={HUGE}", f"offset={HUGE}", "offset=-5", "limit=0", "offset=1e3",
               "limit=%00", "limit=²", "case=abc", "case=²", f"case={HUGE}", "case=%00", "case=-1", "cropped=%00", "x=%ff%fe", "ordering=-x", "format=csv", "format=%00", "format=api"]
    for client, url in [(examiner, "/api/v1/cases/"), (examiner, f"/api/v1/cases/{case}/searches/"),
                        (admin, "/api/v1/jobs/"), (examiner, "/api/v1/judgments.csv"),
                        (examiner, f"/api/v1/cases/{case}/searches/{search}/images/0")]:
        for query in queries:
            problems += send(client, "get", f"{url}?{query}")
    for client, url in [
        (examiner, f"/api/v1/cases/{HUGE}/"), (examiner, f"/api/v1/cases/{case}/searches/{HUGE}/"),
        (examiner, f"/api/v1/cases/{case}/searches/{search}/images/{HUGE}"),
        (examiner, f"/api/v1/cases/{case}/searches/{HUGE}/rerun/"),
        (examiner, f"/api/v1/cases/{case}/searches/{search}/run.txt"), (examiner, f"/api/v1/cases/{HUGE}/qrels.txt"),
        (examiner, f"/api/v1/cases/{case}/judgments/{HUGE}/"), (examiner, f"/api/v1/cases/{HUGE}/citations.csv"),
        (examiner, f"/api/v1/cases/{HUGE}/file.zip"), (examiner, f"/api/v1/cases/{case}/file.zip"),
        (examiner, f"/figures/{HUGE}/image"), (admin, f"/api/v1/jobs/{HUGE}/"), (admin, f"/api/v1/jobs/{HUGE}/cancel/"),
        (admin, f"/api/v1/jobs/{HUGE}/retry/"), (admin, f"/api/v1/jobs/{HUGE}/problems.csv"),
        (admin, f"/api/v1/jobs/{HUGE}/report.json"), (admin, f"/api/v1/models/{HUGE}/"),
        (admin, f"/api/v1/models/{HUGE}/activate/"), (admin, f"/api/v1/models/{HUGE}/rollback/"),
        (admin, f"/api/v1/corpora/{HUGE}/describe/"), (admin, f"/api/v1/studies/{HUGE}/"),
        (admin, f"/api/v1/studies/{HUGE}/participants/"), (admin, f"/api/v1/studies/{HUGE}/events.csv"),
        (admin, f"/api/v1/study/tasks/{HUGE}/grades/"), (admin, "/api/v1/evaluations.csv"),
        (admin, "/api/v1/evaluations/"), (admin, "/api/v1/corpora/"), (admin, "/api/v1/models/"),
        (examiner, "/api/v1/search/"), (examiner, "/api/v1/cases/"), (examiner, "/api/v1/study/status/"),
    ]:
        for method in ("get", "post", "put", "patch", "delete", "options", "head"):
            problems += send(client, method, url)
        problems += send(APIClient(), "get", url) + send(APIClient(), "post", url, {"x": NUL})  # anonymous
    for accept in ("text/csv", "image/png", "\x00", "*/*;q=abc"):
        problems += send(examiner, "get", f"/api/v1/cases/{case}/", HTTP_ACCEPT=accept)
        problems += send(examiner, "get", "/api/v1/judgments.csv", HTTP_ACCEPT=accept)
        problems += send(examiner, "get", f"/api/v1/cases/{case}/file.zip", HTTP_ACCEPT=accept)
    for query in ("format=abc", "format=%00", "lang=%00", "version=x"):  # the schema answers in YAML, errors too
        status = examiner.get(f"/api/v1/schema/?{query}").status_code
        if status >= 500:
            problems.append(f"GET /api/v1/schema/?{query} -> {status}")
    assert problems == []


def test_pages_answer_every_hostile_form_field_with_a_page_that_says_what_is_wrong(world):
    examiner = signed_in(world["examiner"])
    case, search, figure = world["case"].pk, world["search"].pk, world["figure"]
    forms = [
        ("/cases/", {"application_number": "29/1", "title": "Lamp", "cutoff_date": "2020-01-01"}),
        (f"/cases/{case}/", {"action": "update", "title": "Lamp", "cutoff_date": "2020-01-01"}),
        (f"/cases/{case}/search", {"text": "lamp", "k": "5", "cutoff": "2020-01-01", "crops": ""}),
        (f"/cases/{case}/searches/{search}/like", {"figure": str(figure)}),
        (f"/cases/{case}/searches/{search}/rerun", {"k": "3"}),
        ("/", {"text": "lamp", "k": "5", "text_weight": "0.5", "grant_date_from": "2000-01-01"}),
    ]
    problems: list[str] = []
    for url, valid in forms:
        problems += sweep(examiner, "post", url, valid, HOSTILE_FORM)
    for action in ("rerun", "refine", "like", "nope", "x" * 300):
        problems += send(examiner, "post", f"/cases/{case}/searches/{search}/{action}", {"figure": str(HUGE)})
    for value in ("abc", "-1", "0", "99999999", f"{HUGE}", "9" * 5000, "%00", "%ff"):
        for url, param in (("/cases/", "page"), (f"/cases/{case}/", "page"), (f"/cases/{case}/", "citations_page"),
                           (f"/cases/{case}/", "notes_page"), ("/console/", "page"), ("/studies/", "page"),
                           ("/cases/", "q"), ("/cases/", "status"), ("/api/v1/cases/", "q"),
                           ("/api/v1/cases/", "status")):
            client = examiner if url.startswith("/cases/") else signed_in(world["admin"])
            if url.startswith("/api/"):
                client = api(world["examiner"])
            problems += send(client, "get", f"{url}?{param}={value}")
    for url in (f"/cases/{HUGE}/", f"/cases/{case}/patents/%00/", f"/cases/{case}/patents/{'x' * 3000}/",
                f"/cases/{case}/searches/{HUGE}/", f"/cases/{case}/citations/", "/studies/run/"):
        problems += send(examiner, "get", url)
    admin = signed_in(world["admin"])
    for url in (f"/console/jobs/{HUGE}/", f"/console/figures/{HUGE}/", "/console/models/", "/console/evaluation/",
                "/console/upload/", f"/studies/{HUGE}/", "/studies/new/"):
        problems += send(admin, "get", url) + send(admin, "post", url, {"x": NUL})
    for data in BAD_FILES:
        problems += send(examiner, "post", "/", {"text": "", "image": upload(data)})
        problems += send(examiner, "post", f"/cases/{case}/search", {"images": [upload(data), upload(data)]})
    # users and accounts: the admin's forms, then one's own (a changed password ends the sweep's
    # session at the valid body's last sends: rolled back, they are signed out, still no 500)
    other = UserFactory(username="someone").pk
    for url, valid in (("/console/users/", {"username": "grace", "email": "g@example.org", "role": "examiner"}),
                       (f"/console/users/{other}/role", {"role": "admin", "back": "/console/users/?q=x"}),
                       (f"/console/users/{other}/deactivate", {"back": "/console/users/"}),
                       ("/console/users/", {"username": "grace", "role": "examiner"}),
                       (f"/cases/{case}/", {"action": "reassign", "examiner": "someone"}),
                       (f"/console/users/{other}/cases", {"to": "root"}),
                       ("/console/users/batch", {"users": "pia, pia@x.org\npaul", "role": "participant"})):
        problems += sweep(admin, "post", url, valid, HOSTILE_FORM)
    for value in ("abc", "-1", "99999999", "%00", "%ff", "9" * 5000):
        for param in ("page", "q", "role", "state"):
            problems += send(admin, "get", f"/console/users/?{param}={value}")
        problems += send(admin, "get", f"/cases/?examiner={value}") + send(api(world["admin"]), "get",
                                                                             f"/api/v1/cases/?examiner={value}")
    for action in ("nope", "x" * 300, "%00"):
        problems += send(admin, "post", f"/console/users/{other}/{action}")
    problems += send(admin, "post", f"/console/users/{HUGE}/role", {"role": "admin"})
    problems += sweep(examiner, "post", "/accounts/", {"action": "token"}, HOSTILE_FORM)
    problems += sweep(examiner, "post", "/accounts/", {"action": "email", "email": "ada@example.org"}, HOSTILE_FORM)
    new = "a fresh passphrase of mine 42"
    problems += sweep(signed_in(world["examiner"]), "post", "/accounts/password/",
                      {"old_password": PASSWORD, "new_password1": new, "new_password2": new, "next": "/cases/"},
                      HOSTILE_FORM)
    assert problems == []


def test_study_pages_answer_hostile_forms_with_the_problem(study_corpus, participants):  # noqa: F811
    study = Study.objects.get(pk=make_study("pages", study_corpus, tasks=1).study_id)
    admin = signed_in(UserFactory(username="root", role=User.Role.ADMIN))
    valid = {"name": "n", "arms": [MODEL_A, MODEL_B], "corpus": study_corpus, "n_tasks": "1", "views": "1",
             "participants": ["paul"], "design": "within", "k": "5", "seed": "0", "time_limit_s": "60"}
    problems = sweep(admin, "post", "/studies/new/", valid, HOSTILE_FORM)
    problems += sweep(admin, "post", f"/studies/{study.pk}/participants/", {"participants": ["root"]}, HOSTILE_FORM)
    for query in ("", "?x=%ff%fe", *(f"?participants_page={value}" for value in
                                       ("abc", "-1", "0", "99999999", str(HUGE), "9" * 5000, "%00", "%ff"))):
        problems += send(admin, "get", f"/studies/{study.pk}/{query}")
    assert problems == []


# --- the 500s the sweeps found, one test each ----------------------------------------------


def test_a_limit_beyond_any_page_is_lowered_to_the_ceiling_not_sent_to_the_database(world):
    from patentsearch.pagination import MAX_LIMIT

    examiner = api(world["examiner"])
    for url in ("/api/v1/cases/", f"/api/v1/cases/{world['case'].pk}/searches/"):
        response = examiner.get(url, {"limit": HUGE})
        assert response.status_code == 200 and len(response.json()["results"]) == 1, response.content
    assert api(world["admin"]).get("/api/v1/jobs/", {"limit": HUGE}).status_code == 200
    for n in range(3):
        case_create(examiner=world["examiner"], application_number=f"29/9{n}", title="t", cutoff_date=dt.date(2020, 1, 1))
    page = examiner.get("/api/v1/cases/", {"limit": MAX_LIMIT + 1, "offset": 1}).json()
    assert (page["count"], len(page["results"])) == (4, 3)


@pytest.mark.parametrize("cutoff", ["0001-01-01", "1789-12-31"])
def test_a_cutoff_before_1790_is_refused_wherever_a_cutoff_is_given(world, cutoff):
    examiner, page, case = api(world["examiner"]), signed_in(world["examiner"]), world["case"]
    message = "A cutoff date is 1790-01-01 or later."
    before = snapshot()
    created = examiner.post("/api/v1/cases/", {"application_number": "29/1", "title": "t", "cutoff_date": cutoff},
                            format="json")
    assert created.status_code == 400 and created.json()["message"] == f"cutoff_date: {message}"
    patched = examiner.patch(f"/api/v1/cases/{case.pk}/", {"cutoff": cutoff}, format="json")
    assert patched.status_code == 400 and message in patched.json()["message"]
    searched = examiner.post(f"/api/v1/cases/{case.pk}/searches/", {"text": "lamp", "cutoff": cutoff},
                             format="multipart")
    assert searched.status_code == 400 and searched.json()["message"] == f"cutoff: {message}"
    shown = page.post(f"/cases/{case.pk}/search", {"text": "lamp", "cutoff": cutoff})
    assert shown.status_code == 400 and message in shown.content.decode()
    assert snapshot() == before
    ok = examiner.post(f"/api/v1/cases/{case.pk}/searches/", {"text": "lamp", "cutoff": "1790-01-01"},
                       format="multipart")
    assert ok.status_code == 201 and ok.json()["hits"] == []  # nothing was granted before 1790


@pytest.mark.parametrize("field", ["seed", "time_limit_s"])
def test_a_study_number_beyond_its_column_is_a_listed_problem(study_corpus, participants, field):  # noqa: F811
    admin_user = UserFactory(username="root", role=User.Role.ADMIN)
    body = {"name": "big", "arms": [MODEL_A, MODEL_B], "participants": ["pia"], "tasks_from": study_corpus,
            "n_tasks": 1, "views": 1, field: 2**31}
    response = api(admin_user).post("/api/v1/studies/", body, format="json")
    assert response.status_code == 400
    assert {"where": field, "reason": f"must be at most {2**31 - 1}"} in response.json()["extra"]["problems"]
    form = {"name": "big", "arms": [MODEL_A, MODEL_B], "corpus": study_corpus, "n_tasks": "1", "views": "1",
            "participants": ["pia"], "design": "within", "k": "5", "seed": "0", field: str(HUGE)}
    page = signed_in(admin_user).post("/studies/new/", form)
    label = {"seed": "Seed", "time_limit_s": "Time limit per task (seconds)"}[field]
    assert page.status_code == 400 and f"{label}: must be at most {2**31 - 1}" in alert_lines(page)
    assert not Study.objects.exists()


def test_the_add_participants_form_takes_only_the_users_it_offers(study_corpus, participants):  # noqa: F811
    study = Study.objects.get(pk=make_study("adding", study_corpus, tasks=1).study_id)
    admin_user = UserFactory(username="root", role=User.Role.ADMIN)
    UserFactory(username="ines", role=User.Role.PARTICIPANT)
    page = signed_in(admin_user)
    for names in ([NUL], ["ghost"], ["root"], []):
        response = page.post(f"/studies/{study.pk}/participants/", {"participants": names}, follow=True)
        assert response.status_code == 200 and b'role="alert"' in response.content, names
    assert Participant.objects.filter(study=study).count() == 2
    page.post(f"/studies/{study.pk}/participants/", {"participants": ["ines"]})
    assert list(study.participants.order_by("pk").values_list("user__username", flat=True)) == ["pia", "paul", "ines"]


def test_a_login_name_over_the_limit_is_a_form_error_not_a_database_error(db):
    from axes.models import AccessAttempt

    response = Client().post("/accounts/login/", {"username": "x" * 300, "password": "whatever"})
    assert response.status_code == 200 and b'role="alert"' in response.content
    assert response.context["form"].errors["username"] == ["Ensure this value has at most 150 characters (it has 300)."]
    assert not AccessAttempt.objects.exists()


def test_a_session_cookie_or_token_that_the_app_never_made_is_no_credential(world):
    # Django unquotes cookie values: "\000" in a quoted value becomes NUL, past any proxy's header check
    page = Client().get("/cases/", HTTP_COOKIE='sessionid="abcdefgh\\000ijkl"')
    assert page.status_code == 302 and page["Location"].startswith(resolve_url(settings.LOGIN_URL))
    for header in ("Token a\x00b", "Token " + "f" * 5000, "Token zz"):
        response = APIClient().get("/api/v1/cases/", HTTP_AUTHORIZATION=header)
        # 403, not 401: session authentication comes first, and it names no WWW-Authenticate scheme
        assert response.status_code == 403 and response.json() == {"message": "Invalid token.", "extra": {}}


def test_a_folder_or_checkpoint_name_too_long_for_the_file_system_is_a_400(admin_user):
    Path(settings.CONSOLE_IMPORT_ROOT).mkdir(parents=True, exist_ok=True)
    admin = api(admin_user)
    name = "a" * 300  # longer than a file name may be (255): stat() fails with ENAMETOOLONG
    folder = admin.post("/api/v1/corpora/", {"folder": name}, format="json")
    assert folder.status_code == 400 and folder.json()["message"].startswith("There is no folder or file ")
    model = admin.post("/api/v1/models/", {"checkpoint": name}, format="json")
    assert model.status_code == 400 and "could not be loaded" in model.json()["message"]
    corpus = Corpus.objects.create(name="c")
    described = admin.post(f"/api/v1/corpora/{corpus.pk}/describe/", {"backend": "transformers", "model_path": name},
                           format="json")
    assert described.status_code == 400 and described.json()["message"].startswith("There is no folder or file ")
    assert not RetrievalModel.objects.exists() and not Case.objects.exists()


def test_what_a_user_typed_comes_out_of_every_case_csv_inert(world):
    """Formula neutralising (patentsearch.csv_export) holds end to end: an application number and a
    note that a spreadsheet would run come back prefixed with a quote, and the file name stays safe."""
    examiner = api(world["examiner"])
    case = examiner.post("/api/v1/cases/", {"application_number": '=HYPERLINK("http://x")', "title": "@SUM(A1)",
                                            "cutoff_date": "2030-01-01"}, format="json").json()["id"]
    search = examiner.post(f"/api/v1/cases/{case}/searches/", {"text": "widget", "k": 3}, format="multipart").json()
    figure = search["hits"][0]["figure_id"]
    note = "-2+3\r\n=cmd|' /C calc'!A0"
    assert examiner.put(f"/api/v1/cases/{case}/judgments/{figure}/", {"grade": 3, "category": "X", "note": note},
                        format="json").status_code == 200
    citations = examiner.get(f"/api/v1/cases/{case}/citations.csv")
    assert citations["Content-Disposition"] == 'attachment; filename="citations-_HYPERLINK__http___x__.csv"'
    for response in (citations, examiner.get("/api/v1/judgments.csv", {"case": case})):
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
        assert [(r["application_number"], r["note"]) for r in rows] == [('\'=HYPERLINK("http://x")', "'" + note)]


def test_digits_of_other_scripts_in_an_id_are_refused_not_a_crash(world):
    """str.isdigit() accepts "²", which int() refuses: ids are read by the serializers' integer fields."""
    response = api(world["examiner"]).get("/api/v1/judgments.csv", {"case": "²"})
    assert response.status_code == 400 and response.json()["message"] == "case: A valid integer is required."
    page = signed_in(world["examiner"])
    before = snapshot()
    like = page.post(f"/cases/{world['case'].pk}/searches/{world['search'].pk}/like", {"figure": "²"})
    assert like.status_code == 400 and alert_lines(like) == ["More like this: Choose a figure."]
    assert snapshot() == before


def test_json_nested_too_deeply_is_a_parse_error(world):
    examiner, case = api(world["examiner"]), world["case"].pk
    before = snapshot()
    body = examiner.post("/api/v1/cases/", b"[" * 100_000, content_type="application/json")
    assert body.status_code == 400
    assert body.json() == {"message": "JSON parse error - the body is nested too deeply.", "extra": {}}
    crops = examiner.post(f"/api/v1/cases/{case}/searches/", {"text": "lamp", "crops": "[" * 100_000},
                          format="multipart")
    assert crops.status_code == 400 and crops.json()["message"] == "crops: not JSON: nested too deeply."
    assert snapshot() == before


def test_a_form_with_too_many_fields_is_refused_before_it_is_read(world):
    fields = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    form = "application/x-www-form-urlencoded"
    response = api(world["examiner"]).post("/api/v1/cases/", fields, content_type=form)
    assert response.status_code == 400 and "The request was refused" in response.json()["message"]
    assert signed_in(world["examiner"]).post("/cases/", fields, content_type=form).status_code == 400


def test_acting_on_a_finished_task_says_it_is_finished(study_corpus, participants):  # noqa: F811
    """Once its questionnaire is answered, a task told the participant to answer it (unclear)."""
    make_study("finished", study_corpus, tasks=2)
    pia = api(participants[0])
    task = pia.get("/api/v1/study/tasks/next/").json()
    url, hit = f"/api/v1/study/tasks/{task['task']}", task["hits"][0]["figure_id"]
    assert pia.post(f"{url}/finish/", {"confidence": 3, "usefulness": 4}, format="json").status_code == 200
    before = snapshot()
    for action, body in (("grades", {"figure_id": hit, "grade": 2}), ("opened", {"figure_id": hit})):
        response = pia.post(f"{url}/{action}/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {"message": "This task is finished: its questionnaire has been answered.", "extra": {}}
    assert snapshot() == before


def test_a_refused_form_keeps_what_the_user_typed(world):
    page, case = signed_in(world["examiner"]), world["case"]
    search = page.post("/", {"text": "coffee mug with a square handle", "k": "abc", "us_class_main": "D7"})
    assert search.status_code == 400
    html = search.content.decode()
    assert alert_lines(search) == ["Results: A valid integer is required."]
    assert ">coffee mug with a square handle</textarea>" in html and 'value="D7"' in html
    edit = page.post(f"/cases/{case.pk}/", {"action": "update", "title": "Folding lamp", "us_class": "D26/60",
                                            "cutoff_date": "0001-01-01"})
    assert edit.status_code == 400
    html = edit.content.decode()
    assert "A cutoff date is 1790-01-01 or later." in html
    assert 'value="Folding lamp"' in html and 'value="D26/60"' in html and 'value="0001-01-01"' in html
    case.refresh_from_db()
    assert (case.title, case.us_class, case.cutoff_date) == ("Widget", "", dt.date(2030, 1, 1))


def test_deleting_a_model_that_a_study_uses_is_refused_and_keeps_its_index(study_corpus, participants):  # noqa: F811
    from retrieval import index

    make_study("keeps", study_corpus, tasks=1)
    model = RetrievalModel.objects.get(name=MODEL_B)  # inactive, an arm of the study
    index.ensure_model_index(model)
    admin = api(UserFactory(username="root", role=User.Role.ADMIN))
    response = admin.delete(f"/api/v1/models/{model.pk}/")
    assert response.status_code == 400
    assert response.json()["message"] == f"Model '{MODEL_B}' cannot be deleted while 1 arm record(s) refer to it."
    assert RetrievalModel.objects.filter(pk=model.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [index.index_name(model)])
        assert cursor.fetchone() == (1,)
