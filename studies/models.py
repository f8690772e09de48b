"""User studies: blind comparisons of retrieval arms (a model, or a model plus text) by people.

A study has arms, tasks and participants. Each participant gets one Assignment per task; the
hits shown for it are stored when the task is first served (ShownHit: which arm produced each),
so a resumed task shows the same list and exports can say which arm produced which hit.
Grades use the one relevance scale of cases/grades.py. The Event log is append-only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from cases.grades import Grade
from retrieval.models import Corpus, Figure, RetrievalModel


class Study(models.Model):
    class Design(models.TextChoices):
        WITHIN = "within", "Within-subject (arm order counterbalanced by a Latin square)"
        INTERLEAVE = "interleave", "Team-draft interleaving of two arms"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    design = models.CharField(max_length=16, choices=Design.choices, default=Design.WITHIN)
    k = models.PositiveIntegerField(default=10, help_text="Hits shown per task.")
    time_limit_s = models.PositiveIntegerField(null=True, blank=True, help_text="Per task; empty: none.")
    seed = models.IntegerField(default=0, help_text="Seeds the interleaving coin tosses.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    gallery_upto = models.BigIntegerField(
        null=True, blank=True,
        help_text="The newest figure id when the study was made: its galleries are the figures up to it, "
        "so every participant's candidates are the same whatever is ingested later (empty: studies made "
        "before).",
    )

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Arm(models.Model):
    """One condition compared: a registered model, searched by drawing only or drawing + text."""

    class Mode(models.TextChoices):
        DRAWING = "drawing", "Drawing only"
        DRAWING_TEXT = "drawing_text", "Drawing + text"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="arms")
    name = models.CharField(max_length=200)
    model = models.ForeignKey(RetrievalModel, on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.DRAWING)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["study_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "name"], name="arm_unique_name"),
            models.UniqueConstraint(fields=["study", "position"], name="arm_unique_position"),
        ]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    """A search task: query drawings (figures of an ingested set), optional text and known answers."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveIntegerField()
    query_figures = models.ManyToManyField(Figure, related_name="+")
    text = models.TextField(blank=True, help_text="Used by arms that search drawing + text.")
    gallery = models.ForeignKey(
        Corpus, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Corpus searched (empty: every corpus).",
    )
    known_relevant = models.JSONField(default=list, blank=True, help_text="Patent ids known relevant.")

    class Meta:
        ordering = ["study_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "position"], name="task_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.study} task {self.position + 1}"


class Participant(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_roles")
    position = models.PositiveIntegerField(help_text="Row of the Latin square.")
    sus_answers = models.JSONField(null=True, blank=True)
    sus_score = models.FloatField(null=True, blank=True)
    sus_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="participant_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.study}"


class Assignment(models.Model):
    """One participant's run of one task: its arm (within design), timing and questionnaire."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="assignments")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    position = models.PositiveIntegerField(help_text="Order of the task for this participant.")
    arm = models.ForeignKey(Arm, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                            help_text="Within design: the arm. Interleaving: empty.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When the participant ended the search.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When the questionnaire was sent.")
    found_citable = models.BooleanField(default=False)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    usefulness = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["participant_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "task"], name="assignment_unique_task"),
        ]


class ShownHit(models.Model):
    """A hit as shown to the participant, with the arm that contributed it (never shown)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="hits")
    rank = models.PositiveIntegerField()
    figure = models.ForeignKey(Figure, on_delete=models.CASCADE, related_name="+")
    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="+")
    arm_rank = models.PositiveIntegerField(help_text="Rank of the figure in its arm's own list.")
    score = models.FloatField()

    class Meta:
        ordering = ["assignment_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "rank"], name="shownhit_unique_rank"),
            models.UniqueConstraint(fields=["assignment", "figure"], name="shownhit_unique_figure"),
        ]


class StudyGrade(models.Model):
    """A participant's current grade of a shown hit (its history is in the event log)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="grades")
    figure = models.ForeignKey(Figure, on_delete=models.CASCADE, related_name="+")
    grade = models.PositiveSmallIntegerField(choices=Grade.choices)
    graded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["assignment_id", "figure_id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "figure"], name="studygrade_unique_figure"),
        ]


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("study events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("study events are append-only")


class Event(models.Model):
    """One thing that happened in a study, with its time; rows are only ever added."""

    class Kind(models.TextChoices):
        TASK_START = "task_start", "Task started"
        TASK_RESUME = "task_resume", "Task resumed"
        RESULT_SHOWN = "result_shown", "Result shown"
        HIT_OPENED = "hit_opened", "Hit opened"
        GRADE = "grade", "Grade given"
        CITABLE = "citable", "Found what I would cite"
        TASK_END = "task_end", "Task ended"
        QUESTIONNAIRE = "questionnaire", "Questionnaire answered"
        SUS = "sus", "SUS answered"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="events")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="events")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    arm = models.ForeignKey(Arm, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    figure = models.ForeignKey(Figure, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField(null=True, blank=True)
    value = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["study_id", "at", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("study events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("study events are append-only")
