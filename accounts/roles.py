"""What each role may do: one group per role, holding its permissions.

The role on the user decides; the groups make it visible and adjustable in the admin (an
operator may add permissions to a role's group). Superuser is for operators only: no role makes
one. Groups are brought up to date after every migrate (accounts.apps); permissions of apps not
installed yet are skipped.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

SEARCH = "accounts.search_prior_art"
MANAGE_USERS = "accounts.manage_users"

_CONSOLE = [
    "retrieval.view_corpus", "retrieval.change_corpus",
    "retrieval.view_patent", "retrieval.change_patent",
    "retrieval.view_figure", "retrieval.change_figure",
    "retrieval.view_figuretext", "retrieval.add_figuretext", "retrieval.change_figuretext",
    "retrieval.delete_figuretext",
    "retrieval.view_retrievalmodel", "retrieval.change_retrievalmodel",
    "retrieval.view_figureembedding",
    "console.use_console",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "examiner": [SEARCH],
    "admin": [SEARCH, MANAGE_USERS, *_CONSOLE],
    "participant": [],  # studies give participants what they need inside a study
}
ROLE_IS_STAFF = {"examiner": False, "admin": True, "participant": False}
#: The roles that search, and so may hold cases.
SEARCH_ROLES = [role for role, names in ROLE_PERMISSIONS.items() if SEARCH in names]


def role_group_name(role: str) -> str:
    return f"role: {role}"


def roles_sync() -> None:
    """Make each role's group and give it at least its permissions (idempotent)."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        group.permissions.add(*_permissions(names))


def _permissions(names: list[str]) -> list[Permission]:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))
