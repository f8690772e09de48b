"""The admin console's records: jobs (what was started, by whom, how far it got) and model switches."""

from django.conf import settings
from django.db import models


class Job(models.Model):
    """One piece of background work an admin started from the console or the API.

    Ingest jobs keep their own counts (rows checked) and problems; encode and re-index jobs are
    measured from the data each time they are read (console.selectors.jobs), so they are never
    stale and need no writes from the encoding workers.
    """

    class Kind(models.TextChoices):
        INGEST = "ingest", "Ingest"
        ENCODE = "encode", "Encode"
        DESCRIBE = "describe", "Describe"
        REINDEX = "reindex", "Re-index"
        EVALUATE = "evaluate", "Evaluate"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    corpus = models.ForeignKey(
        "retrieval.Corpus", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    corpus_name = models.CharField(max_length=200, blank=True, help_text="Name asked for (ingest).")
    model = models.ForeignKey(
        "retrieval.RetrievalModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    source = models.CharField(max_length=1000, blank=True, help_text="Uploaded archive or server folder.")
    source_is_upload = models.BooleanField(default=False, help_text="The source is ours to delete.")
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True, help_text="[{file, line, reason}]")
    message = models.TextField(blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="What the job was asked (evaluate).")
    result = models.JSONField(null=True, blank=True, help_text="Evaluate: {relevance: report}.")
    embedding_map = models.JSONField(
        null=True, blank=True, help_text="Evaluate: t-SNE of the figures' vectors, [[x, y, class], ...]."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("use_console", "Can use the admin console")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} job {self.pk} ({self.state})"


class ModelActivation(models.Model):
    """Which model became active, replacing which, by whom; forced when coverage was under 100 %.
    Rollback reads the latest one."""

    model = models.ForeignKey("retrieval.RetrievalModel", on_delete=models.CASCADE, related_name="+")
    previous = models.ForeignKey(
        "retrieval.RetrievalModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    forced = models.BooleanField(default=False)
    coverage = models.FloatField(help_text="Share of ready figures with a vector, 0-1, at the switch.")
    rollback = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
