"""Reads of studies: what a participant sees (blind), and the rows of exports and analysis."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cases.grades import RELEVANT_MIN_GRADE
from studies import analysis
from studies.designs import preference, team_credit
from studies.models import Arm, Assignment, Event, Participant, Study, Task


@dataclass(frozen=True)
class ParticipantHit:
    """A hit as a participant sees it: no score, no arm, no model."""

    rank: int
    figure_id: int
    figure_label: str
    patent_id: str
    title: str
    grade: int | None


@dataclass(frozen=True)
class ParticipantTask:
    """A participant's task. Not even the study's name: an admin may have named it after its arms."""

    task_id: int
    number: int
    of: int
    text: str
    query_figure_ids: list[int]
    hits: list[ParticipantHit]
    time_limit_s: int | None
    seconds_left: int | None
    seconds_elapsed: int  # since the task started: a page reloaded mid-task shows the time it has taken
    ended: bool
    found_citable: bool


def participant_task(*, assignment: Assignment) -> ParticipantTask:
    """The participant's view of their task (the same fields for every arm)."""
    grades = dict(assignment.grades.values_list("figure_id", "grade"))
    hits = [
        ParticipantHit(rank=h.rank, figure_id=h.figure_id, figure_label=h.figure.figure_label,
                       patent_id=h.figure.patent.patent_id, title=h.figure.patent.title,
                       grade=grades.get(h.figure_id))
        for h in assignment.hits.select_related("figure__patent").order_by("rank")
    ]
    study = assignment.task.study
    seconds_left = None
    elapsed = (timezone.now() - assignment.started_at).total_seconds() if assignment.started_at else 0.0
    if study.time_limit_s and assignment.started_at:
        seconds_left = max(0, int(study.time_limit_s - elapsed))
    number, of = assignment_place(assignment)
    return ParticipantTask(
        task_id=assignment.task_id, number=number, of=of, text=assignment.task.text,
        query_figure_ids=sorted(assignment.task.query_figures.values_list("id", flat=True)),
        hits=hits, time_limit_s=study.time_limit_s, seconds_left=seconds_left, seconds_elapsed=max(0, int(elapsed)),
        ended=assignment.ended_at is not None, found_citable=assignment.found_citable,
    )


def assignment_place(assignment: Assignment) -> tuple[int, int]:
    """A task's number within its study and how many the participant has there ("Task 2 of 3")."""
    return assignment.position + 1, assignment.participant.assignments.count()


def assignment_upcoming(*, user: User) -> Assignment | None:
    """The participant's current task: the first unfinished one, study by study (oldest study
    first, its tasks in the participant's order); None when all are done."""
    return (
        Assignment.objects.filter(participant__user=user, finished_at__isnull=True)
        .select_related("participant").order_by("participant__study__created_at", "participant__study_id", "position")
        .first()
    )


def participant_progress(*, user: User) -> dict[str, int | None]:
    """The participant's tasks: all, finished (questionnaire sent), and in progress (started, its
    clock running or its questionnaire waiting), over all their studies; and the upcoming task's
    number and count within its own study (as the task itself says them), None when all are done."""
    counts = Assignment.objects.filter(participant__user=user).aggregate(
        total=Count("id"), done=Count("id", filter=Q(finished_at__isnull=False)),
        in_progress=Count("id", filter=Q(started_at__isnull=False, finished_at__isnull=True)),
    )
    upcoming = assignment_upcoming(user=user)
    number, of = assignment_place(upcoming) if upcoming else (None, None)
    return {"total": counts["total"], "done": counts["done"], "in_progress": counts["in_progress"],
            "next_number": number, "next_of": of}


def study_list() -> QuerySet[Study]:
    return Study.objects.annotate(
        n_participants=Count("participants", distinct=True), n_tasks=Count("tasks", distinct=True)
    ).order_by("-created_at", "-id")


def study_by_name(name: str) -> Study | None:
    return Study.objects.filter(name=name).first()


# --- outcomes -------------------------------------------------------------------------------

OUTCOME_HEADER = [
    "study", "participant", "task", "task_position", "arm", "design", "time_to_first_relevant_s",
    "precision@5", "precision@10", "judged", "relevant", "shown", "known_relevant_shown", "found_citable",
    "duration_s",
    "confidence", "usefulness",
]


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None


def _outcome_rows(study: Study) -> Iterator[dict[str, object]]:
    """One row per (participant, task, arm) of every started task.

    Within-subject: the arm is the assignment's arm and the metrics are those of its list.
    Interleaving: one row per arm, counting only the hits that arm contributed (its team):
    precision@k is the arm's relevant hits among the top k shown over k (the two arms' values sum
    to the list's precision@k), time to first relevant is to the first relevant hit of its team.
    """
    arms = list(study.arms.order_by("position"))
    assignments = (
        Assignment.objects.filter(task__study=study, started_at__isnull=False)
        .select_related("participant__user", "task").order_by("participant__position", "position")
    )
    for a in assignments:
        hits = list(a.hits.select_related("figure__patent"))
        known = set(a.task.known_relevant)
        grades = dict(a.grades.values_list("figure_id", "grade"))
        first_relevant: dict[int, dt.datetime] = {}
        for event in a.events.filter(kind=Event.Kind.GRADE).order_by("at", "id"):
            if event.value.get("grade", 0) >= RELEVANT_MIN_GRADE and event.arm_id not in first_relevant:
                first_relevant[event.arm_id] = event.at
        for arm in ([a.arm] if a.arm_id else arms):
            mine = [h for h in hits if h.arm_id == arm.pk]
            relevant = [h for h in mine if grades.get(h.figure_id, 0) >= RELEVANT_MIN_GRADE]
            yield {
                "study": study.name, "participant": a.participant.user.username, "task": a.task_id,
                "task_position": a.task.position + 1, "arm": arm.name, "design": study.design,
                "time_to_first_relevant_s": _seconds(a.started_at, first_relevant.get(arm.pk)),
                "precision@5": sum(1 for h in relevant if h.rank <= 5) / 5,
                "precision@10": sum(1 for h in relevant if h.rank <= 10) / 10,
                "judged": sum(1 for h in mine if h.figure_id in grades), "relevant": len(relevant),
                "shown": len(mine),
                "known_relevant_shown": sum(1 for h in mine if h.figure.patent.patent_id in known),
                "found_citable": a.found_citable,
                "duration_s": _seconds(a.started_at, a.ended_at), "confidence": a.confidence,
                "usefulness": a.usefulness,
            }


def study_outcomes(*, study: Study) -> list[dict[str, object]]:
    return list(_outcome_rows(study))


def study_preferences(*, study: Study) -> dict[str, list[str | None]]:
    """Interleaving: the winning arm of each started session, by relevant grades and by clicks."""
    arms = list(study.arms.order_by("position"))
    winners: dict[str, list[str | None]] = {"grades": [], "clicks": []}
    assignments = Assignment.objects.filter(task__study=study, started_at__isnull=False).order_by("pk")
    for a in assignments:
        hits = list(a.hits.order_by("rank"))
        teams = [0 if h.arm_id == arms[0].pk else 1 for h in hits]
        position = {h.figure_id: i for i, h in enumerate(hits)}
        grades = dict(a.grades.values_list("figure_id", "grade"))
        relevant = [position[f] for f, g in grades.items() if g >= RELEVANT_MIN_GRADE and f in position]
        clicked = [position[f] for f in a.events.filter(kind=Event.Kind.HIT_OPENED)
                   .values_list("figure_id", flat=True) if f in position]
        for credit, positions in (("grades", relevant), ("clicks", clicked)):
            winner = preference(team_credit(teams, positions))
            winners[credit].append(None if winner is None else arms[winner].name)
    return winners


def study_summary(*, study: Study) -> dict[str, object]:
    """Per-arm means with 95 % CIs, paired tests and (interleaving) preferences: analysis.py."""
    arms = list(study.arms.order_by("position").values_list("name", flat=True))
    sus = {p.user.username: p.sus_score for p in study.participants.select_related("user")
           if p.sus_score is not None}
    preferences = study_preferences(study=study) if study.design == Study.Design.INTERLEAVE else None
    summary = analysis.study_summary(arms=arms, outcomes=study_outcomes(study=study), sus=sus,
                                     preferences=preferences)
    return {"study": study.name, "design": study.design, **summary}


# --- exports --------------------------------------------------------------------------------

EVENT_HEADER = ["at", "study", "participant", "task", "task_position", "kind", "arm", "rank", "figure_id",
                "patent_id", "value"]


def study_event_rows(*, study: Study) -> Iterator[list[object]]:
    events = (
        Event.objects.filter(study=study)
        .select_related("participant__user", "assignment__task", "arm", "figure__patent")
        .order_by("at", "id")
    )
    for e in events.iterator(chunk_size=2000):
        yield [
            e.at.isoformat(), study.name, e.participant.user.username,
            e.assignment.task_id if e.assignment else "", e.assignment.task.position + 1 if e.assignment else "",
            e.kind, e.arm.name if e.arm else "", e.rank or "", e.figure_id or "",
            e.figure.patent.patent_id if e.figure else "", _json(e.value),
        ]


QUESTIONNAIRE_HEADER = [
    "study", "participant", "kind", "task", "task_position", "arm", "confidence", "usefulness", "comment",
    *[f"sus_q{i}" for i in range(1, 11)], "sus_score", "answered_at",
]


def study_questionnaire_rows(*, study: Study) -> Iterator[list[object]]:
    """A row per task questionnaire (its arm: the within-subject arm, or 'interleaved'), then a row
    per participant's SUS with the computed score."""
    participants = list(study.participants.select_related("user").order_by("position"))
    for p in participants:
        for a in p.assignments.filter(finished_at__isnull=False).select_related("task", "arm").order_by("position"):
            yield [study.name, p.user.username, "task", a.task_id, a.task.position + 1,
                   a.arm.name if a.arm else "interleaved", a.confidence, a.usefulness, a.comment,
                   *[""] * 10, "", a.finished_at.isoformat()]
        if p.sus_at:
            yield [study.name, p.user.username, "sus", "", "", "", "", "", "", *p.sus_answers, p.sus_score,
                   p.sus_at.isoformat()]


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True) if value else ""


def study_arms(*, study: Study) -> list[Arm]:
    return list(study.arms.select_related("model").order_by("position"))


def study_tasks(*, study: Study) -> QuerySet[Task]:
    return study.tasks.prefetch_related("query_figures__patent").order_by("position")


def study_participants(*, study: Study) -> QuerySet[Participant]:
    return study.participants.select_related("user").annotate(
        done=Count("assignments", filter=Q(assignments__finished_at__isnull=False))
    ).order_by("position", "id")  # rows of the Latin square; the id keeps a page's order when two share one


def participant_candidates(*, study: Study) -> QuerySet[User]:
    """Participants and examiners not yet in the study."""
    return (User.objects.filter(role__in=(User.Role.PARTICIPANT, User.Role.EXAMINER))
            .exclude(study_roles__study=study).order_by("role", "username"))
