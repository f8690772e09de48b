"""What a user or an attacker can send gets a clear 4xx, is bounded, and changes nothing
(issue 9, points 6 and 7)."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from retrieval.exceptions import CorpusValidationError
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Corpus, Figure, Patent
from retrieval.search_input import QUERY_CACHE_PREFIX, SearchInputSerializer
from tests.drawings import drawing, png_bytes, small_corpus, write_corpus

pytestmark = pytest.mark.django_db
URL = "/api/v1/search/"


def _upload(data: bytes, name: str = "query.png") -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def _error(response) -> str:  # noqa: ANN001
    body = response.json()
    assert set(body) == {"message", "extra"}, body
    return body["message"]


# --- list filters ---------------------------------------------------------------------------


def test_a_superscript_digit_is_an_unknown_corpus_not_a_crash(examiner_api, active_model):
    response = examiner_api.post(URL, {"image": _upload(png_bytes(drawing(1))), "corpus": "²"}, format="multipart")
    assert response.status_code == 400
    assert "Unknown corpus: ²" in _error(response)


def test_a_corpus_list_is_capped_and_resolved_in_one_query(django_assert_num_queries):
    response = APIClient()
    user = User.objects.create_user("bo", password="pw-for-tests-only")
    response.force_authenticate(user)
    many = ",".join(str(i) for i in range(5000))
    answer = response.post(URL, {"text": "a cup", "corpus": many}, format="multipart")
    assert answer.status_code == 400 and "no more than 100" in _error(answer)

    corpora = [Corpus.objects.create(name=f"c{i}") for i in range(50)]
    values = [str(c.pk) for c in corpora[:25]] + [c.name for c in corpora[25:]] + ["9" * 30]
    form = SearchInputSerializer()
    with django_assert_num_queries(1), pytest.raises(Exception, match="Unknown corpus: 9{30}"):
        form.validate_corpus(values)
    with django_assert_num_queries(1):
        assert form.validate_corpus(values[:-1]) == [c.pk for c in corpora]


# --- uploads ---------------------------------------------------------------------------------


def test_only_the_first_page_of_a_query_is_decoded(examiner_api, active_model, monkeypatch):
    import retrieval.images as images

    pages = [drawing(i).convert("RGB") for i in range(6)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    decoded = []
    real = images._as_png
    monkeypatch.setattr(images, "_as_png", lambda frame, page, limit, **options: decoded.append(page)
                        or real(frame, page, limit, **options))
    response = examiner_api.post(URL, {"image": _upload(buffer.getvalue(), "q.tiff")}, format="multipart")
    assert response.status_code == 200, response.content
    assert decoded == [0]


def test_the_query_cache_keeps_the_decoded_page_in_a_capped_lru_redis(examiner_api, examiner, active_model):
    junk = png_bytes(drawing(3)) + os.urandom(5 * 1024 * 1024)
    response = examiner_api.post(URL, {"image": _upload(junk)}, format="multipart")
    assert response.status_code == 200, response.content
    import hashlib

    cached = caches["queries"].get(f"{QUERY_CACHE_PREFIX}{examiner.pk}:{hashlib.sha256(junk).hexdigest()}")
    assert cached is not None and len(cached) < 200_000  # the page, not the 5 MB upload
    assert Image.open(io.BytesIO(cached)).format == "PNG"
    assert settings.REDIS_CACHE_URL != settings.REDIS_URL
    server = redis.Redis.from_url(settings.REDIS_CACHE_URL)
    assert int(server.config_get("maxmemory")["maxmemory"]) > 0
    assert server.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
    broker = redis.Redis.from_url(settings.REDIS_URL)
    assert broker.config_get("appendonly")["appendonly"] == "yes"


def test_an_oversized_form_body_gets_the_json_error_shape(examiner_api):
    response = examiner_api.post(URL, {"text": "x" * (11 * 1024 * 1024)}, format="multipart")
    assert response.status_code == 413
    assert "too large" in _error(response)


def test_a_body_over_the_server_limit_is_refused_before_it_is_read(examiner_api, settings):
    settings.PATENTSEARCH_MAX_REQUEST_BYTES = 1024 * 1024
    response = examiner_api.post(URL, {"image": _upload(b"\0" * (2 * 1024 * 1024))}, format="multipart")
    assert response.status_code == 413
    assert "the limit is 1,048,576" in _error(response)


# --- figure images ---------------------------------------------------------------------------


def test_a_figure_whose_file_is_missing_is_a_404(examiner_api, tmp_path, active_model):
    result = corpus_ingest(path=small_corpus(tmp_path / "gone", patents=1, views=1))
    figure = Figure.objects.get(pk=result.figure_ids[0])
    response = examiner_api.get(f"/figures/{figure.pk}/image")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    os.remove(figure.image.path)
    response = examiner_api.get(f"/figures/{figure.pk}/image")
    assert response.status_code == 404
    assert "missing" in _error(response)


# --- corpus problems -------------------------------------------------------------------------


def test_an_over_long_value_and_a_symlink_out_are_listed_problems(tmp_path, active_model):
    secret = tmp_path / "secret.png"
    secret.write_bytes(png_bytes(drawing(9)))
    rows = [
        {"image_file": "a.png", "patent_id": "USD1", "locarno_class": "14-04-01234567890"},
        {"image_file": "b.png", "patent_id": "USD2"},
    ]
    root = write_corpus(tmp_path / "c", rows, images={"a.png": png_bytes(drawing(1))})
    (root / "b.png").symlink_to(secret)
    with pytest.raises(CorpusValidationError) as caught:
        corpus_ingest(path=root)
    reasons = " | ".join(f"{p.where}: {p.reason}" for p in caught.value.problems)
    assert "locarno_class is 17 characters long; at most 16 fit" in reasons
    assert "b.png" in reasons and "outside the corpus" in reasons
    assert not Patent.objects.exists() and not Figure.objects.exists()


# --- rates -----------------------------------------------------------------------------------


def test_searches_over_the_rate_get_429(examiner_api, examiner, settings):
    from patentsearch.throttles import SearchRateThrottle

    settings.PATENTSEARCH_SEARCH_RATE = "3/min"
    throttle = SearchRateThrottle()
    caches["default"].delete(throttle.cache_format % {"scope": throttle.scope, "ident": examiner.pk})
    for _ in range(3):
        assert examiner_api.post(URL, {}, format="multipart").status_code == 400  # counted all the same
    response = examiner_api.post(URL, {}, format="multipart")
    assert response.status_code == 429
    assert "throttled" in _error(response).lower()


def test_case_searches_count_against_the_same_rate_in_the_api_and_on_the_page(examiner_api, examiner, settings):
    """Searching inside a case (new search, re-run, refine, more like this) encodes drawings like the
    plain search does, so it is held to the same per-user rate; a refused search logs nothing."""
    from cases.models import CaseSearch
    from cases.services.cases import case_create
    from patentsearch.throttles import SearchRateThrottle

    case = case_create(examiner=examiner, application_number="29/9", title="Lamp", cutoff_date=dt.date(2030, 1, 1))
    logged = CaseSearch.objects.create(case=case, number=1, created_by=examiner, text="lamp", k=5, model_name="m",
                                       model_version="1")
    settings.PATENTSEARCH_SEARCH_RATE = "2/min"
    throttle = SearchRateThrottle()
    caches["default"].delete(throttle.cache_format % {"scope": throttle.scope, "ident": examiner.pk})
    for _ in range(2):
        assert examiner_api.post(f"/api/v1/cases/{case.pk}/searches/", {}, format="multipart").status_code == 400
    response = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/", {}, format="multipart")
    assert response.status_code == 429 and "throttled" in _error(response).lower()
    assert examiner_api.post(f"/api/v1/cases/{case.pk}/searches/{logged.pk}/rerun/").status_code == 429
    assert examiner_api.get(f"/api/v1/cases/{case.pk}/searches/").status_code == 200  # reading is not searching
    browser = Client()
    browser.force_login(examiner)
    page = browser.post(f"/cases/{case.pk}/search", {"text": "lamp", "k": "5"})
    assert page.status_code == 429 and "Too many searches" in page.content.decode()
    action = browser.post(f"/cases/{case.pk}/searches/{logged.pk}/rerun")
    assert action.status_code == 429 and "Too many searches" in action.content.decode()
    assert list(CaseSearch.objects.all()) == [logged]


def test_repeated_wrong_passwords_lock_the_login_even_for_the_right_one():
    User.objects.create_user("eve", password="the-right-passphrase-1", role=User.Role.EXAMINER)
    browser = Client()
    for _ in range(30):
        response = browser.post("/accounts/login/", {"username": "eve", "password": "wrong"})
        assert response.status_code in (200, 429)
    response = browser.post("/accounts/login/", {"username": "eve", "password": "the-right-passphrase-1"})
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in browser.session
    # another client address is not locked out
    other = Client(REMOTE_ADDR="10.0.0.9")
    response = other.post("/accounts/login/", {"username": "eve", "password": "the-right-passphrase-1"})
    assert response.status_code == 302
