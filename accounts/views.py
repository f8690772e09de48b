"""A user's own account: their email address, their password and their API token."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from accounts import selectors, services
from accounts.roles import SEARCH
from patentsearch.api import error_messages


class AccountView(LoginRequiredMixin, View):
    """Who one is, the password, and (for those who search) the API token: made or replaced here
    and shown once, in the answer to the request that made it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action", "")
        if action in ("token", "token_delete") and not request.user.has_perm(SEARCH):
            return self._page(request, error="Only examiners and admins use the API.", status=403)
        if action == "token":
            response = self._page(request, new_token=services.token_replace(user=request.user))
            add_never_cache_headers(response)
            return response
        if action == "email":
            try:
                services.user_email_set(user=request.user, email=request.POST.get("email", ""))
            except ValidationError as exc:
                return self._page(request, error="; ".join(exc.messages), typed_email=request.POST.get("email", ""),
                                  status=400)
            messages.success(request, "Your email address is saved.")
            return redirect("accounts:account")
        if action == "sessions":
            user = services.user_sessions_end(user=request.user)
            update_session_auth_hash(request, user)  # this session goes on
            messages.success(request, "Your other sessions are signed out (other browsers and devices).")
            return redirect("accounts:account")
        if action == "token_delete":
            if services.token_delete(user=request.user):
                messages.success(request, "Your API token is deleted; clients that used it are refused from now on.")
            return redirect("accounts:account")
        return self._page(request, error="Choose an action of this page.", status=400)

    def _page(self, request: HttpRequest, *, new_token: str = "", error: str = "", typed_email: str | None = None,
              status: int = 200) -> HttpResponse:
        user = request.user
        return render(request, "accounts/account.html", {
            "token": selectors.token_of(user), "new_token": new_token, "error": error,
            "email": user.email if typed_email is None else typed_email,
            "uses_api": user.has_perm(SEARCH), "history": selectors.user_history(user=user, limit=10),
        }, status=status)


class PasswordView(LoginRequiredMixin, View):
    """Change one's password: the current one and the new one twice; after a one-time password
    (an admin made it, and the user just signed in with it) only the new one twice."""

    template_name = "accounts/password.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, self._form(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request, request.POST)
        if not form.is_valid():
            return self._page(request, form, status=400)
        was_required = request.user.password_change_required
        user = services.user_password_set(user=request.user, password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)  # this session goes on; the user's others end
        messages.success(request, "Your password is changed. Your other sessions are signed out.")
        target = request.POST.get("next", "")
        if target.isprintable() and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return HttpResponseRedirect(target)  # a path of this site, as the login form's next
        return redirect(settings.LOGIN_REDIRECT_URL if was_required else "accounts:account")

    def _form(self, request: HttpRequest, data: object = None) -> SetPasswordForm | PasswordChangeForm:
        if request.user.password_change_required:
            return SetPasswordForm(request.user, data)
        return PasswordChangeForm(request.user, data)

    def _page(self, request: HttpRequest, form: object, status: int = 200) -> HttpResponse:
        target = request.POST.get("next") if request.method == "POST" else request.GET.get("next", "")
        return render(request, self.template_name, {
            "form": form, "required": request.user.password_change_required, "next": target or "",
            "errors": error_messages(form) if form.is_bound else [], "rules": password_validators_help_texts(),
        }, status=status)
