"""REST API (v1) of user studies: the participant's task loop, and the admin's definition and exports.

Participant responses are blind: they carry task ids, figures, ranks and grades, never an arm,
a model or a score (scores of different models are on different scales and would tell them apart).
"""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from patentsearch.csv_export import csv_response
from patentsearch.pagination import Pagination, paged_schema
from studies.exceptions import PrefetchRefusedError
from studies.models import Study
from studies.selectors import studies as selectors
from studies.services import definition, participation


class IsStudyParticipantRole(BasePermission):
    message = "Only participants and examiners take part in studies."

    def has_permission(self, request: Request, view: object) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role in definition.PARTICIPANT_ROLES)


class IsAdminRole(BasePermission):
    message = "Only admins manage studies."

    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_admin_role)


def _image_url(request: Request, figure_id: int) -> str:
    return request.build_absolute_uri(reverse("retrieval:figure-image", args=[figure_id]))


class ParticipantHitSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    figure_id = serializers.IntegerField()
    image_url = serializers.SerializerMethodField()
    figure_label = serializers.CharField()
    patent_id = serializers.CharField()
    title = serializers.CharField()
    grade = serializers.IntegerField(allow_null=True)

    def get_image_url(self, hit: selectors.ParticipantHit) -> str:
        return _image_url(self.context["request"], hit.figure_id)


class ParticipantTaskSerializer(serializers.Serializer):
    task = serializers.IntegerField(source="task_id")
    number = serializers.IntegerField()
    of = serializers.IntegerField()
    text = serializers.CharField()
    query_images = serializers.SerializerMethodField()
    hits = ParticipantHitSerializer(many=True)
    time_limit_s = serializers.IntegerField(allow_null=True)
    seconds_left = serializers.IntegerField(allow_null=True)
    seconds_elapsed = serializers.IntegerField(help_text="Seconds since the task started (its first GET).")
    ended = serializers.BooleanField()
    found_citable = serializers.BooleanField()

    def get_query_images(self, task: selectors.ParticipantTask) -> list[str]:
        return [_image_url(self.context["request"], fid) for fid in task.query_figure_ids]


class _ParticipantApi(APIView):
    permission_classes = [IsAuthenticated, IsStudyParticipantRole]


PREFETCH_HEADERS = ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz")


def _is_prefetch(request: Request) -> bool:
    values = (request.headers.get(name, "").lower() for name in PREFETCH_HEADERS)
    return any("prefetch" in value or value == "preview" for value in values)


class StudyTaskNextApi(_ParticipantApi):
    """The participant's current task (started on first call, its results stored); 204 when done.

    The first GET starts the task's clock, so a browser's prefetch (which says so in Sec-Purpose
    or its older names) is refused before anything starts, and no answer may be cached: not a
    task, nor a refusal (503 while the task's results are still being prepared)."""

    @extend_schema(responses={200: ParticipantTaskSerializer, 204: None, 503: None})
    def get(self, request: Request) -> Response:
        if _is_prefetch(request):
            raise PrefetchRefusedError("A prefetch does not start a study task; open the study page.",
                                       {"prefetch": True})
        assignment = participation.assignment_next(user=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        task = selectors.participant_task(assignment=assignment)
        return Response(ParticipantTaskSerializer(task, context={"request": request}).data)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class StudyStatusSerializer(serializers.Serializer):
    tasks_total = serializers.IntegerField()
    tasks_done = serializers.IntegerField()
    sus_pending = serializers.BooleanField()
    task_in_progress = serializers.BooleanField(
        help_text="A task has started and is not finished: the study page resumes it, where otherwise it "
        "waits for the participant to press Start (GET tasks/next/ starts the clock)."
    )
    next_task_number = serializers.IntegerField(allow_null=True, help_text="The upcoming task's number in its study "
                                                "(the task's own `number`); null when all are done.")
    next_task_of = serializers.IntegerField(allow_null=True, help_text="How many tasks that study gives you "
                                            "(the task's own `of`); null when all are done.")


def _status(user: User) -> dict:
    """The body of StudyStatusSerializer: the status API's answer, and the finish API's."""
    progress = selectors.participant_progress(user=user)
    pending = participation.participant_pending_sus(user=user) is not None
    return {"tasks_total": progress["total"], "tasks_done": progress["done"], "sus_pending": pending,
            "task_in_progress": bool(progress["in_progress"]),
            "next_task_number": progress["next_number"], "next_task_of": progress["next_of"]}


class StudyStatusApi(_ParticipantApi):
    """The participant's progress over all their study tasks, and whether the SUS is waiting."""

    @extend_schema(responses=StudyStatusSerializer)
    def get(self, request: Request) -> Response:
        return Response(_status(request.user))


class GradeInputSerializer(serializers.Serializer):
    figure_id = serializers.IntegerField()
    grade = serializers.IntegerField(min_value=0, max_value=3)


class StudyTaskGradeApi(_ParticipantApi):
    """Grade one of the task's hits 0-3 (not relevant ... highly relevant)."""

    @extend_schema(request=GradeInputSerializer, responses={200: GradeInputSerializer})
    def post(self, request: Request, task_id: int) -> Response:
        form = GradeInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        judged = participation.hit_grade(user=request.user, task_id=task_id, **form.validated_data)
        return Response({"figure_id": judged.figure_id, "grade": judged.grade})


class FigureInputSerializer(serializers.Serializer):
    figure_id = serializers.IntegerField()


class StudyTaskOpenedApi(_ParticipantApi):
    """Record that the participant opened a hit to look at it closely."""

    @extend_schema(request=FigureInputSerializer, responses={204: None})
    def post(self, request: Request, task_id: int) -> Response:
        form = FigureInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        participation.hit_open(user=request.user, task_id=task_id, **form.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndInputSerializer(serializers.Serializer):
    found_citable = serializers.BooleanField(default=False)


class StudyTaskEndApi(_ParticipantApi):
    """Stop searching ("found what I would cite", or give up); the questionnaire follows."""

    @extend_schema(request=EndInputSerializer, responses={200: EndInputSerializer})
    def post(self, request: Request, task_id: int) -> Response:
        form = EndInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        assignment = participation.assignment_end(user=request.user, task_id=task_id, **form.validated_data)
        return Response({"found_citable": assignment.found_citable})


class FinishInputSerializer(serializers.Serializer):
    confidence = serializers.IntegerField(min_value=1, max_value=5)
    usefulness = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    found_citable = serializers.BooleanField(required=False, allow_null=True, default=None)


class StudyTaskFinishApi(_ParticipantApi):
    """End the task (if still open) and answer its questionnaire (confidence and usefulness 1-5);
    the answer is the participant's status, as GET status/ gives it."""

    @extend_schema(request=FinishInputSerializer, responses=StudyStatusSerializer)
    def post(self, request: Request, task_id: int) -> Response:
        form = FinishInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        participation.assignment_finish(user=request.user, task_id=task_id, **form.validated_data)
        return Response(_status(request.user))


class SusInputSerializer(serializers.Serializer):
    answers = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=5),
                                    min_length=10, max_length=10)


class StudySusApi(_ParticipantApi):
    """The System Usability Scale at the end of a study: ten answers 1-5."""

    @extend_schema(request=SusInputSerializer, responses={200: None})
    def post(self, request: Request) -> Response:
        form = SusInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        participant = participation.sus_submit(user=request.user, answers=form.validated_data["answers"])
        return Response({"sus_score": participant.sus_score})


# --- admin ----------------------------------------------------------------------------------


class _AdminApi(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]


class TaskInputSerializer(serializers.Serializer):
    query_figures = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=8)
    text = serializers.CharField(required=False, allow_blank=True, default="")
    gallery = serializers.IntegerField(required=False, allow_null=True, default=None)
    known_relevant = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class StudyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    arms = serializers.ListField(child=serializers.CharField(), min_length=2)
    participants = serializers.ListField(child=serializers.CharField(), min_length=1)
    design = serializers.ChoiceField(choices=Study.Design.values, default=Study.Design.WITHIN)
    k = serializers.IntegerField(min_value=1, max_value=100, default=10)
    time_limit_s = serializers.IntegerField(min_value=10, required=False, allow_null=True, default=None)
    seed = serializers.IntegerField(default=0)
    tasks = TaskInputSerializer(many=True, required=False)
    tasks_from = serializers.CharField(required=False, help_text="A corpus name: tasks from its patents.")
    n_tasks = serializers.IntegerField(min_value=1, required=False)
    views = serializers.IntegerField(min_value=1, max_value=8, default=2)

    def validate(self, data: dict) -> dict:
        if bool(data.get("tasks")) == bool(data.get("tasks_from")):
            raise serializers.ValidationError("give either tasks, or tasks_from with n_tasks")
        if data.get("tasks_from") and not data.get("n_tasks"):
            raise serializers.ValidationError("tasks_from needs n_tasks")
        return data


class StudySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    design = serializers.CharField()
    k = serializers.IntegerField()
    time_limit_s = serializers.IntegerField(allow_null=True)
    arms = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_arms(self, study: Study) -> list[dict[str, object]]:
        return [{"name": a.name, "model": a.model.name, "mode": a.mode} for a in study.arms.select_related("model")]

    def get_tasks(self, study: Study) -> int:
        return study.tasks.count()

    def get_participants(self, study: Study) -> list[str]:
        return [p.user.username for p in study.participants.select_related("user")]


class StudyListApi(_AdminApi):
    """Studies (admin): list, and create one from explicit tasks or from a corpus's patents."""

    @extend_schema(**paged_schema(StudySerializer, "api_v1_studies_list"))
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.study_list(), request, view=self)
        return paginator.get_paginated_response(StudySerializer(page, many=True).data)

    @extend_schema(request=StudyInputSerializer, responses={201: StudySerializer})
    def post(self, request: Request) -> Response:
        form = StudyInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        common = {key: data[key] for key in ("name", "arms", "participants", "design", "k", "time_limit_s",
                                              "seed", "description")}
        if data.get("tasks_from"):
            study = definition.study_create_from_corpus(
                corpus_name=data["tasks_from"], n_tasks=data["n_tasks"], views=data["views"],
                created_by=request.user, **common,
            )
        else:
            tasks = [definition.TaskSpec(query_figure_ids=t["query_figures"], text=t["text"], gallery_id=t["gallery"],
                                         known_relevant=t["known_relevant"]) for t in data["tasks"]]
            study = definition.study_create(tasks=tasks, created_by=request.user, **common)
        return Response(StudySerializer(study).data, status=status.HTTP_201_CREATED)


class StudyDetailApi(_AdminApi):
    """A study's definition and its summary (per-arm means, 95 % CIs, tests)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        study = get_object_or_404(Study, pk=pk)
        return Response({**StudySerializer(study).data, "summary": selectors.study_summary(study=study)})


class ParticipantsInputSerializer(serializers.Serializer):
    participants = serializers.ListField(child=serializers.CharField(), min_length=1)


class StudyParticipantsApi(_AdminApi):
    """Add participants to a study (each takes the next row of the Latin square)."""

    @extend_schema(request=ParticipantsInputSerializer, responses={201: StudySerializer})
    def post(self, request: Request, pk: int) -> Response:
        study = get_object_or_404(Study, pk=pk)
        form = ParticipantsInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        definition.study_add_participants(study=study, participants=form.validated_data["participants"])
        return Response(StudySerializer(study).data, status=status.HTTP_201_CREATED)


class StudyEventsCsvApi(_AdminApi):
    """Every logged event of the study, oldest first."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        study = get_object_or_404(Study, pk=pk)
        return csv_response(f"study-{study.pk}-events.csv", selectors.EVENT_HEADER,
                            selectors.study_event_rows(study=study))


class StudyOutcomesCsvApi(_AdminApi):
    """One row per participant, task and arm: time to first relevant hit, precision@5/@10, judged."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        study = get_object_or_404(Study, pk=pk)
        rows = ([row[key] for key in selectors.OUTCOME_HEADER] for row in selectors.study_outcomes(study=study))
        return csv_response(f"study-{study.pk}-outcomes.csv", selectors.OUTCOME_HEADER, rows)


class StudyQuestionnairesCsvApi(_AdminApi):
    """Task questionnaires and each participant's SUS answers with the SUS score."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        study = get_object_or_404(Study, pk=pk)
        return csv_response(f"study-{study.pk}-questionnaires.csv", selectors.QUESTIONNAIRE_HEADER,
                            selectors.study_questionnaire_rows(study=study))
