"""Per-user request rates (DRF throttles, counted in the default cache); over the rate: 429."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import UserRateThrottle


class SearchRateThrottle(UserRateThrottle):
    """Searches per user (PATENTSEARCH_SEARCH_RATE, e.g. "60/min"); read at request time.

    Every kind of search counts: the search API and page, and a case's searches (new, re-run,
    refine, more like this) through its API and pages."""

    scope = "search"

    def get_rate(self) -> str:
        return settings.PATENTSEARCH_SEARCH_RATE


def search_rate_refusal(request: HttpRequest, view: object) -> str | None:
    """For a page that searches: counts this search, and returns the message to show (with a 429)
    when the user is over the search rate; None when the search may go ahead."""
    throttle = SearchRateThrottle()
    if throttle.allow_request(request, view):  # type: ignore[arg-type]
        return None
    wait = int(throttle.wait() or 1)
    return f"Too many searches in a short time; try again in {wait} s."
