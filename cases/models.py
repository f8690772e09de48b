"""The examiner's workflow: cases, their immutable search log, and judgments with history.

A logged search (:class:`CaseSearch`, its :class:`QueryImage` drawings and :class:`LoggedHit`
ranking) is written once, in one transaction, by ``cases.services.searches``; after that no code
path changes it: saving an existing row or deleting one raises :class:`ImmutableLogError`, and
so do the bulk ``update()``/``delete()`` of their querysets.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.grades import Category, Grade
from patentsearch.exceptions import ApplicationError


class ImmutableLogError(ApplicationError):
    """Something tried to change or delete a logged search."""

    def __init__(self) -> None:
        super().__init__("A logged search cannot be changed or deleted; run a new search instead.")


class Case(models.Model):
    """An application under examination, worked by one examiner."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    examiner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases")
    application_number = models.CharField(max_length=64)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    locarno_class = models.CharField(max_length=16, blank=True, help_text="e.g. 14-04")
    us_class = models.CharField(max_length=32, blank=True, help_text="e.g. D14/486")
    cutoff_date = models.DateField(help_text="Filing or priority date: prior art is granted before it.")
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application_number} {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class _ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise ImmutableLogError()

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableLogError()


class _ImmutableRow(models.Model):
    objects = _ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableLogError()
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ImmutableLogError()


class CaseSearch(_ImmutableRow):
    """One search as it was run in a case: the query, the settings and the exact ranking shown."""

    class Origin(models.TextChoices):
        QUERY = "query", "Drawings and text"
        LIKE_FIGURE = "like_figure", "More like this"
        REFINE = "refine", "Refined with judgments"
        RERUN = "rerun", "Re-run"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="searches")
    number = models.PositiveIntegerField(help_text="1, 2, ... within the case.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.QUERY)
    text = models.TextField(blank=True)
    text_weight = models.FloatField(default=0.5)
    k = models.PositiveIntegerField()
    filters = models.JSONField(default=dict, help_text="The filters as given (classes, dates, corpora).")
    cutoff_date = models.DateField(null=True, blank=True, help_text="grant_date < this; empty: no cutoff.")
    cutoff_overridden = models.BooleanField(default=False, help_text="The case's cutoff was not used as is.")
    like_figure = models.ForeignKey(
        "retrieval.Figure", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refined_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refinements"
    )
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reruns")
    feedback = models.JSONField(
        default=dict, blank=True,
        help_text="Refine: beta, gamma and the judged figures used ({relevant: [...], not_relevant: [...]}).",
    )
    model_name = models.CharField(max_length=100)
    model_version = models.CharField(max_length=200)
    seconds = models.FloatField(default=0.0)
    class_focus_on = models.BooleanField(
        default=True, help_text="The class focus ranked the best hits' classes first (searches logged before "
        "it was recorded: false).",
    )
    class_focus = models.JSONField(
        null=True, blank=True,
        help_text="What the class focus voted ({weight, patents, classes: [{scheme, label, share}]}); "
        "null: off, or none of the voting patents had a class.",
    )
    words_matched = models.BooleanField(
        null=True, blank=True, help_text="Whether any figure's title, name or descriptions contain the text's words "
        "or a near spelling of them (false: the hits were only neighbours in meaning); null: no text, or logged "
        "before it was recorded.",
    )
    unsearched = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Figures within the search's filters that it could not be compared with yet: with a drawing, "
                "those without a vector under the model (still being encoded); a text alone, those without a text "
                "row (still being indexed); 0: it saw every figure; null: logged before it was recorded.",
    )

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="casesearch_unique_number")]

    def __str__(self) -> str:
        return f"{self.case.application_number} search {self.number}"


class QueryImage(_ImmutableRow):
    """A stored copy of one query drawing of a logged search, with the crop applied to it."""

    search = models.ForeignKey(CaseSearch, on_delete=models.PROTECT, related_name="images")
    position = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to="case-queries/", max_length=300)
    filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    crop = models.JSONField(null=True, blank=True, help_text="[left, top, right, bottom] as fractions.")

    class Meta:
        ordering = ["search", "position"]
        constraints = [models.UniqueConstraint(fields=["search", "position"], name="queryimage_unique_position")]


class LoggedHit(_ImmutableRow):
    """One row of the ranking shown for a logged search."""

    search = models.ForeignKey(CaseSearch, on_delete=models.PROTECT, related_name="hits")
    rank = models.PositiveIntegerField()
    figure = models.ForeignKey("retrieval.Figure", on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()
    identical = models.BooleanField(
        default=False,
        help_text="The figure's drawing is one of the query's (ranked first for that: "
        "retrieval.selectors.search.put_identical_first); false for hits logged before it was recorded.",
    )

    class Meta:
        ordering = ["search", "rank"]
        constraints = [models.UniqueConstraint(fields=["search", "rank"], name="loggedhit_unique_rank")]


class Judgment(models.Model):
    """The case's current judgment of one figure; every change is kept in JudgmentChange."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="judgments")
    figure = models.ForeignKey("retrieval.Figure", on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField(choices=Grade.choices, null=True, blank=True)
    category = models.CharField(max_length=1, choices=Category.choices, blank=True)
    note = models.TextField(blank=True)
    search = models.ForeignKey(
        CaseSearch, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The logged search in which the figure was judged.",
    )
    judged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    judged_at = models.DateTimeField()

    class Meta:
        ordering = ["case", "figure"]
        constraints = [models.UniqueConstraint(fields=["case", "figure"], name="judgment_unique_case_figure")]

    def values(self) -> dict[str, object]:
        return {"grade": self.grade, "category": self.category, "note": self.note,
                "search": self.search_id}


class JudgmentChange(models.Model):
    """One change of a judgment: who, when, the values before and after."""

    judgment = models.ForeignKey(Judgment, on_delete=models.PROTECT, related_name="changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField()

    class Meta:
        ordering = ["judgment", "changed_at", "id"]
