import pytest
from django.urls import reverse

from accounts.models import User
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import drawing, png_bytes, small_corpus

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
