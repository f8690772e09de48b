"""The check of issue 7 as an operator scripts it: accounts from the command line, tokens, and
the whole case workflow through the API alone with `Authorization: Token ...`."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.cases.conftest import upload
from tests.drawings import drawing, png_bytes

pytestmark = pytest.mark.django_db


def token_client(name: str) -> APIClient:
    call_command("drf_create_token", name, stdout=io.StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user__username=name).key}")
    return client


def rows(response) -> list[list[str]]:  # noqa: ANN001
    assert response.status_code == 200, response
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


def test_two_examiners_through_the_api_with_tokens(monkeypatch, encoded_corpus):
    monkeypatch.setenv("PATENTSEARCH_PASSWORD", "a long enough passphrase 7")
    call_command("create_user", "first", "--role", "examiner", stdout=io.StringIO())
    call_command("create_user", "second", "--role", "examiner", stdout=io.StringIO())
    first, second = token_client("first"), token_client("second")

    case = first.post("/api/v1/cases/", {"application_number": "29/700,001", "title": "Widget",
                                         "cutoff_date": "2020-01-01"}, format="json").json()
    views = [upload(png_bytes(drawing(3 * 100 + v)), f"view{v}.png") for v in (0, 1)]
    search = first.post(f"/api/v1/cases/{case['id']}/searches/", {"images": views, "k": 10}, format="multipart")
    assert search.status_code == 201, search.json()
    hits = search.json()["hits"]
    assert hits[0]["patent_id"] == "USD800003"
    judged = {hits[0]["figure_id"]: (3, "X", "anticipates"), hits[3]["figure_id"]: (2, "Y", "")}
    for figure_id, (grade, category, note) in judged.items():
        response = first.put(f"/api/v1/cases/{case['id']}/judgments/{figure_id}/",
                             {"grade": grade, "category": category, "note": note}, format="json")
        assert response.status_code == 200, response.json()

    judgments = rows(first.get("/api/v1/judgments.csv"))
    assert judgments[0][0] == "case_id" and len(judgments) == 1 + len(judged)
    by_figure = {int(r[2]): r for r in judgments[1:]}
    for figure_id, (grade, category, note) in judged.items():
        hit = next(h for h in hits if h["figure_id"] == figure_id)
        assert by_figure[figure_id][3:7] == [hit["patent_id"], str(grade), category, note]
        assert by_figure[figure_id][9:12] == [str(search.json()["id"]), "test-tiny", str(hit["rank"])]
    citations = rows(first.get(f"/api/v1/cases/{case['id']}/citations.csv"))
    cited = {(r[1], r[4]) for r in citations[1:]}
    assert cited == {(h["patent_id"], judged[h["figure_id"]][1]) for h in hits if h["figure_id"] in judged}

    base = f"/api/v1/cases/{case['id']}"
    sid = search.json()["id"]
    for response in (second.get(f"{base}/"), second.get(f"{base}/searches/{sid}/"),
                     second.get(f"{base}/citations.csv"), second.get(f"/api/v1/judgments.csv?case={case['id']}"),
                     second.put(f"{base}/judgments/{hits[0]['figure_id']}/", {"grade": 0}, format="json")):
        assert response.status_code == 404
    for response in (first.put(f"{base}/searches/{sid}/", {"k": 1}, format="json"),
                     first.patch(f"{base}/searches/{sid}/", {"k": 1}, format="json"),
                     first.delete(f"{base}/searches/{sid}/")):
        assert response.status_code == 405
    logged = first.get(f"{base}/searches/{sid}/").json()["hits"]
    assert [(h["rank"], h["figure_id"], h["score"]) for h in logged] == [
        (h["rank"], h["figure_id"], h["score"]) for h in hits]
