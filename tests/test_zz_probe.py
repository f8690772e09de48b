"""TEMPORARY probe: hits every endpoint with hostile values, collects 5xx/exceptions."""
import datetime as dt, io, json, traceback
import pytest
from django.test import Client
from rest_framework.test import APIClient
from accounts.models import User
from tests.accounts.factories import UserFactory
from tests.studies.conftest import two_models, study_corpus, participants, make_study  # noqa
from tests.drawings import drawing, png_bytes

pytestmark = pytest.mark.django_db

HOSTILE = ["a\x00b", 10**30, -1, 0, "abc", ["a", "b"], {"a": 1}, None, "x" * 100_000, True, 1.5, "", "NaN", "1e400"]

def probe(results, client, method, url, body=None, fmt="json", **kw):
    from django.db import transaction
    sp = transaction.savepoint()
    try:
        fn = getattr(client, method)
        r = fn(url, body, format=fmt, **kw) if isinstance(client, APIClient) and body is not None else (fn(url, body, **kw) if body is not None else fn(url, **kw))
        code = r.status_code
        if code >= 500:
            results.append((method, url, repr(body)[:200], code, getattr(r, "content", b"")[:300]))
    except Exception as exc:
        results.append((method, url, repr(body)[:200], "EXC", "".join(traceback.format_exception_only(exc))[-400:]))
        transaction.savepoint_rollback(sp)
        return
    transaction.savepoint_rollback(sp)

def test_probe(study_corpus, participants, tmp_path):
    from cases.services.cases import case_create
    from retrieval.models import Figure
    from studies.models import Study
    admin = UserFactory(username="root", role=User.Role.ADMIN)
    ex = UserFactory(username="ada")
    made = make_study("probe", study_corpus, tasks=2)
    study = Study.objects.get(pk=made.study_id)
    case = case_create(examiner=ex, application_number="29/1", title="W", cutoff_date=dt.date(2030, 1, 1))
    fig = Figure.objects.first().pk
    A = APIClient(); A.force_authenticate(admin)
    E = APIClient(); E.force_authenticate(ex)
    P = APIClient(); P.force_authenticate(participants[0])
    task = P.get("/api/v1/study/tasks/next/").json()
    tid = task["task"]; hit = task["hits"][0]["figure_id"]
    # a logged search
    r = E.post(f"/api/v1/cases/{case.pk}/searches/", {"text": "widget", "k": 5}, format="multipart")
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    res = []
    json_eps = [
        (E, "post", "/api/v1/cases/", {"application_number": "1", "title": "t", "cutoff_date": "2020-01-01", "description": "d", "notes": "n", "us_class": "D1", "locarno_class": "01-01"}),
        (E, "patch", f"/api/v1/cases/{case.pk}/", {"title": "t", "cutoff_date": "2020-01-01", "status": "open", "notes": "n", "application_number": "2"}),
        (E, "put", f"/api/v1/cases/{case.pk}/judgments/{fig}/", {"grade": 2, "category": "X", "note": "n", "search": sid}),
        (P, "post", f"/api/v1/study/tasks/{tid}/grades/", {"figure_id": hit, "grade": 2}),
        (P, "post", f"/api/v1/study/tasks/{tid}/opened/", {"figure_id": hit}),
        (P, "post", f"/api/v1/study/tasks/{tid}/end/", {"found_citable": True}),
        (P, "post", f"/api/v1/study/tasks/{tid}/finish/", {"confidence": 3, "usefulness": 3, "comment": "c", "found_citable": True}),
        (P, "post", "/api/v1/study/sus/", {"answers": [3] * 10}),
        (A, "post", "/api/v1/studies/", {"name": "s2", "arms": ["zebrafinch-model", "quokka-model"], "participants": ["paul"], "k": 5, "time_limit_s": 60, "seed": 1, "tasks_from": study_corpus, "n_tasks": 1, "views": 1, "design": "within", "description": "d"}),
        (A, "post", "/api/v1/studies/", {"name": "s3", "arms": ["zebrafinch-model", "quokka-model"], "participants": ["paul"], "tasks": [{"query_figures": [fig], "text": "t", "gallery": None, "known_relevant": ["USD800001"]}]}),
        (A, "post", f"/api/v1/studies/{study.pk}/participants/", {"participants": ["root"]}),
        (A, "post", "/api/v1/corpora/", {"folder": "nope", "name": "n"}),
        (A, "post", f"/api/v1/corpora/{study.pk}/describe/", {"backend": "offline", "model_path": ""}),
        (A, "post", "/api/v1/models/", {"checkpoint": "/nonexistent", "name": "m"}),
        (A, "post", "/api/v1/models/1/activate/", {"force": False}),
        (A, "post", "/api/v1/evaluations/", {"corpus": 1, "models": [1], "relevance": ["patent"], "exclude_same_patent": False, "qrels": ""}),
    ]
    for client, m, url, valid in json_eps:
        for field in list(valid) + ["extra_field"]:
            for bad in HOSTILE:
                probe(res, client, m, url, {**valid, field: bad})
        for raw, ct in [(b"{bad json", "application/json"), (b"[1,2]", "application/json"), (b'"x"', "application/json"),
                        (b"\xff\xfe", "application/json"), (b'{"a": NaN}', "application/json"), (b"a=\xff", "application/x-www-form-urlencoded"),
                        (b"x", "text/plain"), (b"--zz\r\n", "multipart/form-data; boundary=zz"), (b"", "multipart/form-data")]:
            from django.db import transaction
            sp = transaction.savepoint()
            try:
                r = getattr(client, m)(url, raw, content_type=ct)
                if r.status_code >= 500: res.append((m, url, repr(raw), r.status_code, r.content[:200]))
                transaction.savepoint_rollback(sp)
            except Exception as exc:
                res.append((m, url, repr(raw), "EXC", repr(exc)[:300]))
                transaction.savepoint_rollback(sp)
    # multipart search endpoints
    for url, client, base in [("/api/v1/search/", E, {"text": "cup"}), (f"/api/v1/cases/{case.pk}/searches/", E, {"text": "cup"})]:
        for field in ["text", "text_weight", "k", "corpus", "us_class_main", "locarno_class", "grant_date_from", "grant_date_to", "include_front_page", "query_token", "crops", "cutoff", "ignore_cutoff", "like_figure", "refine"]:
            for bad in ["a\x00b", str(10**30), "-1", "abc", "NaN", "inf", "x" * 100_000, "9999-99-99", "0001-01-01", "[[0,0,NaN,1]]", "[[0,0,1e400,1]]", "null", "{}"]:
                probe(res, client, "post", url, {**base, field: bad}, fmt="multipart")
        for data in [b"", b"notanimage", png_bytes(drawing(1))[:100], b"%PDF-1.4 garbage", b"GIF89a" + b"\x00" * 20]:
            f = io.BytesIO(data); f.name = "x.png"
            key = "image" if "search/" == url[-7:] else "images"
            probe(res, client, "post", url, {key: f}, fmt="multipart")
    # GETs with params
    gets = [(E, "/api/v1/cases/"), (E, f"/api/v1/cases/{case.pk}/searches/"), (A, "/api/v1/jobs/"), (E, "/api/v1/judgments.csv")]
    for client, url in gets:
        for q in ["limit=abc", "limit=-1", f"limit={10**30}", f"offset={10**30}", "offset=-5", "limit=0", f"offset={2**63}", "case=abc", f"case={10**30}", "case=%00", "case=-1", "limit=%00", "offset=1e3", "ordering=xx"]:
            probe(res, client, "get", f"{url}?{q}")
    # path ids
    big = 10**30
    paths = [(E, f"/api/v1/cases/{big}/"), (E, f"/api/v1/cases/{case.pk}/searches/{big}/"), (E, f"/api/v1/cases/{case.pk}/searches/{sid}/images/{big}"),
             (E, f"/api/v1/cases/{case.pk}/searches/{sid}/run.txt"), (E, f"/api/v1/cases/{case.pk}/judgments/{big}/"), (E, f"/api/v1/cases/{big}/citations.csv"),
             (E, f"/figures/{big}/image"), (A, f"/api/v1/jobs/{big}/"), (A, f"/api/v1/models/{big}/"), (A, f"/api/v1/jobs/{big}/report.json"), (A, f"/api/v1/studies/{big}/"),
             (A, f"/api/v1/studies/{big}/events.csv"), (P, f"/api/v1/study/tasks/{big}/grades/"), (A, f"/console/figures/{big}/"), (A, f"/console/jobs/{big}/"),
             (E, f"/cases/{big}/"), (E, f"/cases/{case.pk}/patents/%00/"), (E, f"/cases/{case.pk}/patents/{'x'*5000}/"), (E, f"/cases/{case.pk}/searches/{big}/"), (A, f"/studies/{big}/"),
             (E, f"/api/v1/cases/{case.pk}/searches/{sid}/images/0?cropped=%00")]
    for client, url in paths:
        probe(res, client, "get", url)
        probe(res, client, "post", url, {})
        probe(res, client, "put", url, {})
        probe(res, client, "delete", url)
    probe(res, P, "post", f"/api/v1/study/tasks/{big}/grades/", {"figure_id": hit, "grade": 1})
    probe(res, E, "put", f"/api/v1/cases/{case.pk}/judgments/{big}/", {"grade": 1})
    probe(res, A, "post", f"/api/v1/models/{big}/activate/", {})
    probe(res, A, "post", f"/api/v1/jobs/{big}/cancel/", {})
    probe(res, A, "post", f"/api/v1/corpora/{big}/describe/", {})
    # HTML views
    C = Client(); C.force_login(ex)
    CA = Client(); CA.force_login(admin)
    for q in ["page=abc", "page=-1", "page=99999999", f"page={10**30}", "page=%00", "page=%ff"]:
        probe(res, C, "get", f"/cases/?{q}"); probe(res, C, "get", f"/cases/{case.pk}/?{q}"); probe(res, CA, "get", f"/console/?{q}")
    html_posts = [
        (C, "/cases/", {"application_number": "1", "title": "t", "cutoff_date": "2020-01-01"}),
        (C, f"/cases/{case.pk}/", {"action": "update", "title": "t", "cutoff_date": "2020-01-01"}),
        (C, f"/cases/{case.pk}/search", {"text": "cup", "k": "5"}),
        (C, f"/cases/{case.pk}/searches/{sid}/like", {"figure": str(fig)}),
        (C, "/", {"text": "cup", "k": "5"}),
        (CA, "/studies/new/", {"name": "n", "arms": ["zebrafinch-model", "quokka-model"], "corpus": study_corpus, "n_tasks": "1", "views": "1", "participants": ["paul"], "design": "within", "k": "5", "seed": "0"}),
        (CA, f"/studies/{study.pk}/participants/", {"participants": ["root"]}),
        (C, "/accounts/login/", {"username": "ada", "password": "x"}),
    ]
    for client, url, valid in html_posts:
        for field in list(valid) + ["action", "extra"]:
            for bad in ["a\x00b", str(10**30), "-1", "abc", "NaN", "x" * 100_000, "9999-99-99", "", str(2**63)]:
                probe(res, client, "post", url, {**valid, field: bad})
    base_task = {"query_figures": [fig], "text": "t", "gallery": None, "known_relevant": ["USD800001"]}
    for field in base_task:
        for bad in HOSTILE + [[10**30], ["a\x00"], [None]]:
            probe(res, A, "post", "/api/v1/studies/", {"name": "s9", "arms": ["zebrafinch-model", "quokka-model"], "participants": ["paul"], "tasks": [{**base_task, field: bad}]})
    for bad in ["a\x00b", str(10**30), "-1", "abc", str(2**31)]:
        probe(res, CA, "post", "/studies/new/", {"name": "n", "arms": ["zebrafinch-model", "quokka-model"], "corpus": study_corpus, "n_tasks": "1", "views": "1", "participants": ["paul"], "design": "within", "k": "5", "seed": "0", "time_limit_s": bad})
        probe(res, CA, "post", "/studies/new/", {"name": "n", "arms": ["zebrafinch-model", "quokka-model"], "corpus": bad, "n_tasks": bad, "views": "1", "participants": [bad], "design": bad, "k": "5", "seed": "0"})
    probe(res, A, "post", "/api/v1/studies/", {"name": "s2", "arms": ["zebrafinch-model", "quokka-model"], "participants": ["paul"], "tasks_from": study_corpus, "n_tasks": 10**30})
    for action in ["rerun", "refine", "like", "nope", "x" * 300]:
        probe(res, C, "post", f"/cases/{case.pk}/searches/{sid}/{action}", {"figure": str(10**30)})
    for q in ["?x=%ff%fe", "?text=%00"]:
        probe(res, C, "get", "/" + q)
    probe(res, C, "get", "/cases/?page=1", HTTP_ACCEPT="\x00")
    for r in res:
        print("FAIL", r)
    print("TOTAL", len(res))
