"""Judging figures in a case: grade 0-3, citation category X/Y/A, a note; history kept.

A judgment belongs to the case (one per figure), so every later search of the case shows it.
Each change writes a JudgmentChange with the values before and after, who and when. The fields
sent are changed; fields not sent keep their value (``grade=None`` or ``category=""`` clear).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cases.grades import Category, Grade
from cases.models import Case, CaseSearch, Judgment, JudgmentChange, LoggedHit
from cases.services.cases import case_check_open
from patentsearch.exceptions import ApplicationError
from retrieval.models import Figure

UNSET = object()


def judgment_set(
    *, case: Case, figure_id: int, user: User, grade: object = UNSET, category: object = UNSET,
    note: object = UNSET, search: object = UNSET,
) -> Judgment:
    """Create or change the case's judgment of a figure. Everything is checked before writing."""
    case_check_open(case)
    if not Figure.objects.filter(pk=figure_id).exists():
        raise ApplicationError(f"Figure {figure_id} does not exist.", {"figure": figure_id})
    if grade is not UNSET and grade is not None and grade not in Grade.values:
        raise ApplicationError(f"grade must be 0, 1, 2 or 3 (or empty), not {grade!r}.", {"grade": grade})
    if category is not UNSET and category not in ("", *Category.values):
        raise ApplicationError(f"category must be X, Y or A (or empty), not {category!r}.", {"category": category})
    if grade is UNSET and category is UNSET and note is UNSET and search is UNSET:
        raise ApplicationError("Nothing to judge: send grade, category and/or note.")
    logged = _search(case, figure_id, search)
    with transaction.atomic():
        Case.objects.select_for_update().get(pk=case.pk)
        judgment = Judgment.objects.filter(case=case, figure_id=figure_id).first()
        old = judgment.values() if judgment else None
        judgment = judgment or Judgment(case=case, figure_id=figure_id)
        if grade is not UNSET:
            judgment.grade = grade
        if category is not UNSET:
            judgment.category = category
        if note is not UNSET:
            judgment.note = str(note)
        if logged is not None or judgment.search_id is None:
            judgment.search = logged or _latest_search_showing(case, figure_id)
        if old is not None and judgment.values() == old:
            return judgment
        judgment.judged_by, judgment.judged_at = user, timezone.now()
        judgment.save()
        JudgmentChange.objects.create(judgment=judgment, changed_by=user, changed_at=judgment.judged_at,
                                      old=old, new=judgment.values())
        case.save(update_fields=["updated_at"])
    return judgment


def _search(case: Case, figure_id: int, search: object) -> CaseSearch | None:
    if search is UNSET or search is None:
        return None
    found = CaseSearch.objects.filter(case=case, pk=search).first()
    if found is None:
        raise ApplicationError(f"Search {search} is not a search of this case.", {"search": search})
    if not LoggedHit.objects.filter(search=found, figure_id=figure_id).exists():
        raise ApplicationError(f"Figure {figure_id} was not shown in search {found.number}.", {"search": search})
    return found


def _latest_search_showing(case: Case, figure_id: int) -> CaseSearch | None:
    hit = LoggedHit.objects.filter(search__case=case, figure_id=figure_id).order_by("-search__number").first()
    return hit.search if hit else None
