"""Every console page and API endpoint: admins in, examiners 403, anonymous to the login page
(pages) or 401/403 (API)."""

from __future__ import annotations

import pytest
from django.test import Client

from console import api_urls, urls
from console.models import Job
from tests.console.conftest import api_client


def _every(patterns, prefix: str) -> list[str]:
    """Every URL pattern of a URLconf, its <int:id>/<int:pk> as {job}, {model}, {figure}, {corpus}
    or {user}, an action's slug as one of its actions (deactivate)."""
    out = []
    for pattern in patterns:
        route = str(pattern.pattern)
        kind = next((k for k in ("model", "figure", "corpus", "user")
                     if f"{k}s/" in route or f"{k}a/" in route), "job")
        for name in ("id", "pk"):
            route = route.replace(f"<int:{name}>", "{" + kind + "}")
        out.append(prefix + route.replace("<slug:action>", "deactivate"))
    return out


def _methods(pattern) -> list[str]:
    view = pattern.callback.view_class
    return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]


# Built from the URLconfs, so a URL added later is covered without editing this list.
PAGES = _every(urls.urlpatterns, "/console/")
#: Pages that only take a form (a user's actions): a GET is 405 for those allowed in.
POST_ONLY = {url for pattern, url in zip(urls.urlpatterns, PAGES, strict=True)
             if not hasattr(pattern.callback.view_class, "get")}
ENDPOINTS = [
    (method, url)
    for pattern, url in zip(api_urls.urlpatterns, _every(api_urls.urlpatterns, "/api/v1/"), strict=True)
    for method in _methods(pattern)
]


def test_the_lists_cover_the_urlconfs():
    assert len(PAGES) == len(urls.urlpatterns) >= 6
    assert {url for _, url in ENDPOINTS} == set(_every(api_urls.urlpatterns, "/api/v1/"))
    assert ("post", "/api/v1/models/{model}/rollback/") in ENDPOINTS
    assert ("delete", "/api/v1/models/{model}/") in ENDPOINTS


@pytest.fixture
def ids(admin_user, active_model):
    job = Job.objects.create(kind=Job.Kind.INGEST, corpus_name="x", created_by=admin_user)
    return {"job": job.pk, "model": active_model.pk, "figure": 999999, "corpus": 999999, "user": admin_user.pk}


@pytest.mark.parametrize("page", PAGES)
def test_pages_admin_only(page, ids, admin_user, examiner):
    url = page.format(**ids)
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client = Client()
    client.force_login(examiner)
    refused = client.get(url)
    assert refused.status_code == 403
    assert b"Not allowed" in refused.content
    client.force_login(admin_user)
    assert client.get(url).status_code == (405 if page in POST_ONLY else 404 if "999999" in url else 200)


@pytest.mark.parametrize(("method", "endpoint"), ENDPOINTS)
def test_api_admin_only(method, endpoint, ids, examiner):
    url = endpoint.format(**ids)
    anonymous = getattr(api_client(None), method)(url)
    assert anonymous.status_code in (401, 403)
    refused = getattr(api_client(examiner), method)(url)
    assert refused.status_code == 403
    assert refused.json()["message"] == "Only admins use the console."
    assert Job.objects.count() == 1  # nothing was started


def test_console_link_only_for_admins(ids, admin_user, examiner):
    client = Client()
    client.force_login(examiner)
    assert b"/console/" not in client.get("/").content
    client.force_login(admin_user)
    assert b'href="/console/"' in client.get("/").content


def test_api_in_openapi_schema(admin_api):
    schema = admin_api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/corpora/", "/api/v1/jobs/{id}/", "/api/v1/models/",
                 "/api/v1/models/{id}/activate/", "/api/v1/models/{id}/rollback/"):
        assert path in schema["paths"], path
