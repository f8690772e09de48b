"""Django's error handlers (patentsearch/api.py, handler404 etc. in patentsearch/urls.py): a request
under /api/ that no API view answered gets the API's error shape; a page gets its HTML page."""

import pytest
from django.test import Client, override_settings
from django.urls import path

from patentsearch import urls as project_urls


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/v1/boom/", _boom), path("boom/", _boom), *project_urls.urlpatterns]
handler500 = "patentsearch.api.server_error"

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_answers_in_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"message", "extra"} and "/api/v1/no-such-thing/" in body["message"]
    assert "/api/v1/docs/" in body["message"]  # where the endpoints are listed


def test_an_unknown_page_is_the_html_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"<html" in response.content.lower()


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_under_the_api_is_json_and_a_page_error_is_html():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json() == {"message": "Something went wrong on the server; the error was logged.", "extra": {}}
    response = client.get("/boom/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
