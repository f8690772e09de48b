import io
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Corpus, Figure, FigureEmbedding, Patent
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import FOCUS_QUERY_SEED, drawing, png_bytes, small_corpus

pytestmark = pytest.mark.django_db
URL = "/api/v1/search/"


def _upload(data: bytes, name: str = "query.png") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Corpus, Patent, Figure, FigureEmbedding))


def test_search_returns_hits_best_first_with_metadata(examiner_api, encoded_corpus):
    query = drawing(10_000 * 0 + 2 * 100 + 1)  # the same drawing as USD800002 FIG. 2
    response = examiner_api.post(URL, {"image": _upload(png_bytes(query)), "k": 5}, format="multipart")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 5 and body["model"] == "test-tiny"
    top = body["hits"][0]
    assert (top["patent_id"], top["figure_label"], top["rank"]) == ("USD800002", "2", 1)
    assert top["score"] == pytest.approx(1.0, abs=1e-4)
    # the order is the class focus's (on by default): ranks in order, not necessarily the scores
    assert [h["rank"] for h in body["hits"]] == [1, 2, 3, 4, 5]
    assert top["image_url"].startswith("http://testserver/figures/")
    assert {"title", "caption", "us_class", "locarno_class", "grant_date", "corpus", "class_boost"} <= set(top)
    assert body["class_focus"]["patents"][0] == "USD800002"
    by_score = examiner_api.post(URL, {"image": _upload(png_bytes(query)), "k": 5, "class_focus": "false"},
                                 format="multipart").json()
    assert [h["score"] for h in by_score["hits"]] == sorted((h["score"] for h in by_score["hits"]), reverse=True)
    assert [h["rank"] for h in by_score["hits"]] == [1, 2, 3, 4, 5] and by_score["class_focus"] is None


def test_filters_restrict_the_hits(examiner_api, encoded_corpus):
    response = examiner_api.post(
        URL, {"image": _upload(png_bytes(drawing(1))), "k": 20, "us_class_main": "D14",
              "grant_date_to": "2012-12-31"}, format="multipart",
    )
    hits = response.json()["hits"]
    assert hits and {h["us_class_main"] for h in hits} == {"D14"}
    assert all(h["grant_date"] <= "2012-12-31" for h in hits)


def test_the_image_file_is_served_to_logged_in_users(examiner_api, encoded_corpus):
    response = examiner_api.post(URL, {"image": _upload(png_bytes(drawing(1))), "k": 1}, format="multipart")
    image_url = response.json()["hits"][0]["image_url"]
    served = examiner_api.get(image_url)
    assert served.status_code == 200
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (320, 240)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "Upload a drawing (image) or type a description (text)."),
        ({"image": _upload(b"not an image at all", "notes.txt")}, "image: The file cannot be used: not an image"),
        ({"image": _upload(png_bytes(drawing(1))[:300])}, "image: The file cannot be used: corrupt or truncated"),
        ({"image": _upload(png_bytes(Image.new("1", (20_000, 10_000), 1)))}, "too large"),
        ({"image": _upload(png_bytes(drawing(1))), "k": 0}, "k: Ensure this value is greater than or equal to 1."),
        ({"image": _upload(png_bytes(drawing(1))), "k": 100_000}, "k: k may be at most"),
        ({"image": _upload(png_bytes(drawing(1))), "corpus": "nope"}, "corpus: Unknown corpus: nope."),
        ({"image": _upload(png_bytes(drawing(1))), "grant_date_from": "2020-01-01", "grant_date_to": "2010-01-01"},
         "grant_date_from is after grant_date_to."),
        ({"image": _upload(png_bytes(drawing(1))), "class_focus": "maybe"}, "class_focus: Must be a valid boolean."),
    ],
)
def test_bad_uploads_get_a_400_with_a_clear_message_and_change_nothing(examiner_api, encoded_corpus, payload, message):
    before = _counts()
    response = examiner_api.post(URL, payload, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert _counts() == before


def test_oversized_upload_is_refused(examiner_api, encoded_corpus, settings):
    settings.RETRIEVAL_MAX_IMAGE_BYTES = 1000
    response = examiner_api.post(URL, {"image": _upload(png_bytes(drawing(1, size=(800, 800))))}, format="multipart")
    assert response.status_code == 400
    assert "the limit is 1,000" in response.json()["message"]


def test_search_without_an_active_model_says_so(examiner_api, db):
    response = examiner_api.post(URL, {"image": _upload(png_bytes(drawing(1)))}, format="multipart")
    assert response.status_code == 400
    assert "No model is active" in response.json()["message"]


def test_login_is_required(db):
    response = APIClient().post(URL, {}, format="multipart")
    assert response.status_code in (401, 403)
    assert APIClient().get(reverse("api-schema")).status_code in (401, 403)


def test_token_authentication_works(examiner, encoded_corpus):
    token = Token.objects.create(user=examiner)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.post(URL, {"image": _upload(png_bytes(drawing(1))), "k": 3}, format="multipart")
    assert response.status_code == 200


def test_openapi_schema_and_docs_are_served(examiner_api):
    schema = examiner_api.get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/search/" in schema.json()["paths"]
    components = schema.json()["components"]["schemas"]
    assert "class_focus" in components["SearchInput"]["properties"]
    assert {"class_focus"} <= set(components["SearchOutput"]["properties"])
    assert "class_boost" in components["FigureHit"]["properties"]
    assert set(components["ClassFocus"]["properties"]) == {"weight", "patents", "classes"}
    examiner_api.force_login(User.objects.get(username="ada"))
    docs = examiner_api.get(reverse("api-docs"))
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


HIT_KEYS = {"rank", "score", "figure_id", "patent_id", "figure_label", "image_url", "source_file", "page", "corpus",
            "title", "object_name", "viewpoint", "caption", "locarno_class", "us_class", "us_class_main",
            "grant_date", "channels", "class_boost", "identical"}


def _focus_search(api: APIClient, **fields: object) -> dict:
    query = _upload(png_bytes(drawing(FOCUS_QUERY_SEED)))
    response = api.post(URL, {"image": query, "k": 12, **fields}, format="multipart")
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_class_focus_ranks_the_best_hits_classes_first_and_says_so(examiner_api, focus_corpus, settings):
    body = _focus_search(examiner_api)  # class_focus left out: on
    assert set(body) == {"model", "seconds", "count", "hits", "class_focus", "words_matched", "unsearched",
                         "excluded"}
    hits = body["hits"]
    assert all(set(h) == HIT_KEYS for h in hits) and [h["rank"] for h in hits] == list(range(1, 13))
    # the three D21 patents whose FIG. 1 is the query drawing are the best hits; they voted alone
    assert sorted(body["class_focus"]["patents"]) == ["USD900000", "USD900001", "USD900002"]
    assert body["class_focus"] == {
        "weight": settings.RETRIEVAL_CLASS_FOCUS_WEIGHT, "patents": body["class_focus"]["patents"],
        "classes": [{"scheme": "us_class_main", "label": "D21", "share": 1.0},
                    {"scheme": "locarno_class", "label": "21-01", "share": 1.0}]}
    assert [h["us_class_main"] for h in hits] == ["D21"] * 6 + ["D14"] * 6  # every D21 figure first
    assert all(h["class_boost"] > 0 for h in hits[:6]) and all(h["class_boost"] == 0 for h in hits[6:])
    assert all(h["score"] == pytest.approx(1.0, abs=1e-4) for h in hits[:3])
    assert [h["identical"] for h in hits] == [True] * 3 + [False] * 9  # the query's own drawing, said

    by_score = _focus_search(examiner_api, class_focus="false")
    assert by_score["class_focus"] is None and set(by_score) == set(body)
    plain = by_score["hits"]
    assert [h["rank"] for h in plain] == list(range(1, 13)) and all(h["class_boost"] == 0 for h in plain)
    assert [h["score"] for h in plain] == sorted((h["score"] for h in plain), reverse=True)
    assert {h["figure_id"] for h in plain} == {h["figure_id"] for h in hits}
    # the focus visibly moved figures: by score alone a D14 figure is above a D21 one
    assert [h["us_class_main"] for h in plain] != [h["us_class_main"] for h in hits]
    scores = {h["figure_id"]: h["score"] for h in plain}
    assert {h["figure_id"]: h["score"] for h in hits} == scores  # the focus moves figures, not scores


@pytest.mark.parametrize(("value", "on"), [
    ("true", True), ("1", True), ("on", True), ("True", True), ("", True),
    ("false", False), ("0", False), ("off", False), ("False", False), ("no", False),
])
def test_class_focus_takes_the_usual_boolean_spellings(examiner_api, focus_corpus, value, on):
    body = _focus_search(examiner_api, class_focus=value)
    assert (body["class_focus"] is not None) is on


def test_a_url_encoded_form_without_class_focus_means_on(examiner_api, focus_corpus):
    def post(**fields: object) -> dict:
        body = urlencode({"text": "article", "k": 12, **fields})
        response = examiner_api.post(URL, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200, response.json()
        return response.json()

    assert post()["class_focus"] is not None
    assert post(class_focus="false")["class_focus"] is None


def test_a_text_query_searches_the_same_index(examiner_api, encoded_corpus):
    response = examiner_api.post(URL, {"text": "a mug with a handle, front view", "k": 3}, format="multipart")
    assert response.status_code == 200, response.json()
    hits = response.json()["hits"]
    assert len(hits) == 3 and all(-1.0 <= h["score"] <= 1.0 for h in hits)


def test_a_drawing_only_model_answers_text_through_the_text_channels_only(examiner_api, tmp_path, db):
    from retrieval.services.models import model_register
    from retrieval.services.search_text import figure_search_text_batch

    model = model_register(spec="classical", activate=True)
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=2, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=model.pk)
    figure_search_text_batch(figure_ids=result.figure_ids)
    response = examiner_api.post(URL, {"text": "widget", "k": 3}, format="multipart")
    assert response.status_code == 200, response.json()
    hits = response.json()["hits"]
    assert hits and all("text_tower" not in h["channels"] and "fulltext" in h["channels"] for h in hits)
    query = drawing(101)  # USD800002 FIG. 2 of small_corpus
    response = examiner_api.post(URL, {"image": _upload(png_bytes(query)), "k": 3}, format="multipart")
    assert response.status_code == 200 and response.json()["hits"][0]["score"] > 0.99
