"""The record of what admins changed: Django's admin log (``LogEntry``), one owner.

Changes made outside the admin site (a user's role or password on the console's users page, a
case given to another examiner) are written here, so the admin site's history of each object
shows them beside its own, and the pages read them back from here: who changed what, and when.
"""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet


def audit_record(*, by: Model, obj: Model, message: str, added: bool = False) -> None:
    """``by`` changed (or, ``added``, made) ``obj``, in words."""
    LogEntry.objects.log_actions(user_id=by.pk, queryset=[obj], action_flag=ADDITION if added else CHANGE,
                                 change_message=message, single_object=True)


def audit_entries(model: type[Model], *, pk: object = None) -> QuerySet[LogEntry]:
    """The changes recorded for objects of ``model`` (of the one with ``pk``, where given),
    newest first, with who made each."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model))
    if pk is not None:
        entries = entries.filter(object_id=str(pk))
    return entries.select_related("user").order_by("-action_time")
