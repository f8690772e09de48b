"""Credentials a client sends are checked for their form before any query uses them.

PostgreSQL refuses a text parameter that holds a NUL character with an error (a 500 where a
401 is due, or a fresh session). A ``Cookie`` header can carry one even where the server in front
refuses control characters in headers: Django unquotes cookie values, and ``"\\000"`` inside a
quoted value becomes NUL. So a session key or an API token that is not of the form the app makes
is no credential at all, found without a query.
"""

from __future__ import annotations

import string

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from rest_framework import authentication, exceptions

TOKEN_CHARS = frozenset(string.hexdigits)  # rest_framework.authtoken makes 40 hex digits
SESSION_KEY_CHARS = frozenset(VALID_KEY_CHARS)  # what Django makes session keys of


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; a key that is not hex digits is an invalid token (401)."""

    def authenticate_credentials(self, key: str):  # noqa: ANN201
        if not key or not TOKEN_CHARS.issuperset(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)


class SessionStore(db.SessionStore):
    """Django's database sessions (SESSION_ENGINE = "patentsearch.authentication"); a cookie whose
    key Django could not have made (lowercase letters and digits) is no session: a new one starts."""

    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and set(key or "") <= SESSION_KEY_CHARS
