"""Input and output shapes of the console API (the pages' scripts read the same JSON)."""

from __future__ import annotations

import re

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.urls import reverse
from rest_framework import serializers

from accounts.models import User
from accounts.selectors import STATES
from accounts.services import BATCH_MAX
from console.selectors.jobs import JobProgress
from retrieval.selectors.encoding import Coverage


class CorpusUploadSerializer(serializers.Serializer):
    """Either a .zip (multipart `archive`) or a folder on the server under the import root."""

    archive = serializers.FileField(required=False, allow_empty_file=False)
    folder = serializers.CharField(required=False, allow_blank=False, max_length=1000)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate(self, data: dict) -> dict:
        if bool(data.get("archive")) == bool(data.get("folder")):
            raise serializers.ValidationError("Send either archive (a .zip file) or folder (a folder on the server).")
        return data


class DescribeInputSerializer(serializers.Serializer):
    """The backend that writes the descriptions (empty: the server's RETRIEVAL_DESCRIBE_BACKEND)
    and, for `transformers`, a local model folder under the import root."""

    backend = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    model_path = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class ProblemSerializer(serializers.Serializer):
    file = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class FailedFigureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source_file = serializers.CharField()
    reason = serializers.CharField(source="error")
    image_url = serializers.SerializerMethodField()

    def get_image_url(self, figure: dict) -> str:
        return reverse("retrieval:figure-image", args=[figure["id"]])


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="job.pk")
    kind = serializers.CharField(source="job.kind")
    corpus = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField()
    state = serializers.CharField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    refused = serializers.BooleanField()
    nothing_imported = serializers.BooleanField(
        help_text="A failed or cancelled ingest: it imported nothing and counts nothing as done.")
    summary = serializers.CharField(help_text="The progress line as the console shows it.")
    waiting = serializers.IntegerField()
    lost = serializers.IntegerField()
    rate_per_s = serializers.FloatField(allow_null=True)
    eta_s = serializers.FloatField(allow_null=True)
    message = serializers.CharField(source="job.message")
    problems = ProblemSerializer(many=True)
    failed_figures = FailedFigureSerializer(many=True)
    created_at = serializers.DateTimeField(source="job.created_at")
    started_at = serializers.DateTimeField(source="job.started_at", allow_null=True)
    finished_at = serializers.DateTimeField(source="job.finished_at", allow_null=True)
    url = serializers.SerializerMethodField()

    def get_corpus(self, p: JobProgress) -> str:
        return p.job.corpus.name if p.job.corpus else p.job.corpus_name or ("all" if p.job.kind == "reindex" else "")

    def get_model(self, p: JobProgress) -> str:
        return p.job.model.name if p.job.model else ""

    def get_created_by(self, p: JobProgress) -> str:
        return p.job.created_by.username if p.job.created_by else ""

    def get_url(self, p: JobProgress) -> str:
        return reverse("console:job", args=[p.job.pk])


class JobCreatedSerializer(serializers.Serializer):
    job = serializers.IntegerField()


class ModelInputSerializer(serializers.Serializer):
    checkpoint = serializers.CharField(max_length=1000, help_text="Checkpoint folder or shipped/hub name.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


class ActivateInputSerializer(serializers.Serializer):
    force = serializers.BooleanField(required=False, default=False)


class ModelSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="model.pk")
    name = serializers.CharField(source="model.name")
    architecture = serializers.CharField(source="model.architecture")
    dim = serializers.IntegerField(source="model.dim")
    digest = serializers.CharField(source="model.version")
    checkpoint = serializers.CharField(source="model.checkpoint")
    is_active = serializers.BooleanField(source="model.is_active")
    created_at = serializers.DateTimeField(source="model.created_at")
    coverage = serializers.SerializerMethodField()

    def get_coverage(self, row: dict) -> dict:
        c: Coverage = row["coverage"]
        return {"encoded": c.encoded, "total": c.total, "percent": c.percent, "complete": c.complete}


class ActivationSerializer(serializers.Serializer):
    model = serializers.IntegerField(source="model_id")
    previous = serializers.IntegerField(source="previous_id", allow_null=True)
    forced = serializers.BooleanField()
    rollback = serializers.BooleanField()
    coverage = serializers.FloatField()
    created_at = serializers.DateTimeField()




class EvaluationInputSerializer(serializers.Serializer):
    """A labelled corpus (`corpus`, `relevance`), or the examiners' judgments (`qrels`:
    "judgments", no corpus), and the models to evaluate."""

    corpus = serializers.IntegerField(required=False)
    qrels = serializers.ChoiceField(choices=["", "judgments"], required=False, default="")
    models = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=20)
    relevance = serializers.ListField(
        child=serializers.CharField(max_length=20), min_length=1, max_length=4, default=["patent"]
    )
    exclude_same_patent = serializers.BooleanField(required=False, default=False)

    def validate(self, data: dict) -> dict:
        if not data.get("qrels") and data.get("corpus") is None:
            raise serializers.ValidationError(
                "Choose a corpus, or set qrels to \"judgments\" to evaluate against the examiners' judgments."
            )
        return data


class EvaluationStartedSerializer(serializers.Serializer):
    jobs = serializers.ListField(child=serializers.IntegerField())


# --- users: the users page's forms and /api/v1/users/ read the same shapes ----------------------

USER_STATES = [(state, words) for state, (_, words) in STATES.items()]


class UserFilterSerializer(serializers.Serializer):
    """Which users a list shows (?q=, ?role=, ?state=)."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=150, default="", label="Name or email",
                              help_text="Part of the username or the email address.")
    role = serializers.ChoiceField(choices=User.Role.choices, required=False, allow_blank=True, default="",
                                   label="Role")
    state = serializers.ChoiceField(choices=USER_STATES, required=False, allow_blank=True, default="", label="State")


class UserEntrySerializer(serializers.Serializer):
    """A new user's name and address."""

    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()], label="Username")
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254, default="", label="Email")


class UserCreateSerializer(UserEntrySerializer):
    """A new user; the server makes their one-time password."""

    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.EXAMINER, label="Role")


class UsersBatchSerializer(serializers.Serializer):
    """Several new users of one role, all or none; each gets a one-time password."""

    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.PARTICIPANT, label="Role")
    users = serializers.ListField(child=UserEntrySerializer(), min_length=1, max_length=BATCH_MAX, label="Users")


def user_lines(text: str) -> list[tuple[int, dict[str, str]]]:
    """The users page's batch box: one user per line, "name" or "name, address" (a tab or a
    semicolon also separates), blank lines skipped; each entry with its line number."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [part.strip() for part in re.split(r"[,;\t]", line, maxsplit=1)]
        if parts[0]:
            entries.append((number, {"username": parts[0], "email": parts[1] if len(parts) > 1 else ""}))
    return entries


class UserRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=User.Role.choices, label="Role")


class UserPatchSerializer(serializers.Serializer):
    """A user's role, whether they may sign in, and their email address; any of them."""

    role = serializers.ChoiceField(choices=User.Role.choices, required=False, label="Role")
    is_active = serializers.BooleanField(required=False, label="Active")
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254, label="Email")

    def validate(self, data: dict) -> dict:
        if not data:
            raise serializers.ValidationError("Send role, is_active, email or several.")
        return data


class CasesToSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=150, label="To", help_text="The username of the examiner who takes the cases.")


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()
    role = serializers.CharField()
    is_active = serializers.BooleanField()
    is_operator = serializers.BooleanField(source="is_superuser", help_text="A superuser: only an operator changes it.")
    password_change_required = serializers.BooleanField(
        help_text="Holds a one-time password not yet replaced by their own.")
    one_time_password_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When that one-time password stops working.")
    has_token = serializers.BooleanField(default=False)
    last_login = serializers.DateTimeField(allow_null=True)
    date_joined = serializers.DateTimeField()


class UserCreatedSerializer(UserSerializer):
    one_time_password = serializers.CharField(help_text="Shown only in this answer; the user replaces it at the "
                                                        "first sign-in.")


class UsersCreatedSerializer(serializers.Serializer):
    users = UserCreatedSerializer(many=True)


class OneTimePasswordSerializer(serializers.Serializer):
    one_time_password = serializers.CharField()
