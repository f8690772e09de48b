"""Creating, editing, closing, reopening and reassigning cases. A closed case is read-only
everywhere (its examiner may still change: that is not an edit of the record)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import SEARCH
from cases.models import Case
from patentsearch.audit import audit_record
from patentsearch.exceptions import ApplicationError

EDITABLE = ("application_number", "title", "description", "locarno_class", "us_class", "cutoff_date", "notes")


class CaseClosedError(ApplicationError):
    """A write to a closed case."""

    def __init__(self, case: Case) -> None:
        super().__init__(
            f"Case {case.application_number} is closed and read-only; reopen it first.",
            {"case": case.pk, "status": case.status},
        )


def case_check_open(case: Case) -> None:
    if case.is_closed:
        raise CaseClosedError(case)


@transaction.atomic
def case_create(
    *, examiner: User, application_number: str, title: str, cutoff_date: dt.date, description: str = "",
    locarno_class: str = "", us_class: str = "", notes: str = "",
) -> Case:
    _number_check(examiner, application_number.strip())
    case = Case(
        examiner=examiner, application_number=application_number.strip(), title=title.strip(),
        cutoff_date=cutoff_date, description=description, locarno_class=locarno_class.strip(),
        us_class=us_class.strip(), notes=notes,
    )
    case.full_clean()
    case.save()
    return case


@transaction.atomic
def case_reassign(*, case: Case, examiner: User, by: User) -> Case:
    """Give the case to another examiner (one who left, a workload moved): it is in their list
    from then on and no longer in the previous examiner's. Its searches and judgments keep who
    made them. Admins only; the new examiner must be able to sign in and search, and must not
    have a case for the same application already (one case per application and examiner). The
    move is in Django's admin log, with who made it."""
    if not by.is_admin_role:
        raise ApplicationError("Only admins give a case to another examiner.")
    case = Case.objects.select_for_update().select_related("examiner").get(pk=case.pk)
    if not (examiner.is_active and examiner.has_perm(SEARCH)):
        raise ApplicationError(f"{examiner.username} cannot work cases: "
                               + ("they are deactivated." if not examiner.is_active else "their role does not search."),
                               {"examiner": examiner.username})
    if examiner.pk == case.examiner_id:
        return case
    try:
        _number_check(examiner, case.application_number, case.pk)
    except ApplicationError as exc:
        raise ApplicationError(
            f"{examiner.username} already has a case for application {case.application_number}: "
            "merge their work into one case first, or give this case to someone else.", exc.extra,
        ) from exc
    previous = case.examiner.username
    case.examiner = examiner
    case.save(update_fields=["examiner"])
    audit_record(by=by, obj=case, message=f"Moved from {previous} to {examiner.username}.")
    return case


@transaction.atomic
def cases_reassign_open(*, examiner: User, to: User, by: User) -> list[Case]:
    """Every open case of ``examiner`` given to ``to`` (a leaver's work handed on), all or none:
    where ``to`` already has a case for one of the applications, each such application is named
    and nothing moves. The cases moved, by application number."""
    if to.pk == examiner.pk:
        raise ApplicationError(f"The cases are {examiner.username}'s already: choose another examiner.")
    cases = list(Case.objects.select_for_update().filter(examiner=examiner, status=Case.Status.OPEN)
                 .order_by("application_number"))
    clashes = sorted(set(Case.objects.filter(examiner=to, application_number__in=[c.application_number for c in cases])
                         .values_list("application_number", flat=True)))
    if clashes:
        raise ApplicationError(
            f"{to.username} already has a case for application{'s' if len(clashes) > 1 else ''} {', '.join(clashes)}: "
            "merge those first, or give them to someone else; no case was moved.", {"applications": clashes})
    for case in cases:
        case_reassign(case=case, examiner=to, by=by)
    return cases


def _number_check(examiner: User, number: str, pk: int | None = None) -> None:
    """One case per application and examiner: a second one would split the file (its searches,
    judgments and exports under two cases with the same name).

    Called inside the writing transaction. The examiner's row is locked first, so two requests
    that add the same number at once (a double-click, two tabs) take turns: the second sees the
    first's case and is refused. A lock rather than a unique index, because databases from before
    this rule may already hold such pairs, and an index would make their migration fail."""
    # no_key: the lock two case creations take turns on, without waiting for rows being added
    # that refer to the examiner (searches, judgments), which a full row lock would
    User.objects.select_for_update(no_key=True).only("pk").get(pk=examiner.pk)
    other = Case.objects.filter(examiner=examiner, application_number=number).exclude(pk=pk).first()
    if other is not None:
        raise ApplicationError(
            f"You already have a case for application {number} ({other.title}, {other.get_status_display().lower()}): "
            "open it from the cases list, or check the number.",
            {"application_number": number, "case": other.pk},
        )


@transaction.atomic
def case_update(*, case: Case, status: str | None = None, **fields: object) -> Case:
    """Change the case's fields and/or open or close it. Fields of a closed case cannot change,
    except by reopening it in the same call."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ApplicationError(f"Unknown case fields: {', '.join(sorted(unknown))}.")
    if status is not None and status not in Case.Status.values:
        raise ApplicationError(f"status must be one of {', '.join(Case.Status.values)}.")
    if status == Case.Status.OPEN:
        case.status, case.closed_at = Case.Status.OPEN, None
    changes = {name: value for name, value in fields.items() if getattr(case, name) != value}
    if changes:
        case_check_open(case)
    for name, value in changes.items():
        setattr(case, name, value.strip() if isinstance(value, str) and name != "notes" else value)
    if "application_number" in changes:
        _number_check(case.examiner, case.application_number, case.pk)
    if status == Case.Status.CLOSED and not case.is_closed:
        case.status, case.closed_at = Case.Status.CLOSED, timezone.now()
    case.full_clean()
    case.save()
    return case
