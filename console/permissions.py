"""Who may use the console: users whose role grants console.use_console (admins; accounts.roles)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts.roles import MANAGE_USERS

USE_CONSOLE = "console.use_console"


def can_use_console(user: object) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.has_perm(USE_CONSOLE))


class CanUseConsole(BasePermission):
    message = "Only admins use the console."

    def has_permission(self, request, view) -> bool:  # noqa: ANN001
        return can_use_console(request.user)


class CanManageUsers(BasePermission):
    message = "Only admins who may manage users do that."

    def has_permission(self, request, view) -> bool:  # noqa: ANN001
        return bool(request.user and request.user.has_perm(MANAGE_USERS))
