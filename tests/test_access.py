"""Every URL of the project, walked from the root URLconf (a URL added later is covered without
editing this file): an anonymous request is refused (pages: to the login page; API: 401/403)
and a study participant reaches nothing of cases, search or console, whatever the method."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import User

pytestmark = pytest.mark.django_db

OPEN = {"accounts/login/", "accounts/logout/"}
SAMPLES = {"int": "1", "patent_id": "USD800000", "slug": "rerun", "path": "x", "str": "x"}


def _walk(patterns, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # Django's admin: staff only, its own login
            out += _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route not in OPEN:
            out.append((route, entry.callback))
    return out


def _is_api(callback) -> bool:  # noqa: ANN001
    return hasattr(callback, "cls")  # a DRF view (the API, and the figure images)


def _url(route: str) -> str:
    for converter, sample in SAMPLES.items():
        while f"<{converter}:" in route:
            start = route.index(f"<{converter}:")
            route = route[:start] + sample + route[route.index(">", start) + 1:]
    return "/" + route


def _methods(callback) -> list[str]:  # noqa: ANN001
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    return [m for m in ("get", "post", "put", "patch", "delete") if view is None or hasattr(view, m)]


ROUTES = _walk(get_resolver().url_patterns)
URLS = [(method, _url(route)) for route, callback in ROUTES for method in _methods(callback)]
API = {_url(route) for route, callback in ROUTES if _is_api(callback)}


def test_the_walk_finds_every_app():
    paths = {url for _, url in URLS}
    for prefix in ("/api/v1/cases/", "/api/v1/search/", "/api/v1/study/", "/api/v1/studies/", "/api/v1/jobs/",
                   "/cases/", "/studies/", "/console/", "/figures/"):
        assert any(path.startswith(prefix) for path in paths), prefix


@pytest.mark.parametrize(("method", "url"), URLS)
def test_anonymous_requests_are_refused(method, url):
    response = getattr(Client(), method)(url)
    if url in API:
        assert response.status_code in (401, 403), (method, url, response.status_code)
    else:
        assert response.status_code in (302, 405), (method, url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), response["Location"]


PARTICIPANT_BARRED = ("/api/v1/cases/", "/api/v1/judgments.csv", "/api/v1/search/", "/api/v1/studies/",
                      "/api/v1/corpora/", "/api/v1/jobs/", "/api/v1/models/", "/api/v1/evaluations",
                      "/cases/", "/console/", "/studies/new/", "/studies/1/")


@pytest.mark.parametrize(("method", "url"), [(m, u) for m, u in URLS if u.startswith(PARTICIPANT_BARRED)])
def test_a_participant_reaches_no_case_search_or_console_url(method, url):
    client = Client()
    client.force_login(User.objects.create_user("pat", password="pw-for-tests-only", role=User.Role.PARTICIPANT))
    response = getattr(client, method)(url)
    assert response.status_code in (403, 404, 405), (method, url, response.status_code)
