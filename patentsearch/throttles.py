"""Per-user request rates (DRF throttles, counted in the default cache); over the rate: 429."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class SearchRateThrottle(UserRateThrottle):
    """Searches per user (PATENTSEARCH_SEARCH_RATE, e.g. "60/min"); read at request time."""

    scope = "search"

    def get_rate(self) -> str:
        return settings.PATENTSEARCH_SEARCH_RATE
