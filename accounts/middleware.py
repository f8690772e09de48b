"""A user signed in with a one-time password (made by an admin) chooses their own before anything
else: every page sends them to the password page, every API request through the session is
refused with the API's error shape. Signing out and the password page itself stay open. API
clients with a token are not held: a token is made on the account page, after the change."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

#: The views a user holding a one-time password may reach.
OPEN_VIEWS = frozenset({"accounts:password", "accounts:logout", "accounts:login"})


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: object, args: object, kwargs: object) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated and getattr(user, "password_change_required", False)):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_VIEWS:
            return None
        message = "Choose your own password first: you signed in with a one-time password."
        if request.path.startswith("/api/"):
            return JsonResponse({"message": message, "extra": {"password_url": reverse("accounts:password")}}, status=403)
        target = reverse("accounts:password")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
