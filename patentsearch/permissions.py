"""Permissions that interfaces check, by name (they come from the user's role: accounts.roles)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

SEARCH_PRIOR_ART = "accounts.search_prior_art"


class CanSearch(BasePermission):
    message = "Your role does not include searching prior art."

    def has_permission(self, request, view) -> bool:  # noqa: ANN001
        return bool(request.user and request.user.has_perm(SEARCH_PRIOR_ART))
