"""What participants do: take their next task, open and grade hits, end it, answer questionnaires.

Every action is checked against the participant's own assignment first (another user's task is
"not found", never "forbidden", so ids reveal nothing), then written with its event in one
transaction. Failure policy: bad input raises StudyInputError (a 400 that changes nothing); a task
whose vectors are not computed yet raises StudyNotReadyError and changes nothing either (the
missing vectors are queued for the workers, at most every 5 minutes a study), so the participant
can simply ask again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from cases.grades import Grade
from studies.exceptions import StudyInputError, StudyNotReadyError
from studies.models import Assignment, Event, Participant, ShownHit, StudyGrade
from studies.selectors.studies import assignment_upcoming
from studies.services.definition import study_vectors_queue
from studies.services.results import assignment_hits_store

SUS_ITEMS = 10
# The ten statements of the System Usability Scale (Brooke 1996), answered 1 (strongly disagree)
# to 5 (strongly agree); odd items are positive, even items negative.
SUS_STATEMENTS = (
    "I think that I would like to use this system frequently.",
    "I found the system unnecessarily complex.",
    "I thought the system was easy to use.",
    "I think that I would need the support of a technical person to be able to use this system.",
    "I found the various functions in this system were well integrated.",
    "I thought there was too much inconsistency in this system.",
    "I would imagine that most people would learn to use this system very quickly.",
    "I found the system very cumbersome to use.",
    "I felt very confident using the system.",
    "I needed to learn a lot of things before I could get going with this system.",
)


def sus_score(answers: Sequence[int]) -> float:
    """The System Usability Scale score (0-100) of ten answers 1-5 (Brooke 1996)."""
    odd = sum(a - 1 for a in answers[0::2])
    even = sum(5 - a for a in answers[1::2])
    return (odd + even) * 2.5


def _event(assignment: Assignment | None, participant: Participant, kind: str, **fields: object) -> Event:
    return Event.objects.create(
        study_id=participant.study_id, participant=participant, assignment=assignment, kind=kind, **fields
    )


def _own_assignment(user: User, task_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("participant", "task__study", "arm")
        .filter(task_id=task_id, participant__user=user).first()
    )
    if assignment is None:
        raise Http404("No such task.")
    return assignment


def _check_open(assignment: Assignment) -> None:
    if assignment.started_at is None:
        raise StudyInputError("This task has not been started yet.")
    if assignment.finished_at is not None:
        raise StudyInputError("This task is finished: its questionnaire has been answered.")
    if assignment.ended_at is not None:
        raise StudyInputError("This task has ended; answer its questionnaire to go on.")
    limit = assignment.task.study.time_limit_s
    if limit and timezone.now() > assignment.started_at + dt.timedelta(seconds=limit):
        raise StudyInputError("The time for this task is over; end it and answer the questionnaire.")


def _shown(assignment: Assignment, figure_id: int) -> ShownHit:
    hit = assignment.hits.select_related("arm").filter(figure_id=figure_id).first()
    if hit is None:
        raise StudyInputError(f"Figure {figure_id} is not one of this task's results.", {"figure_id": figure_id})
    return hit


def assignment_next(*, user: User) -> Assignment | None:
    """The participant's current task (started if new, its results stored); None when all are done."""
    candidate = assignment_upcoming(user=user)
    if candidate is None:
        return None
    try:
        return _assignment_start(user, candidate.task_id)
    except StudyNotReadyError:
        # Nothing started; whatever vectors the task waits for are queued (throttled) for the workers.
        study_vectors_queue(study=candidate.task.study)
        raise


def _assignment_start(user: User, task_id: int) -> Assignment:
    with transaction.atomic():
        assignment = _own_assignment(user, task_id)
        if assignment.started_at is None:
            assignment_hits = assignment_hits_store(assignment)
            assignment.started_at = timezone.now()
            assignment.save(update_fields=["started_at"])
            _event(assignment, assignment.participant, Event.Kind.TASK_START, arm=assignment.arm)
            for hit in assignment_hits:
                _event(assignment, assignment.participant, Event.Kind.RESULT_SHOWN, arm=hit.arm,
                       figure_id=hit.figure_id, rank=hit.rank)
        else:
            _event(assignment, assignment.participant, Event.Kind.TASK_RESUME, arm=assignment.arm)
    return assignment


@transaction.atomic
def hit_open(*, user: User, task_id: int, figure_id: int) -> Event:
    """Log that the participant opened a hit (a click, in interleaving terms)."""
    assignment = _own_assignment(user, task_id)
    _check_open(assignment)
    hit = _shown(assignment, figure_id)
    return _event(assignment, assignment.participant, Event.Kind.HIT_OPENED, arm=hit.arm,
                  figure_id=figure_id, rank=hit.rank)


@transaction.atomic
def hit_grade(*, user: User, task_id: int, figure_id: int, grade: int) -> StudyGrade:
    """Grade a shown hit 0-3 (a later grade replaces it; the log keeps both)."""
    if grade not in Grade.values:
        raise StudyInputError(f"grade must be one of {', '.join(map(str, Grade.values))}", {"grade": grade})
    assignment = _own_assignment(user, task_id)
    _check_open(assignment)
    hit = _shown(assignment, figure_id)
    previous = StudyGrade.objects.filter(assignment=assignment, figure_id=figure_id).first()
    judged, _ = StudyGrade.objects.update_or_create(
        assignment=assignment, figure_id=figure_id, defaults={"grade": grade}
    )
    _event(assignment, assignment.participant, Event.Kind.GRADE, arm=hit.arm, figure_id=figure_id,
           rank=hit.rank, value={"grade": grade, "previous": previous.grade if previous else None})
    return judged


@transaction.atomic
def assignment_end(*, user: User, task_id: int, found_citable: bool) -> Assignment:
    """The participant stops searching (found what they would cite, gave up, or ran out of time)."""
    assignment = _own_assignment(user, task_id)
    if assignment.started_at is None:
        raise StudyInputError("This task has not been started yet.")
    if assignment.ended_at is None:
        assignment.ended_at = timezone.now()
        assignment.found_citable = found_citable
        assignment.save(update_fields=["ended_at", "found_citable"])
        _event(assignment, assignment.participant, Event.Kind.TASK_END, arm=assignment.arm,
               value={"found_citable": found_citable})
    return assignment


@transaction.atomic
def assignment_finish(
    *, user: User, task_id: int, confidence: int, usefulness: int, comment: str = "",
    found_citable: bool | None = None,
) -> Assignment:
    """End the task (if not yet ended) and store its questionnaire."""
    for key, value in (("confidence", confidence), ("usefulness", usefulness)):
        if value not in range(1, 6):
            raise StudyInputError(f"{key} must be an integer from 1 to 5", {key: value})
    assignment = _own_assignment(user, task_id)
    if assignment.finished_at is not None:
        raise StudyInputError("This task's questionnaire has already been answered.")
    if assignment.ended_at is None:
        assignment = assignment_end(user=user, task_id=task_id, found_citable=bool(found_citable))
    elif found_citable is not None and found_citable != assignment.found_citable:
        raise StudyInputError("found_citable was already given when the task ended.")
    assignment.confidence, assignment.usefulness, assignment.comment = confidence, usefulness, comment
    assignment.finished_at = timezone.now()
    assignment.save(update_fields=["confidence", "usefulness", "comment", "finished_at"])
    _event(assignment, assignment.participant, Event.Kind.QUESTIONNAIRE, arm=assignment.arm,
           value={"confidence": confidence, "usefulness": usefulness, "comment": comment})
    return assignment


def participant_pending_sus(*, user: User) -> Participant | None:
    """The first study of this user whose tasks are all done and whose SUS is not answered."""
    return (
        Participant.objects.filter(user=user, sus_at__isnull=True)
        .exclude(assignments__finished_at__isnull=True)
        .order_by("study__created_at", "study_id").first()
    )


@transaction.atomic
def sus_submit(*, user: User, answers: Sequence[int]) -> Participant:
    """Store the ten SUS answers of the study the participant has just finished."""
    if len(answers) != SUS_ITEMS or any(not isinstance(a, int) or isinstance(a, bool) or not 1 <= a <= 5
                                        for a in answers):
        raise StudyInputError("answers must be ten integers from 1 to 5", {"answers": list(answers)})
    participant = participant_pending_sus(user=user)
    if participant is None:
        if Participant.objects.filter(user=user, sus_at__isnull=True).exists():
            raise StudyInputError("Finish every task of the study before the usability questionnaire.")
        raise StudyInputError("There is no usability questionnaire waiting for you.")
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    participant.sus_answers = list(answers)
    participant.sus_score = sus_score(answers)
    participant.sus_at = timezone.now()
    participant.save(update_fields=["sus_answers", "sus_score", "sus_at"])
    _event(None, participant, Event.Kind.SUS, value={"answers": list(answers), "score": participant.sus_score})
    return participant
