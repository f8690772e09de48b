"""Writes to users: making them, their role, whether they may sign in, their password and API token.

Who may do what is the caller's check (the console's users page and API: admins with
``accounts.manage_users``); what no one may do is checked here, so every interface refuses it
alike: an admin does not change their own role, deactivate themselves or reset their own password
through another's tools (their own account page changes it), since each could leave no one able
to undo it; and only an operator (superuser) changes an operator's account, which an admin could
otherwise take over by resetting its password. A refusal is an ApplicationError whose message
says why, and changes nothing.

Every change an admin makes to a user is written to Django's admin log (patentsearch.audit): the user's
history in the admin site and the console's users page show who changed what, and when.
"""

from __future__ import annotations

import datetime as dt
import secrets

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from accounts.roles import ROLE_IS_STAFF, role_group_name, roles_sync
from patentsearch.audit import audit_record
from patentsearch.exceptions import ApplicationError

#: Letters and digits that cannot be mistaken for one another when read out or copied by hand
#: (no 0/O, 1/l/I); 4 groups of 5 from 54 symbols: about 115 bits.
_PASSWORD_SYMBOLS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = "") -> User:
    """A user whose permissions come from the role's group; admins get the admin site (staff)
    with the admin group's permissions, never superuser (that stays for operators)."""
    user = User(username=username, email=email, role=role, is_staff=ROLE_IS_STAFF.get(role, False))
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    roles_sync()
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return user


def password_generate() -> str:
    """A one-time password an admin hands over ("k7Fq2-..."), which the user replaces at once."""
    return "-".join("".join(secrets.choice(_PASSWORD_SYMBOLS) for _ in range(5)) for _ in range(4))


@transaction.atomic
def user_invite(*, username: str, role: str, email: str = "", by: User | None) -> tuple[User, str]:
    """A new user with a one-time password, to be replaced at their first sign-in: the user and
    the password (shown once to the admin; only its hash is stored). ``by``: the admin, whose
    change is logged; None from a terminal (``create_user --one-time``), where no one signed in."""
    exists = ApplicationError(f"A user named {username!r} exists already.", {"field": "username"})
    if User.objects.filter(username__iexact=username).exists():
        raise exists
    password = password_generate()
    try:
        with transaction.atomic():  # two admins adding the same name at once: the second is told
            user = user_create(username=username, password=password, role=role, email=email)
    except IntegrityError as exc:
        raise exists from exc
    user.password_change_required, user.one_time_password_expires_at = True, _one_time_expiry()
    user.save(update_fields=["password_change_required", "one_time_password_expires_at"])
    if by is not None:
        audit_record(by=by, obj=user, added=True,
                     message=f"Created with the role {user.get_role_display()} and a one-time password.")
    return user, password


#: The most users added in one batch.
BATCH_MAX = 200


@transaction.atomic
def users_invite(*, users: list[dict[str, str]], role: str, by: User) -> list[tuple[User, str]]:
    """Several new users of one role (a study's participants, a team), each with a one-time
    password; all or none. Every entry is checked before any is written, and each problem is
    named by the entry's place (1 = first): a name used twice in the batch, a name taken, a name
    or address that is not valid. ``users``: {"username", "email"} each."""
    if not users:
        raise ApplicationError("Name at least one user.")
    if len(users) > BATCH_MAX:
        raise ApplicationError(f"{len(users)} users in one batch; at most {BATCH_MAX}.")
    problems: list[dict[str, object]] = []
    first: dict[str, int] = {}
    for place, entry in enumerate(users, start=1):
        key = entry["username"].lower()
        if key in first:
            problems.append({"entry": place, "reason": f"{entry['username']!r} is also entry {first[key]}"})
        first.setdefault(key, place)
    taken = set(User.objects.annotate(key=Lower("username")).filter(key__in=list(first)).values_list("key", flat=True))
    for place, entry in enumerate(users, start=1):
        if entry["username"].lower() in taken:
            problems.append({"entry": place, "reason": f"a user named {entry['username']!r} exists already"})
    if problems:
        problems.sort(key=lambda problem: problem["entry"])  # type: ignore[arg-type, return-value]
        lines = "; ".join(f"entry {problem['entry']}: {problem['reason']}" for problem in problems)
        raise ApplicationError(
            f"No user was added: {len(problems)} problem{'s' if len(problems) > 1 else ''} ({lines}).",
            {"problems": problems})
    return [user_invite(username=e["username"], email=e.get("email", ""), role=role, by=by) for e in users]


@transaction.atomic
def user_role_set(*, user: User, role: str, by: User) -> User:
    """Move a user to another role: its group's permissions, and the admin site for admins."""
    if role not in User.Role.values:
        raise ApplicationError(f"There is no role {role!r}; the roles are {', '.join(User.Role.values)}.")
    _not_self(user, by, "You cannot change your own role: another admin can.")
    if user.role == role:
        return user
    before = user.get_role_display()
    roles_sync()
    user.groups.remove(*Group.objects.filter(name__in=[role_group_name(r) for r in User.Role.values]))
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    user.role = role
    user.is_staff = user.is_superuser or ROLE_IS_STAFF.get(role, False)
    user.save(update_fields=["role", "is_staff"])
    audit_record(by=by, obj=user, message=f"Role changed from {before} to {user.get_role_display()}.")
    return user


@transaction.atomic
def user_active_set(*, user: User, active: bool, by: User) -> User:
    """Let a user sign in again, or no longer. A deactivated user's open sessions end at their
    next request and their API token is deleted; their cases, searches and judgments stay."""
    _not_self(user, by, "You cannot deactivate yourself: another admin can.")
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    deleted = 0 if active else Token.objects.filter(user=user).delete()[0]
    audit_record(by=by, obj=user, message="Reactivated." if active else "Deactivated; API token deleted." if deleted else "Deactivated.")
    return user


@transaction.atomic
def user_update(*, user: User, by: User, role: str | None = None, is_active: bool | None = None,
                email: str | None = None) -> User:
    """The role, whether the user may sign in, and the email address: together or not at all."""
    if email is not None and email != user.email:
        _operator_guard(user, by)
        before = user.email
        user_email_set(user=user, email=email)
        audit_record(by=by, obj=user, message=f"Email changed from {before or 'none'} to {email or 'none'}.")
    if role is not None:
        user_role_set(user=user, role=role, by=by)
    if is_active is not None:
        user_active_set(user=user, active=is_active, by=by)
    return user


@transaction.atomic
def user_password_reset(*, user: User, by: User) -> str:
    """A new one-time password for a user who lost theirs: their sessions end (Django ties a
    session to the password), a login lockout on their name is lifted, and they choose a password
    of their own at the next sign-in. The password is returned to be shown once."""
    _not_self(user, by, "Your own password is changed on your account page, with the one you have now.")
    if not user.is_active:
        raise ApplicationError(f"{user.username} is deactivated; reactivate them first.")
    password = password_generate()
    user.set_password(password)
    user.password_change_required, user.one_time_password_expires_at = True, _one_time_expiry()
    user.save(update_fields=["password", "password_change_required", "one_time_password_expires_at"])
    axes_reset(username=user.username)
    audit_record(by=by, obj=user, message="Password reset to a one-time password; login lockout lifted.")
    return password


@transaction.atomic
def user_unlock(*, user: User, by: User) -> int:
    """Lift a login lockout on a user's name (from every address): the number of lockout records
    removed."""
    removed = axes_reset(username=user.username)
    if removed:
        audit_record(by=by, obj=user, message="Login lockout lifted.")
    return removed


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """The user's own new password (checked against the password rules), which ends a one-time
    password's term."""
    validate_password(password, user)
    user.set_password(password)
    user.password_change_required, user.one_time_password_expires_at = False, None
    user.save(update_fields=["password", "password_change_required", "one_time_password_expires_at"])
    return user


def user_sessions_end(*, user: User, by: User | None = None) -> User:
    """End every session of the user (``by``: an admin, whose change is logged; None: the user,
    whose own request keeps its session through update_session_auth_hash). API tokens are not
    sessions and keep working."""
    if by is not None:
        _operator_guard(user, by)
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    if by is not None:
        audit_record(by=by, obj=user, message="Every session ended.")
    return user


def user_email_set(*, user: User, email: str) -> User:
    """The user's email address (checked as an address; empty: none)."""
    user.email = email.strip()
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=["email"])
    return user


@transaction.atomic
def token_replace(*, user: User) -> str:
    """A new API token for the user; an earlier one stops working. Returned to be shown once."""
    Token.objects.filter(user=user).delete()
    return str(Token.objects.create(user=user).key)


def token_delete(*, user: User) -> bool:
    """Delete the user's API token: whether there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


def _one_time_expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.PATENTSEARCH_ONE_TIME_PASSWORD_DAYS)


def may_change(user: User, by: User) -> bool:
    """Whether ``by`` may change ``user`` through another's tools (role, activity, password,
    sessions): not themselves, and an operator only as an operator. Pages offer the actions where
    it holds; the services refuse them where it does not."""
    return user.pk != by.pk and not _operator_only(user, by)


def _operator_only(user: User, by: User) -> bool:
    return user.is_superuser and not by.is_superuser


def _not_self(user: User, by: User, message: str) -> None:
    if user.pk == by.pk:
        raise ApplicationError(message)
    _operator_guard(user, by)


def _operator_guard(user: User, by: User) -> None:
    if _operator_only(user, by):
        raise ApplicationError(f"{user.username} is an operator account (superuser): only an operator changes it, "
                               "in the admin site.")

