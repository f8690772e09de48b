import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.selectors.class_focus import ClassFocus, FocusClass
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import drawing, png_bytes, small_corpus
from tests.pages import alert_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def examiner_client(client, examiner):
    """The browser-side client (session login) of the suite's examiner."""
    client.force_login(examiner)
    return client


def test_pages_require_login(client):
    response = client.get(reverse("retrieval:search"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("retrieval:figure-image", args=[1])).status_code in (401, 403)


def test_login_page_logs_in(client):
    User.objects.create_user("grace", password="pw-for-tests-only")
    response = client.post(reverse("accounts:login"), {"username": "grace", "password": "pw-for-tests-only"})
    assert response.status_code == 302
    assert client.get(reverse("retrieval:search")).status_code == 200


def test_search_page_shows_results_grouped_by_patent(examiner_client, tmp_path, active_model):
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    query = png_bytes(drawing(1 * 100 + 1))  # USD800001 FIG. 2
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = examiner_client.post(
        reverse("retrieval:search"),
        {"image": SimpleUploadedFile("q.png", query, "image/png"), "k": 6, "text": "", "us_class_main": "",
         "grant_date_from": "", "grant_date_to": ""},  # what the browser sends for untouched fields
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "6 figures from 3 patents" in html
    assert html.index("USD800001") < html.index("USD800000")
    assert 'class="card"' in html and "FIG. 2 is a front view" in html


def test_search_page_explains_a_bad_upload(examiner_client, active_model):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = examiner_client.post(
        reverse("retrieval:search"), {"image": SimpleUploadedFile("q.png", b"nope", "image/png")}
    )
    assert response.status_code == 400
    assert "The file cannot be used: not an image" in response.content.decode()


def test_search_again_reuses_the_earlier_drawing(examiner_client, tmp_path, active_model):
    """Changing a filter and searching again needs no new upload: the drawing is kept by token."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    first = examiner_client.post(
        reverse("retrieval:search"), {"image": SimpleUploadedFile("q.png", png_bytes(drawing(101)), "image/png")}
    )
    token = first.context["query_token"]
    assert first.context["query_image"].startswith("data:image/png;base64,")
    again = examiner_client.post(reverse("retrieval:search"), {"query_token": token, "us_class_main": "D21"})
    assert again.status_code == 200
    assert {hit.figure.patent.us_class_main for hit in again.context["result"].hits} == {"D21"}
    expired = examiner_client.post(reverse("retrieval:search"), {"query_token": "0" * 64})
    assert "The earlier drawing has expired" in expired.content.decode()


def test_an_earlier_drawing_is_only_ever_given_back_to_the_user_who_sent_it(examiner, tmp_path, active_model):
    """The token of a drawing is its SHA-256, which anyone who holds the file (or saw its hash) can
    compute: another user's search with it must neither use nor show the drawing (the page shows
    the query drawing back), nor tell whether anyone sent it. A drawing sent in a case (a
    confidential application) is never reachable by token at all."""
    import datetime as dt
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from cases.services.cases import case_create
    from tests.accounts.factories import UserFactory

    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    ada, bob = Client(), Client()
    ada.force_login(examiner)
    bob.force_login(UserFactory(username="bob"))
    data = png_bytes(drawing(101))
    token = ada.post(reverse("retrieval:search"), {"image": SimpleUploadedFile("q.png", data, "image/png")}
                     ).context["query_token"]
    assert ada.post(reverse("retrieval:search"), {"query_token": token}).status_code == 200
    stolen = bob.post(reverse("retrieval:search"), {"query_token": hashlib.sha256(data).hexdigest()})
    assert stolen.status_code == 400 and "The earlier drawing has expired" in stolen.content.decode()
    assert not stolen.context.get("query_image") and not stolen.context.get("result")

    case = case_create(examiner=examiner, application_number="29/7", title="Lamp", cutoff_date=dt.date(2030, 1, 1))
    secret = png_bytes(drawing(102))
    ada.post(f"/cases/{case.pk}/search", {"images": [SimpleUploadedFile("s.png", secret, "image/png")], "k": "3"})
    for client in (ada, bob):
        response = client.post(reverse("retrieval:search"), {"query_token": hashlib.sha256(secret).hexdigest()})
        assert response.status_code == 400 and not response.context.get("query_image")


def test_search_page_keeps_the_chosen_corpus_and_takes_k_limits_from_the_settings(
    examiner_client, tmp_path, active_model, settings
):
    from retrieval.models import Corpus

    settings.RETRIEVAL_MAX_K, settings.RETRIEVAL_DEFAULT_K = 150, 12
    for name, seed in (("first", 0), ("second", 1)):
        result = corpus_ingest(path=small_corpus(tmp_path / name, patents=2, views=1, seed=seed), name=name)
        figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    first, second = Corpus.objects.get(name="first"), Corpus.objects.get(name="second")
    page = examiner_client.get(reverse("retrieval:search")).content.decode()
    assert 'name="k" min="1" max="150" value="12"' in page
    assert "selected" not in page

    response = examiner_client.post(reverse("retrieval:search"), {"text": "widget", "corpus": [second.pk], "k": "3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{second.pk}" selected>' in html
    assert f'<option value="{first.pk}">' in html  # only the chosen one stays selected
    assert 'max="150" value="3"' in html
    assert "USD801000" in html and "USD800000" not in html  # the filter was applied


FOCUS_BOX = 'name="class_focus" value="true" id="class-focus-input"'


def _focus_page(client, **fields):  # noqa: ANN001, ANN003, ANN202
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.drawings import FOCUS_QUERY_SEED

    image = SimpleUploadedFile("q.png", png_bytes(drawing(FOCUS_QUERY_SEED)), "image/png")
    return client.post(reverse("retrieval:search"), {"image": image, "k": 12, "text": "", **fields})


def _ranks_by_patent(html: str) -> dict[str, list[int]]:
    """The rank badges of each patent group, as the page shows them."""
    import re

    groups = re.findall(r'<article class="patent-group" data-patent="([^"]+)">(.*?)</article>', html, re.S)
    return {patent: [int(r) for r in re.findall(r'<span class="rank">#(\d+)</span>', body)] for patent, body in groups}


def test_the_class_focus_box_is_ticked_by_default_and_unticking_it_really_turns_it_off(examiner_client, focus_corpus):
    page = examiner_client.get(reverse("retrieval:search")).content.decode()
    assert f"{FOCUS_BOX} checked>" in page and '<input type="hidden" name="class_focus" value="false">' in page
    assert "Rank the best hits' classes first" in page

    # ticked: the browser sends the hidden "false" and the box's "true"
    on = _focus_page(examiner_client, class_focus=["false", "true"])
    assert on.status_code == 200
    html = on.content.decode()
    assert on.context["result"].focus is not None
    assert "Class focus: US D21 (100 %) · Locarno 21-01 (100 %) — from the best 3 patents" in html
    assert html.count(">class ↑</span>") == 6  # every D21 figure, no D14 one
    assert f"{FOCUS_BOX} checked>" in html  # the box keeps its state
    d21 = [r for p in ("USD900000", "USD900001", "USD900002") for r in _ranks_by_patent(html)[p]]
    assert sorted(d21) == [1, 2, 3, 4, 5, 6]

    # unticked: only the hidden "false" arrives
    off = _focus_page(examiner_client, class_focus="false")
    assert off.status_code == 200
    html = off.content.decode()
    assert off.context["result"].focus is None
    assert all(hit.class_boost == 0 for hit in off.context["result"].hits)
    assert "Class focus off: ranked by score alone." in html and "Class focus: US" not in html
    assert "class ↑" not in html
    assert f"{FOCUS_BOX}>" in html and f"{FOCUS_BOX} checked>" not in html  # still unticked
    scores = [hit.score for hit in off.context["result"].hits]
    assert scores == sorted(scores, reverse=True)
    d21 = [r for p in ("USD900000", "USD900001", "USD900002") for r in _ranks_by_patent(html)[p]]
    assert sorted(d21) != [1, 2, 3, 4, 5, 6]  # by score alone a D14 figure comes between


def test_the_focus_summary_names_the_classes_holding_a_tenth_of_the_votes_and_counts_the_rest():
    """An unclassed voter spreads its vote over the list's classes: small shares are counted,
    not listed, and their figures are not marked as lifted."""
    focus = ClassFocus(weight=0.5, patents=["USD1", "USD2"], classes=[
        FocusClass("us_class_main", "D14", 1.0), FocusClass("locarno_class", "14-02", 0.85),
        FocusClass("locarno_class", "14-03", 0.08), FocusClass("locarno_class", "06-01", 0.07)])
    html = render_to_string("retrieval/_class_focus.html", {"focus": focus})
    assert "Class focus: US D14 (100 %) · Locarno 14-02 (85 %) and 2 more below 10 % — from the best 2 patents" in html
    assert "14-03" not in html


def test_a_search_without_the_field_keeps_the_focus_on_and_an_error_keeps_the_box_unticked(
    examiner_client, focus_corpus
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    plain = _focus_page(examiner_client)  # another client that knows no class_focus
    assert plain.context["result"].focus is not None
    bad = examiner_client.post(reverse("retrieval:search"), {
        "image": SimpleUploadedFile("q.png", b"nope", "image/png"), "class_focus": "false"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert f"{FOCUS_BOX}>" in html and f"{FOCUS_BOX} checked>" not in html
    wrong = _focus_page(examiner_client, class_focus="maybe")
    assert wrong.status_code == 400
    assert alert_lines(wrong) == ["Rank the best hits' classes first: Must be a valid boolean."]


def _bad_drawing():  # noqa: ANN202
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("q.png", b"nope", "image/png")


@pytest.mark.parametrize(("fields", "shown", "api_message"), [
    ({"image": _bad_drawing}, "Drawing: The file cannot be used: not an image",
     "image: The file cannot be used: not an image"),
    ({}, "Upload a drawing or type a description.", "Upload a drawing (image) or type a description (text)."),
    ({"text": "mug", "grant_date_from": "2020-01-01", "grant_date_to": "2010-01-01"},
     "The “Granted from” date is after the “to” date.", "grant_date_from is after grant_date_to."),
    ({"text": "mug", "grant_date_from": "2020-13-01"}, "Granted from: Date has wrong format.",
     "grant_date_from: Date has wrong format."),
    ({"text": "mug", "us_class_main": "D" * 101},
     "US class: item 1: Ensure this field has no more than 100 characters.",
     "us_class_main: 0: Ensure this field has no more than 100 characters."),
    ({"text": "mug", "corpus": "nope"}, "Corpus: Unknown corpus: nope.", "corpus: Unknown corpus: nope."),
    ({"text": "mug", "k": "100000"}, "Results: at most 200.", "k: k may be at most 200."),
    ({"text": "mug", "k": "abc"}, "Results: A valid integer is required.", "k: A valid integer is required."),
])
def test_the_search_page_names_a_field_by_its_label_and_the_api_by_its_key(
    examiner_client, examiner_api, settings, fields, shown, api_message
):
    """The page says what its form says ("Granted from"); the API keeps its keys and wording."""
    settings.RETRIEVAL_MAX_K = 200
    sent = {key: value() if callable(value) else value for key, value in fields.items()}
    page = examiner_client.post(reverse("retrieval:search"), sent)
    assert page.status_code == 400
    lines = alert_lines(page)
    assert len(lines) == 1 and lines[0].startswith(shown), lines
    sent = {key: value() if callable(value) else value for key, value in fields.items()}  # a fresh upload
    api = examiner_api.post("/api/v1/search/", sent, format="multipart")
    assert api.status_code == 400
    body = api.json()
    assert body["message"].startswith(api_message), body
    key = api_message.split(":")[0] if ": " in api_message else "non_field_errors"
    assert set(body) == {"message", "extra"} and list(body["extra"]["fields"]) == [key]
