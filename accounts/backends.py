"""Authentication backends: login lockout (django-axes) and permissions from the role."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

from accounts.roles import role_group_name


class LockoutBackend(AxesStandaloneBackend):
    """django-axes: a username is locked out from a client address after repeated failures.

    authenticate() without a request (code, not a client: the test client's login(), scripts)
    has no client to count or lock, so it is left to the next backend.
    """

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any):  # noqa: ANN201
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class RoleBackend(ModelBackend):
    """Django's model backend, plus the permissions of the group of the user's role."""

    def _get_group_permissions(self, user_obj: Any) -> QuerySet[Permission]:
        role = getattr(user_obj, "role", "")
        return Permission.objects.filter(
            Q(group__user=user_obj) | Q(group__name=role_group_name(role))
        ).distinct()


def client_ip(request: Any) -> str:
    """The client's address: behind PATENTSEARCH_PROXY_COUNT proxies, the entry of
    X-Forwarded-For that the outermost proxy added; else the peer address."""
    count = settings.PATENTSEARCH_PROXY_COUNT
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")
