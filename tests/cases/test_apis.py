"""The cases API as a client uses it: cases, logged searches, judgments, exports, bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from cases.models import Case, CaseSearch, Judgment, JudgmentChange, LoggedHit, QueryImage
from retrieval.models import Figure
from tests.cases.conftest import upload
from tests.conftest import api_client
from tests.drawings import FOCUS_QUERY_SEED, drawing, png_bytes

pytestmark = pytest.mark.django_db


def view_of(patent: int, view: int) -> bytes:
    """The drawing of small_corpus patent USD80000{patent}, FIG. {view} (1-based)."""
    return png_bytes(drawing(patent * 100 + view - 1))


def figure(patent: int, view: int) -> Figure:
    return Figure.objects.get(patent__patent_id=f"USD80000{patent}", figure_label=str(view))


def search(client, case, **fields):
    data = ({} if "refine" in fields else {"k": 6}) | fields  # a refine takes its base's k
    return client.post(f"/api/v1/cases/{case.pk}/searches/", data, format="multipart")


def counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Case, CaseSearch, QueryImage, LoggedHit, Judgment, JudgmentChange))


def test_examiner_creates_a_case_and_lists_it_with_counts(examiner_api):
    body = {"application_number": "29/999,001", "title": "Coffee mug", "cutoff_date": "2012-06-01",
            "us_class": "D7/500", "locarno_class": "07-01"}
    response = examiner_api.post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["examiner"], created["status"], created["search_count"]) == ("ada", "open", 0)
    listed = examiner_api.get("/api/v1/cases/").json()
    assert [c["application_number"] for c in listed["results"]] == ["29/999,001"]
    found = examiner_api.get("/api/v1/cases/", {"q": "COFFEE", "status": "open"}).json()
    assert [c["application_number"] for c in found["results"]] == ["29/999,001"]
    assert examiner_api.get("/api/v1/cases/", {"status": "closed"}).json()["count"] == 0
    refused = examiner_api.get("/api/v1/cases/", {"status": "lost"})
    assert refused.status_code == 400 and "status" in refused.json()["message"]


def test_one_case_per_application_and_examiner(examiner_api, case, other_examiner):
    body = {"application_number": " 29/123,456 ", "title": "Widget again", "cutoff_date": "2012-06-01"}
    again = examiner_api.post("/api/v1/cases/", body, format="json")
    assert again.status_code == 400
    assert again.json()["message"].startswith("You already have a case for application 29/123,456 (Widget, open)")
    assert again.json()["extra"] == {"application_number": "29/123,456", "case": case.pk}
    other = examiner_api.post("/api/v1/cases/", {**body, "application_number": "29/2"}, format="json").json()
    moved = examiner_api.patch(f"/api/v1/cases/{other['id']}/", {"application_number": "29/123,456"}, format="json")
    assert moved.status_code == 400 and "already have a case" in moved.json()["message"]
    assert api_client(other_examiner).post("/api/v1/cases/", body, format="json").status_code == 201  # bob's own
    assert Case.objects.filter(application_number="29/123,456").count() == 2

def test_a_search_with_two_views_is_logged_with_its_drawings_and_exact_ranking(examiner_api, case, encoded_corpus):
    response = search(examiner_api, case, images=[upload(view_of(2, 1), "front.png"), upload(view_of(2, 2), "side.png")],
                      crops=json.dumps([None, [0, 0, 1, 1]]), text="", k=6)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["origin"] == "query" and body["model"] == "test-tiny" and body["k"] == 6
    assert [h["patent_id"] for h in body["hits"][:2]] == ["USD800002", "USD800002"]
    assert [img["filename"] for img in body["images"]] == ["front.png", "side.png"]
    assert body["images"][1]["crop"] == [0, 0, 1, 1]
    assert body["images"][0]["sha256"] == hashlib.sha256(view_of(2, 1)).hexdigest()
    logged = examiner_api.get(f"/api/v1/cases/{case.pk}/searches/{body['id']}/").json()
    assert [(h["rank"], h["figure_id"], h["score"]) for h in logged["hits"]] == [
        (h["rank"], h["figure_id"], h["score"]) for h in body["hits"]]
    image = examiner_api.get(body["images"][0]["url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_the_cutoff_keeps_grants_strictly_before_it_and_an_override_is_logged(examiner_api, examiner, encoded_corpus):
    case = examiner_api.post("/api/v1/cases/", {"application_number": "A1", "title": "Widget",
                                          "cutoff": "2012-01-05"}, format="json").json()
    case_obj = Case.objects.get(pk=case["id"])
    body = search(examiner_api, case_obj, images=[upload(view_of(2, 1))], k=20).json()
    assert {h["patent_id"] for h in body["hits"]} == {"USD800000", "USD800001"}  # 2012-01-05 is not before
    assert body["cutoff_date"] == "2012-01-05" and body["cutoff_overridden"] is False
    ignored = search(examiner_api, case_obj, images=[upload(view_of(2, 1))], k=20, ignore_cutoff="true").json()
    assert ignored["cutoff_date"] is None and ignored["cutoff_overridden"] is True
    assert ignored["hits"][0]["patent_id"] == "USD800002"
    moved = search(examiner_api, case_obj, images=[upload(view_of(2, 1))], k=20, cutoff="2012-01-06").json()
    assert moved["cutoff_overridden"] is True and "USD800002" in {h["patent_id"] for h in moved["hits"]}
    assert "USD800003" not in {h["patent_id"] for h in moved["hits"]}


def test_a_crop_is_applied_to_the_original_pixels(examiner_api, case, encoded_corpus):
    from PIL import Image
    sheet = Image.new("L", (640, 240), 255)
    sheet.paste(drawing(1 * 100 + 0), (0, 0))      # USD800001 FIG. 1 on the left
    sheet.paste(drawing(3 * 100 + 2), (320, 0))    # USD800003 FIG. 3 on the right
    body = search(examiner_api, case, images=[upload(png_bytes(sheet))], crops="[[0.5, 0, 1, 1]]", k=3).json()
    assert (body["hits"][0]["patent_id"], body["hits"][0]["figure_label"]) == ("USD800003", "3")
    assert body["hits"][0]["score"] == pytest.approx(1.0, abs=1e-4)


def test_more_like_this_searches_from_the_stored_vector_and_records_its_origin(examiner_api, case, encoded_corpus):
    seed = figure(1, 2)
    body = search(examiner_api, case, like_figure=seed.pk, k=4).json()
    assert body["origin"] == "like_figure" and body["like_figure"] == seed.pk
    shown = [hit["figure_id"] for hit in body["hits"]]
    assert len(shown) == 4 and seed.pk not in shown  # the seed itself is not a hit: the examiner has it
    assert body["images"] == []
    again = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{body['id']}/rerun/").json()["search"]
    assert [hit["figure_id"] for hit in again["hits"]] == shown


def test_judgments_show_in_later_searches_keep_history_and_feed_refine(examiner_api, case, encoded_corpus, settings):
    first = search(examiner_api, case, images=[upload(view_of(0, 1))], k=12).json()
    target = figure(0, 2).pk
    url = f"/api/v1/cases/{case.pk}/judgments/{target}/"
    assert examiner_api.put(url, {"grade": 3, "category": "X", "search": first["id"]}, format="json").status_code == 200
    changed = examiner_api.put(url, {"grade": 2, "note": "same handle"}, format="json").json()
    assert (changed["grade"], changed["category"], changed["note"], changed["search"]) == (2, "X", "same handle",
                                                                                           first["id"])
    assert [(h["old"], h["new"]["grade"]) for h in changed["history"]][1][1] == 2
    assert changed["history"][0]["old"] is None and changed["history"][1]["old"]["grade"] == 3
    examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/{figure(1, 1).pk}/", {"grade": 0}, format="json")
    later = search(examiner_api, case, images=[upload(view_of(0, 3))], k=12).json()
    shown = {h["figure_id"]: h["judgment"] for h in later["hits"]}
    assert shown[target] == {"grade": 2, "category": "X", "note": "same handle"}
    refined = search(examiner_api, case, refine=first["id"]).json()
    assert refined["origin"] == "refine" and refined["refined_from"] == first["id"]
    assert refined["feedback"] == {"beta": settings.CASES_ROCCHIO_BETA, "gamma": settings.CASES_ROCCHIO_GAMMA,
                                   "relevant": [target], "not_relevant": [figure(1, 1).pk]}
    assert refined["k"] == 12 and len(refined["hits"]) == 12


def test_rerun_logs_a_new_search_and_shows_new_and_dropped(examiner_api, case, encoded_corpus, tmp_path, active_model):
    from retrieval.ingest.pipeline import corpus_ingest
    from retrieval.services.encoding import figure_encode_batch

    first = search(examiner_api, case, images=[upload(view_of(0, 1))], k=3).json()
    same = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{first['id']}/rerun/").json()
    assert same["new"] == [] and same["dropped"] == [] and same["kept"] == 3
    assert same["search"]["origin"] == "rerun" and same["search"]["rerun_of"] == first["id"]
    assert same["search"]["images"][0]["sha256"] == first["images"][0]["sha256"]
    extra = corpus_ingest(path=_renamed_copy(tmp_path), name="copies")
    figure_encode_batch(figure_ids=extra.figure_ids, model_id=active_model.pk)
    diff = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{first['id']}/rerun/").json()
    assert {h["patent_id"] for h in diff["new"]} == {"USD900000"}
    assert len(diff["dropped"]) == len(diff["new"]) and diff["kept"] + len(diff["new"]) == 3


def test_a_rerun_with_a_larger_k_searches_deeper_and_marks_what_lay_beyond_as_new(examiner_api, case, encoded_corpus,
                                                                                  settings):
    first = search(examiner_api, case, images=[upload(view_of(0, 1))], text="widget", k=4).json()
    url = f"/api/v1/cases/{case.pk}/searches/{first['id']}/rerun/"
    deeper = examiner_api.post(url, {"k": 8}, format="json")
    assert deeper.status_code == 201
    body = deeper.json()
    assert body["search"]["k"] == 8 and len(body["search"]["hits"]) == 8
    assert (body["kept"], len(body["new"]), body["dropped"]) == (4, 4, [])
    shown = [h["figure_id"] for h in first["hits"]]
    assert {h["figure_id"] for h in body["new"]}.isdisjoint(shown)
    assert body["search"]["text"] == "widget" and body["search"]["images"][0]["sha256"] == first["images"][0]["sha256"]
    assert examiner_api.post(url, {"k": 2}, format="json").json()["dropped"][0]["rank"] == 3  # shallower works too
    logged = CaseSearch.objects.count()
    settings.RETRIEVAL_MAX_K = 10
    for k, said in ((11, "k may be at most 10."), (0, "Ensure this value is greater than or equal to 1."),
                    ("many", "A valid integer is required.")):
        refused = examiner_api.post(url, {"k": k}, format="json")
        assert refused.status_code == 400 and refused.json()["extra"]["fields"]["k"] == [said], k
    assert CaseSearch.objects.count() == logged  # a refused re-run logs nothing


D21_PATENTS = ["USD900000", "USD900001", "USD900002"]  # tests.drawings.class_focus_corpus
D21_FOCUS = [{"scheme": "us_class_main", "label": "D21", "share": 1.0},
             {"scheme": "locarno_class", "label": "21-01", "share": 1.0}]


def test_a_logged_search_keeps_its_class_focus_and_a_rerun_or_refine_uses_it_as_the_original_did(
    examiner_api, case, focus_corpus, settings
):
    query = png_bytes(drawing(FOCUS_QUERY_SEED))
    on = search(examiner_api, case, images=[upload(query)], k=12).json()  # class_focus left out: on
    assert on["class_focus_on"] is True and on["class_focus"]["classes"] == D21_FOCUS
    assert sorted(on["class_focus"]["patents"]) == D21_PATENTS
    assert on["class_focus"]["weight"] == settings.RETRIEVAL_CLASS_FOCUS_WEIGHT
    assert {h["patent_id"] for h in on["hits"][:6]} == set(D21_PATENTS)  # every D21 figure first
    logged = examiner_api.get(f"/api/v1/cases/{case.pk}/searches/{on['id']}/").json()
    assert (logged["class_focus_on"], logged["class_focus"]) == (True, on["class_focus"])

    off = search(examiner_api, case, images=[upload(query)], k=12, class_focus="false").json()
    assert off["class_focus_on"] is False and off["class_focus"] is None
    assert [h["score"] for h in off["hits"]] == sorted((h["score"] for h in off["hits"]), reverse=True)
    assert [h["figure_id"] for h in off["hits"]] != [h["figure_id"] for h in on["hits"]]

    rerun_off = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{off['id']}/rerun/").json()
    assert (rerun_off["search"]["class_focus_on"], rerun_off["search"]["class_focus"]) == (False, None)
    assert [h["figure_id"] for h in rerun_off["search"]["hits"]] == [h["figure_id"] for h in off["hits"]]
    rerun_on = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{on['id']}/rerun/").json()
    assert rerun_on["search"]["class_focus_on"] is True and rerun_on["search"]["class_focus"]["classes"] == D21_FOCUS
    assert [h["figure_id"] for h in rerun_on["search"]["hits"]] == [h["figure_id"] for h in on["hits"]]

    judged = on["hits"][0]["figure_id"]
    examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/{judged}/", {"grade": 3}, format="json")
    refined = search(examiner_api, case, refine=off["id"]).json()  # class_focus left out: the base's (off)
    assert refined["origin"] == "refine" and (refined["class_focus_on"], refined["class_focus"]) == (False, None)


def _renamed_copy(tmp_path):
    """A new patent, granted 2000, whose drawings are those of USD800000: it enters the top 3."""
    from tests.drawings import write_corpus
    rows = [{"image_file": f"images/c{v}.png", "patent_id": "USD900000", "figure_id": str(v + 1),
             "grant_date": "20000101"} for v in range(3)]
    images = {f"images/c{v}.png": png_bytes(drawing(0 * 100 + v)) for v in range(3)}
    return write_corpus(tmp_path / "copies", rows, images=images)


def test_exports_match_the_judgments_and_neutralise_formulas(examiner_api, case, encoded_corpus, examiner):
    first = search(examiner_api, case, images=[upload(view_of(0, 1))], k=12).json()
    rank = {h["figure_id"]: h for h in first["hits"]}
    judged = [(figure(0, 1).pk, 3, "X", "=HYPERLINK(\"http://evil\")"), (figure(0, 2).pk, 2, "Y", ""),
              (figure(1, 1).pk, 0, "", "side view")]
    for figure_id, grade, category, note in judged:
        examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/{figure_id}/",
                   {"grade": grade, "category": category, "note": note, "search": first["id"]}, format="json")
    citations = examiner_api.get(f"/api/v1/cases/{case.pk}/citations.csv")
    assert citations.status_code == 200 and citations["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(citations.streaming_content).decode("utf-8"))))
    assert rows[0] == ["application_number", "patent_id", "title", "grant_date", "category", "figures",
                       "best_grade", "note", "examiner", "judged_at"]
    assert len(rows) == 2
    assert rows[1][:8] == ["29/123,456", "USD800000", "Widget 0", "2010-01-05", "X", "1;2", "3",
                           "'=HYPERLINK(\"http://evil\")"]  # the patent's one note, neutralised
    assert rows[1][8] == "ada"
    response = examiner_api.get(f"/api/v1/judgments.csv?case={case.pk}", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200  # one case's file is named by it, as its other exports are
    assert 'filename="judgments-29_123_456.csv"' in response["Content-Disposition"]
    assert 'filename="judgments.csv"' in examiner_api.get("/api/v1/judgments.csv")["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert rows[0] == ["case_id", "application_number", "figure_id", "patent_id", "grade", "category", "note",
                       "examiner", "judged_at", "search_id", "model", "rank", "score"]
    body = {int(r[2]): r for r in rows[1:]}
    assert set(body) == {j[0] for j in judged}
    for figure_id, grade, category, _ in judged:
        row = body[figure_id]
        assert (row[0], row[4], row[5], row[7], row[9], row[10]) == (
            str(case.pk), str(grade), category, "ada", str(first["id"]), "test-tiny")
        assert row[11] == str(rank[figure_id]["rank"])
        assert float(row[12]) == rank[figure_id]["score"]  # the score as logged and shown
    assert body[judged[0][0]][6].startswith("'=")
    response = examiner_api.get(f"/api/v1/cases/{case.pk}/qrels.txt")
    from cases.apis import _safe

    # named by the application, as the case's other files are
    assert response["Content-Disposition"] == f'attachment; filename="qrels-{_safe(case.application_number)}.txt"'
    qrels = b"".join(response.streaming_content).decode()
    assert sorted(qrels.splitlines()) == sorted(f"{first['id']} 0 {f} {g}" for f, g, _, _ in judged)
    run = b"".join(examiner_api.get(f"/api/v1/cases/{case.pk}/searches/{first['id']}/run.txt").streaming_content).decode()
    lines = [line.split() for line in run.splitlines()]
    assert [(int(cols[2]), int(cols[3])) for cols in lines] == [(h["figure_id"], h["rank"]) for h in first["hits"]]
    assert {cols[1] for cols in lines} == {"Q0"} and {cols[5] for cols in lines} == {"test-tiny"}


def test_closing_makes_a_case_read_only_until_it_is_reopened(examiner_api, case, encoded_corpus):
    first = search(examiner_api, case, images=[upload(view_of(0, 1))]).json()
    closed = examiner_api.patch(f"/api/v1/cases/{case.pk}/", {"status": "closed"}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    before = counts()
    refused = [
        search(examiner_api, case, images=[upload(view_of(0, 1))]),
        examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{first['id']}/rerun/"),
        examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/{figure(0, 1).pk}/", {"grade": 1}, format="json"),
        examiner_api.patch(f"/api/v1/cases/{case.pk}/", {"title": "New"}, format="json"),
    ]
    for response in refused:
        assert response.status_code == 400 and "closed" in response.json()["message"], response.json()
    assert counts() == before and Case.objects.get(pk=case.pk).title == "Widget"
    reopened = examiner_api.patch(f"/api/v1/cases/{case.pk}/", {"status": "open"}, format="json").json()
    assert reopened["status"] == "open"
    assert search(examiner_api, case, images=[upload(view_of(0, 1))]).status_code == 201


@pytest.mark.parametrize("fields, message", [
    ({"images": "nine"}, "at most 8"),
    ({"crops": "[[0, 0, 1.5, 1]]"}, "fractions from 0 to 1"),
    ({"crops": "[[0.5, 0, 0.5, 1]]"}, "empty"),
    ({"crops": "not json"}, "not JSON"),
    ({"images": "none", "like_figure": 999999}, "does not exist"),
    ({"images": "none", "text": ""}, "Nothing to search: add a drawing or a description."),
    ({"images": "none", "text": "mug", "refine": 1}, "exactly one"),
    ({"images": "none", "refine": 999999}, "not a search of this case"),
    ({"images": "none", "refine": 1, "k": 5}, "A refine runs with its base search's text weight, k, filters, cutoff and "
                                              "class focus; leave out k, or run a new search with them."),
    ({"images": "none", "refine": 1, "ignore_cutoff": "true", "us_class_main": "D7"}, "leave out us_class_main, ignore_cutoff"),
    ({"k": 100000}, "k may be at most"),
    ({"images": "garbage"}, "cannot be used"),
    ({"class_focus": "sometimes"}, "class_focus: Must be a valid boolean."),
])
def test_bad_search_input_is_a_clear_4xx_and_changes_nothing(examiner_api, case, encoded_corpus, fields, message):
    fields = dict(fields)
    images = {"nine": [upload(view_of(0, 1)) for _ in range(9)], "none": [],
              "garbage": [upload(b"not an image", "x.png")]}.get(fields.pop("images", ""), [upload(view_of(0, 1))])
    before = counts()
    response = search(examiner_api, case, images=images, **fields)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert message in body["message"] and "extra" in body
    assert counts() == before


@pytest.mark.parametrize("body, message", [
    ({"grade": 7}, "grade must be 0, 1, 2 or 3"),
    ({"category": "Z"}, "category must be X, Y or A"),
    ({}, "Nothing to judge"),
    ({"grade": 1, "search": 999999}, "not a search of this case"),
])
def test_bad_judgments_are_a_clear_4xx_and_change_nothing(examiner_api, case, encoded_corpus, body, message):
    before = counts()
    response = examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/{figure(0, 1).pk}/", body, format="json")
    assert response.status_code == 400 and message in response.json()["message"], response.json()
    assert counts() == before


def test_judging_a_figure_that_does_not_exist_is_refused(examiner_api, case):
    response = examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/999999/", {"grade": 1}, format="json")
    assert response.status_code == 400 and "does not exist" in response.json()["message"]
    assert Judgment.objects.count() == 0


def test_another_examiner_gets_404_everywhere_and_admins_see_all(examiner_api, case, encoded_corpus, other_examiner,
                                                                 admin_user):
    first = search(examiner_api, case, images=[upload(view_of(0, 1))]).json()
    examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/{figure(0, 1).pk}/", {"grade": 3, "category": "X"},
               format="json")
    base, sid, fid = f"/api/v1/cases/{case.pk}", first["id"], figure(0, 1).pk
    bob, before = api_client(other_examiner), counts()
    requests = [
        bob.get(f"{base}/"), bob.patch(f"{base}/", {"status": "closed"}, format="json"),
        bob.get(f"{base}/searches/"), bob.post(f"{base}/searches/", {"images": [upload(view_of(0, 1))]},
                                               format="multipart"),
        bob.get(f"{base}/searches/{sid}/"), bob.post(f"{base}/searches/{sid}/rerun/"),
        bob.get(f"{base}/searches/{sid}/images/0"), bob.get(f"{base}/searches/{sid}/run.txt"),
        bob.get(f"{base}/judgments/{fid}/"), bob.put(f"{base}/judgments/{fid}/", {"grade": 0}, format="json"),
        bob.get(f"{base}/citations.csv"), bob.get(f"{base}/searches.csv"), bob.get(f"{base}/qrels.txt"),
        bob.get(f"/api/v1/judgments.csv?case={case.pk}"), bob.get(f"{base}/file.zip"),
    ]
    assert [r.status_code for r in requests] == [404] * len(requests)
    assert counts() == before and Case.objects.get(pk=case.pk).status == "open"
    assert bob.get("/api/v1/cases/").json()["count"] == 0
    own_rows = b"".join(bob.get("/api/v1/judgments.csv").streaming_content).decode().splitlines()
    assert len(own_rows) == 1  # the header only
    root = api_client(admin_user)
    assert root.get(f"{base}/").status_code == 200
    assert len(b"".join(root.get("/api/v1/judgments.csv").streaming_content).decode().splitlines()) == 2


def test_the_search_log_export_holds_each_query_and_what_it_showed(examiner_api, case, encoded_corpus):
    first = search(examiner_api, case, images=[upload(view_of(0, 1)), upload(view_of(1, 2))],
                   crops=json.dumps([None, [0.1, 0, 0.9, 1]]), text="=cmd|' /C calc'!A0", k=6,
                   cutoff="2011-01-01").json()
    again = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{first['id']}/rerun/").json()
    response = examiner_api.get(f"/api/v1/cases/{case.pk}/searches.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="searches-29_123_456.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert rows[0] == ["application_number", "search", "search_id", "searched_at", "examiner", "origin", "based_on_search",
                       "like_figure", "drawings", "drawing_sha256", "crops", "text", "text_weight", "k", "filters",
                       "cutoff", "cutoff_overridden", "model", "model_version", "class_focus", "words_matched",
                       "unsearched", "figures_shown", "patents_shown"]
    assert len(rows) == 3
    logged = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    one, two = logged["1"], logged["2"]
    assert (one["application_number"], one["examiner"], one["origin"], one["based_on_search"]) == (
        "29/123,456", "ada", "query", "")
    images = QueryImage.objects.filter(search_id=first["id"]).order_by("position")
    assert one["drawings"] == "2" and one["drawing_sha256"] == ";".join(i.sha256 for i in images)
    assert one["crops"] == "whole;0.100,0.000,0.900,1.000"
    assert one["text"] == "'=cmd|' /C calc'!A0"  # a formula, made inert
    assert (one["k"], one["cutoff"], one["cutoff_overridden"], one["model"]) == ("6", "2011-01-01", "yes", "test-tiny")
    assert one["figures_shown"] == ";".join(str(h["figure_id"]) for h in first["hits"])  # in rank order
    assert one["search_id"] == str(first["id"])  # the id of judgments.csv, qrels and run files
    patents = list(dict.fromkeys(Figure.objects.get(pk=h["figure_id"]).patent.patent_id for h in first["hits"]))
    assert one["patents_shown"] == ";".join(patents)
    assert one["class_focus"].startswith("on")
    assert one["unsearched"] == "0"  # every figure had its vector
    assert (two["origin"], two["based_on_search"], two["text"]) == ("rerun", "1", one["text"])
    assert two["figures_shown"] == ";".join(str(h["figure_id"]) for h in again["search"]["hits"])


def test_a_case_search_whose_words_match_nothing_says_so_then_and_later(examiner_api, examiner, case, encoded_corpus):
    """As on the plain search page: a text no figure's words or near spellings match gives hits that
    are only neighbours in meaning. The log keeps that, so the search page, the API and the search
    log say it whenever the search is looked at again."""
    from django.test import Client

    nothing = search(examiner_api, case, images=[upload(view_of(0, 1))], text="zzzqqq", k=4).json()
    drawing_only = search(examiner_api, case, images=[upload(view_of(0, 1))], k=4).json()
    assert (nothing["words_matched"], drawing_only["words_matched"]) == (False, None)
    assert examiner_api.get(f"/api/v1/cases/{case.pk}/searches/{nothing['id']}/").json()["words_matched"] is False
    again = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{nothing['id']}/rerun/").json()["search"]
    assert again["words_matched"] is False
    page = Client()
    page.force_login(examiner)
    shown = page.get(f"/cases/{case.pk}/searches/{nothing['id']}/").content.decode()
    assert 'id="no-word-match"' in shown and "and by the drawing" in shown
    assert 'id="no-word-match"' not in page.get(f"/cases/{case.pk}/searches/{drawing_only['id']}/").content.decode()
    response = examiner_api.get(f"/api/v1/cases/{case.pk}/searches.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert [(row["text"], row["words_matched"]) for row in rows] == [("zzzqqq", "no"), ("", ""), ("zzzqqq", "no")]


def test_a_case_search_made_while_figures_are_encoded_logs_how_many_it_left_out(examiner_api, examiner, case,
                                                                               tmp_path, active_model):
    """An examiner searching while a corpus is still being encoded sees a partial search marked as
    one, then and whenever the search is looked at again, and the file's search log keeps the count."""
    from django.test import Client

    from retrieval.ingest.pipeline import corpus_ingest
    from retrieval.selectors import search as search_selector
    from retrieval.services.encoding import figure_encode_batch
    from retrieval.services.search_text import figure_search_text_batch
    from tests.drawings import small_corpus

    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=2, views=2))
    figure_search_text_batch(figure_ids=result.figure_ids)
    figure_encode_batch(figure_ids=result.figure_ids[:2], model_id=active_model.pk)  # USD800000's views
    search_selector._catalogue_gap.clear()
    partial = search(examiner_api, case, images=[upload(view_of(0, 1))], k=4).json()
    assert partial["unsearched"] == 2 and len(partial["hits"]) == 2
    assert examiner_api.get(f"/api/v1/cases/{case.pk}/searches/{partial['id']}/").json()["unsearched"] == 2
    page = Client()
    page.force_login(examiner)
    shown = page.get(f"/cases/{case.pk}/searches/{partial['id']}/").content.decode()
    assert "Not a complete search: 2 figures within the filters were not compared" in shown
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    again = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{partial['id']}/rerun/").json()
    assert again["search"]["unsearched"] == 0 and len(again["new"]) == 2
    assert 'id="unsearched"' not in page.get(f"/cases/{case.pk}/searches/{again['search']['id']}/").content.decode()
    response = examiner_api.get(f"/api/v1/cases/{case.pk}/searches.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert [row["unsearched"] for row in rows] == ["2", "0"]


def test_the_search_log_export_gives_each_search_its_own_ranking_even_an_empty_one(examiner_api, case,
                                                                                   encoded_corpus):
    shown = [search(examiner_api, case, images=[upload(view_of(0, 1))], k=4).json(),
             search(examiner_api, case, images=[upload(view_of(0, 1))], k=4, cutoff="1791-01-01").json(),
             search(examiner_api, case, images=[upload(view_of(1, 1))], k=3).json()]
    assert [len(body["hits"]) for body in shown] == [4, 0, 3]
    response = examiner_api.get(f"/api/v1/cases/{case.pk}/searches.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    header = rows[0]
    logged = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [row["search"] for row in logged] == ["1", "2", "3"]
    for row, body in zip(logged, shown, strict=True):
        patents = dict.fromkeys(Figure.objects.get(pk=h["figure_id"]).patent.patent_id for h in body["hits"])
        figures = ";".join(str(h["figure_id"]) for h in body["hits"])
        assert (row["search_id"], row["figures_shown"], row["patents_shown"]) == (
            str(body["id"]), figures, ";".join(patents))


def test_no_endpoint_alters_a_logged_search(examiner_api, case, encoded_corpus):
    first = search(examiner_api, case, images=[upload(view_of(0, 1))]).json()
    url = f"/api/v1/cases/{case.pk}/searches/{first['id']}/"
    attempts = [examiner_api.put(url, {"k": 1}, format="json"), examiner_api.patch(url, {"text": "x"}, format="json"),
                examiner_api.delete(url), examiner_api.delete(f"{url}images/0"), examiner_api.put(f"{url}images/0", {}),
                examiner_api.delete(f"{url}rerun/")]
    assert [r.status_code for r in attempts] == [405] * len(attempts)
    assert examiner_api.get(url).json()["hits"] == first["hits"]


def test_participants_cannot_work_cases(db):
    from accounts.models import User
    participant = User.objects.create_user("pat", password="pw-for-tests-only", role=User.Role.PARTICIPANT)
    response = api_client(participant).get("/api/v1/cases/")
    assert response.status_code == 403 and "examiners" in response.json()["message"]


def test_the_case_file_holds_every_export_as_its_own_download_has_it(examiner_api, case, encoded_corpus):
    """One ZIP for the record: each CSV and text part byte for byte the download of its own, every
    logged ranking, the query drawings as stored and the cited figures' drawings."""
    import zipfile

    first = search(examiner_api, case, images=[upload(view_of(0, 1)), upload(view_of(1, 2))],
                   crops=json.dumps([[0.1, 0.1, 0.9, 0.9], None]), k=5).json()
    second = search(examiner_api, case, text="=widget", k=3).json()
    cited, other = figure(0, 2), figure(1, 1)
    for figure_id, values in ((cited.pk, {"grade": 3, "category": "X", "note": "=1+1"}),
                              (other.pk, {"grade": 0}), (figure(0, 3).pk, {"category": "A"})):
        examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/{figure_id}/", values, format="json")
    response = examiner_api.get(f"/api/v1/cases/{case.pk}/file.zip", HTTP_ACCEPT="application/zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="case-29_123_456.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    assert archive.namelist() == [
        "README.txt", "citations.csv", "judgments.csv", "searches.csv", "qrels.txt",
        "runs/search-1.txt", "runs/search-2.txt", "drawings/search-1-1-view.png", "drawings/search-1-2-view.png",
        "cited/USD800000-FIG2.png", "cited/USD800000-FIG3.png",
    ]

    def download(url: str) -> bytes:
        return b"".join(examiner_api.get(url).streaming_content)

    base = f"/api/v1/cases/{case.pk}"
    for name, url in (("citations.csv", f"{base}/citations.csv"), ("searches.csv", f"{base}/searches.csv"),
                      ("judgments.csv", f"/api/v1/judgments.csv?case={case.pk}"), ("qrels.txt", f"{base}/qrels.txt"),
                      ("runs/search-1.txt", f"{base}/searches/{first['id']}/run.txt"),
                      ("runs/search-2.txt", f"{base}/searches/{second['id']}/run.txt")):
        assert archive.read(name) == download(url), name
    assert archive.read("citations.csv").count(b"\r\n") == 2 and b"'=1+1" in archive.read("citations.csv")
    logged = CaseSearch.objects.get(pk=first["id"]).images.order_by("position")
    for image in logged:
        with image.file.open("rb") as stored:
            assert archive.read(f"drawings/search-1-{image.position + 1}-view.png") == stored.read()
    with cited.image.open("rb") as stored:
        assert archive.read("cited/USD800000-FIG2.png") == stored.read()
    readme = archive.read("README.txt").decode()
    assert readme.startswith("Case file of application 29/123,456: Widget\r\n") and "2 logged searches" in readme
    assert page_has_case_file_link(examiner_api, case)


def test_a_case_file_whose_stored_drawing_is_gone_still_downloads_and_names_it(examiner_api, case, encoded_corpus):
    import os
    import zipfile

    search(examiner_api, case, images=[upload(view_of(0, 1)), upload(view_of(1, 1), "other.png")], k=3)
    os.remove(QueryImage.objects.get(position=1).file.path)  # the media folder lost a file
    response = examiner_api.get(f"/api/v1/cases/{case.pk}/file.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "drawings/search-1-1-view.png" in archive.namelist()
    assert "drawings/search-1-2-other.png" not in archive.namelist()
    readme = archive.read("README.txt").decode()
    assert "Not in this archive: 1 stored drawing(s) whose file is missing" in readme
    assert "  drawings/search-1-2-other.png" in readme


def test_a_logged_drawing_whose_file_is_gone_is_said_not_a_500(examiner_api, examiner, case, encoded_corpus):
    import os

    from django.test import Client

    first = search(examiner_api, case, images=[upload(view_of(0, 1))], k=3).json()
    os.remove(QueryImage.objects.get(search_id=first["id"]).file.path)  # the media folder lost it
    said = "Drawing 1 of search 1 (view.png) is missing from the media folder"
    shown = examiner_api.get(f"/api/v1/cases/{case.pk}/searches/{first['id']}/images/0")
    assert shown.status_code == 404 and shown.json()["message"].startswith(said)
    logged = CaseSearch.objects.count()
    again = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{first['id']}/rerun/")
    assert again.status_code == 400 and again.json()["message"].startswith(said)
    assert examiner_api.get(f"/api/v1/cases/{case.pk}/searches/{first['id']}/").status_code == 200  # the log stands
    page = Client()
    page.force_login(examiner)
    button = page.post(f"/cases/{case.pk}/searches/{first['id']}/rerun")
    assert button.status_code == 400 and said in button.content.decode()
    assert CaseSearch.objects.count() == logged


def page_has_case_file_link(client, case) -> bool:
    from django.test import Client

    page = Client()
    page.force_login(case.examiner)
    return f'href="/api/v1/cases/{case.pk}/file.zip" download id="case-file"' in page.get(f"/cases/{case.pk}/").content.decode()


def test_the_cases_api_is_in_the_openapi_schema(examiner_api):
    schema = examiner_api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/cases/", "/api/v1/cases/{id}/", "/api/v1/cases/{id}/searches/",
                 "/api/v1/cases/{id}/searches/{search_id}/rerun/", "/api/v1/cases/{id}/judgments/{figure_id}/",
                 "/api/v1/cases/{id}/citations.csv", "/api/v1/cases/{id}/searches.csv", "/api/v1/judgments.csv",
                 "/api/v1/cases/{id}/qrels.txt", "/api/v1/cases/{id}/file.zip",
                 "/api/v1/cases/{id}/searches/{search_id}/run.txt"):
        assert path in schema["paths"], path
    # the paged lists say what they send (a page) and take (limit, offset)
    for path, item in (("/api/v1/cases/", "CaseOutput"), ("/api/v1/cases/{id}/searches/", "CaseSearchSummary"),
                       ("/api/v1/studies/", "Study"), ("/api/v1/jobs/", "Job")):
        get = schema["paths"][path]["get"]
        assert {"limit", "offset"} <= {p["name"] for p in get["parameters"]}, path
        page = schema["components"]["schemas"][f"Paginated{item}List"]
        assert set(page["properties"]) == {"count", "next", "previous", "results"}, path
        assert page["properties"]["results"]["items"]["$ref"].endswith(f"/{item}"), path
        assert get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(f"Paginated{item}List")
        assert get["operationId"].endswith("_list"), path
    cases = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}  # and its filters
    assert {"open", "closed"} <= set(cases["status"]["schema"]["enum"]) and cases["q"]["in"] == "query"


def test_a_multi_page_tiff_searches_with_its_first_page_and_is_stored_as_sent(examiner_api, case, encoded_corpus):
    first, second = drawing(2 * 100 + 1), drawing(3 * 100 + 2)
    buffer = io.BytesIO()
    first.save(buffer, format="TIFF", save_all=True, append_images=[second])
    body = search(examiner_api, case, images=[upload(buffer.getvalue(), "sheet.tif")], k=3).json()
    assert (body["hits"][0]["patent_id"], body["hits"][0]["figure_label"]) == ("USD800002", "2")
    assert body["images"][0]["sha256"] == hashlib.sha256(buffer.getvalue()).hexdigest()
    png = examiner_api.get(body["images"][0]["url"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    rerun = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{body['id']}/rerun/").json()
    assert rerun["new"] == [] and rerun["dropped"] == []


def test_a_case_search_that_leaves_a_word_out_keeps_it_out_in_its_refine_and_rerun(examiner_api, examiner, case,
                                                                                    encoded_corpus):
    """"widget -0" with the drawing of "Widget 0" itself: none of that patent's figures come back,
    not even the drawing's own copy. A refine asks with a vector and no text channels, and still
    leaves out what its base left out, as does a re-run of the refine; the search page says what
    was left out."""
    from django.test import Client

    from retrieval.services.search_text import figure_search_text_batch

    figure_search_text_batch(figure_ids=encoded_corpus.figure_ids)  # queued on commit; the test never commits
    first = search(examiner_api, case, images=[upload(view_of(0, 1))], text="widget -0", k=9).json()
    assert first["hits"] and all(h["patent_id"] != "USD800000" for h in first["hits"])
    assert len(first["hits"]) == 9  # the other three patents' nine figures
    examiner_api.put(f"/api/v1/cases/{case.pk}/judgments/{figure(1, 1).pk}/", {"grade": 3}, format="json")
    refined = search(examiner_api, case, refine=first["id"]).json()
    assert refined["origin"] == "refine" and all(h["patent_id"] != "USD800000" for h in refined["hits"])
    again = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{refined['id']}/rerun/").json()["search"]
    assert again["hits"] and all(h["patent_id"] != "USD800000" for h in again["hits"])
    page = Client()
    page.force_login(examiner)
    shown = page.get(f"/cases/{case.pk}/searches/{refined['id']}/").content.decode()
    assert 'id="excluded-terms"' in shown and "<q>0</q>" in shown
