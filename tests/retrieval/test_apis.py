import io

import pytest
from django.urls import reverse
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Corpus, Figure, FigureEmbedding, Patent
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import drawing, png_bytes, small_corpus

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
    assert [h["score"] for h in body["hits"]] == sorted((h["score"] for h in body["hits"]), reverse=True)
    assert top["image_url"].startswith("http://testserver/figures/")
    assert {"title", "caption", "us_class", "locarno_class", "grant_date", "corpus"} <= set(top)


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
    examiner_api.force_login(User.objects.get(username="ada"))
    docs = examiner_api.get(reverse("api-docs"))
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


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
