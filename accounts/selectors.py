"""Reads of users for the console's users page and a user's account page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from patentsearch.audit import audit_entries

#: The states a list of users is filtered by: which users each holds, and its words.
STATES = {
    "active": (Q(is_active=True), "can sign in"),
    "pending": (Q(is_active=True, password_change_required=True), "one-time password not yet replaced"),
    "inactive": (Q(is_active=False), "deactivated"),
}


def user_list(*, q: str = "", role: str = "", state: str = "") -> QuerySet[User]:
    """Users by name, those matching ``q`` in name or email, of ``role`` and in ``state`` (where
    given and known; an unknown value filters nothing), each with ``has_token``."""
    users = User.objects.annotate(has_token=Exists(Token.objects.filter(user=OuterRef("pk"))))
    if q:
        users = users.filter(Q(username__icontains=q) | Q(email__icontains=q))
    if role in User.Role.values:
        users = users.filter(role=role)
    if state in STATES:
        users = users.filter(STATES[state][0])
    return users.order_by("username")


@dataclass(frozen=True)
class Lockout:
    addresses: int
    until: dt.datetime


def lockouts(usernames: list[str]) -> dict[str, Lockout]:
    """The names among ``usernames`` locked out of signing in now (from how many addresses, and
    until when), as django-axes counts failures: per name and address, within the cool-off."""
    cooloff = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    attempts = AccessAttempt.objects.filter(
        username__in=usernames, failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=timezone.now() - cooloff,
    )
    found: dict[str, Lockout] = {}
    for attempt in attempts:
        until = attempt.attempt_time + cooloff
        earlier = found.get(attempt.username)
        found[attempt.username] = Lockout(
            addresses=(earlier.addresses if earlier else 0) + 1,
            until=max(until, earlier.until) if earlier else until,
        )
    return found


def user_history(*, limit: int = 20, user: User | None = None) -> QuerySet[LogEntry]:
    """The newest changes made to users (of one user, where given): who, what, when."""
    return audit_entries(User, pk=user.pk if user is not None else None)[:limit]


def token_of(user: User) -> Token | None:
    return Token.objects.filter(user=user).first()


def user_named(username: str) -> User | None:
    """The user of this exact username, if any (a name no user can have, such as one holding a
    NUL character, is none, found without a query)."""
    if not username or len(username) > 150 or "\x00" in username:
        return None
    return User.objects.filter(username=username).first()


def user_get(pk: int) -> User | None:
    """One user, with ``has_token`` as in the list."""
    return user_list().filter(pk=pk).first()
