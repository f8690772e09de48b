"""REST API (v1) of the admin console, mounted under /api/v1/: corpora, jobs, models, users.

Admin role only (console.use_console); anonymous requests get 401/403 from authentication,
examiners 403. Thin views: validate, call one service or selector, serialize.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import user_get, user_list, user_named
from accounts.services import (
    user_invite,
    user_password_reset,
    user_sessions_end,
    user_unlock,
    user_update,
    users_invite,
)
from cases.apis import CsvRenderer
from cases.selectors.cases import open_case_counts
from cases.services.cases import cases_reassign_open
from console import serializers as s
from console.models import Job
from console.permissions import CanManageUsers, CanUseConsole
from console.selectors.evaluation import CSV_HEADER, evaluation_csv_rows, evaluation_rows
from console.selectors.jobs import (
    job_get,
    job_list,
    job_progress,
    model_get,
    model_list,
)
from console.services.evaluation import evaluation_start, judgments_evaluation_start
from console.services.jobs import (
    corpus_folder_accept,
    corpus_upload_accept,
    describe_job_start,
    job_cancel,
    job_retry,
)
from console.services.models import (
    console_model_activate,
    console_model_delete,
    console_model_register,
    console_model_rollback,
)
from patentsearch.csv_export import csv_response
from patentsearch.exceptions import ApplicationError
from patentsearch.pagination import Pagination, paged_schema
from patentsearch.parsers import JSONParser
from retrieval.selectors.encoding import model_coverage

PROBLEM_HEADER = ["file", "line", "reason"]


class ConsoleApi(APIView):
    permission_classes = [permissions.IsAuthenticated, CanUseConsole]


def _job(job_id: int) -> Job:
    job = job_get(job_id=job_id)
    if job is None:
        raise Http404("No such job.")
    return job


def job_data(job: Job) -> dict:
    return s.JobSerializer(job_progress(job)).data


class CorpusListApi(ConsoleApi):
    """Upload a corpus .zip (multipart `archive`, `name`), or name a folder under the import root
    (`folder`); answers 202 with the ingest job, which runs on a worker."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request=s.CorpusUploadSerializer, responses={202: s.JobCreatedSerializer})
    def post(self, request: Request) -> Response:
        form = s.CorpusUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data.get("archive"):
            job = corpus_upload_accept(archive=data["archive"], name=data["name"], user_id=request.user.pk)
        else:
            job = corpus_folder_accept(folder=data["folder"], name=data["name"], user_id=request.user.pk)
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)


class JobListApi(ConsoleApi):
    """Every job, newest first, with progress (the jobs page polls this)."""

    @extend_schema(**paged_schema(s.JobSerializer, "api_v1_jobs_list"))
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(job_list(), request, view=self)
        return paginator.get_paginated_response([job_data(job) for job in page])


class JobDetailApi(ConsoleApi):
    """One job: state (queued|running|succeeded|failed|cancelled), done, failed, pending, total,
    problems ({file, line, reason}) and more."""

    @extend_schema(responses=s.JobSerializer)
    def get(self, request: Request, id: int) -> Response:
        return Response(job_data(_job(id)))


class JobCancelApi(ConsoleApi):
    """Cancel a job of any kind that has not finished (queued work of it is skipped)."""

    @extend_schema(request=None, responses=s.JobSerializer)
    def post(self, request: Request, id: int) -> Response:
        return Response(job_data(job_cancel(job=_job(id))))


class JobRetryApi(ConsoleApi):
    """Retry what the job did not finish: failed figures of encode/re-index/describe jobs (and the
    rest of a cancelled one), a whole failed or cancelled evaluate job, or ingest of a folder."""

    @extend_schema(request=None, responses=s.JobSerializer)
    def post(self, request: Request, id: int) -> Response:
        job_retry(job=_job(id))
        return Response(job_data(_job(id)))


class JobProblemsCsvApi(ConsoleApi):
    """The job's problems as CSV: file, line, reason."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request, id: int) -> HttpResponse:
        progress = job_progress(_job(id))
        rows = ([p["file"], p["line"], p["reason"]] for p in progress.problems)
        return csv_response(f"job-{id}-problems.csv", PROBLEM_HEADER, rows)


def _model_row(model: object) -> dict:
    return {"model": model, "coverage": model_coverage(model)}


def _model(model_id: int):  # noqa: ANN202
    model = model_get(model_id=model_id)
    if model is None:
        raise Http404("No such model.")
    return model


class ModelListApi(ConsoleApi):
    """Registered models with coverage; POST registers a checkpoint folder or shipped name and
    queues encoding of the whole catalogue under it (the active model keeps serving)."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses=s.ModelSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = [{"model": m, "coverage": c} for m, c in model_list()]
        return Response(s.ModelSerializer(rows, many=True).data)

    @extend_schema(request=s.ModelInputSerializer, responses={201: s.ModelSerializer})
    def post(self, request: Request) -> Response:
        form = s.ModelInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        model, job = console_model_register(
            spec=form.validated_data["checkpoint"], name=form.validated_data["name"], user_id=request.user.pk
        )
        return Response({**s.ModelSerializer(_model_row(model)).data, "job": job.pk}, status=status.HTTP_201_CREATED)


class ModelDetailApi(ConsoleApi):
    @extend_schema(responses=s.ModelSerializer)
    def get(self, request: Request, id: int) -> Response:
        return Response(s.ModelSerializer(_model_row(_model(id))).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, id: int) -> Response:
        console_model_delete(model=_model(id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModelActivateApi(ConsoleApi):
    """Make the model active (one atomic switch); refused below 100 % coverage unless `force`."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=s.ActivateInputSerializer, responses=s.ActivationSerializer)
    def post(self, request: Request, id: int) -> Response:
        form = s.ActivateInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        activation = console_model_activate(
            model=_model(id), user_id=request.user.pk, force=form.validated_data["force"]
        )
        return Response(s.ActivationSerializer(activation).data)


class ModelRollbackApi(ConsoleApi):
    """From the active model {id} back to the model it replaced."""

    @extend_schema(request=None, responses=s.ActivationSerializer)
    def post(self, request: Request, id: int) -> Response:
        activation = console_model_rollback(model=_model(id), user_id=request.user.pk)
        return Response(s.ActivationSerializer(activation).data)


class EvaluationListApi(ConsoleApi):
    """Stored evaluation results (one row per model run and relevance kind, dated); POST starts
    one evaluate job per model on a corpus, or against the examiners' judgments (`qrels`)."""

    parser_classes = [JSONParser, FormParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        rows = evaluation_rows()
        for row in rows:
            row["date"] = row["date"].isoformat() if row["date"] else None
        return Response(rows)

    @extend_schema(request=s.EvaluationInputSerializer, responses={202: s.EvaluationStartedSerializer})
    def post(self, request: Request) -> Response:
        form = s.EvaluationInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data["qrels"]:
            jobs = judgments_evaluation_start(model_ids=data["models"], user_id=request.user.pk)
            return Response({"jobs": [job.pk for job in jobs]}, status=status.HTTP_202_ACCEPTED)
        jobs = evaluation_start(
            corpus_id=data["corpus"], model_ids=data["models"], relevances=data["relevance"],
            exclude_same_patent=data["exclude_same_patent"], user_id=request.user.pk,
        )
        return Response({"jobs": [job.pk for job in jobs]}, status=status.HTTP_202_ACCEPTED)


class EvaluationCsvApi(ConsoleApi):
    """Every stored evaluation result as CSV (one row per model run and relevance kind)."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request) -> HttpResponse:
        return csv_response("evaluations.csv", CSV_HEADER, evaluation_csv_rows(evaluation_rows()))


class JobReportApi(ConsoleApi):
    """The full stored report of an evaluate job ({relevance: report}) as a JSON download."""

    renderer_classes = [JSONRenderer]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, id: int) -> Response:
        job = _job(id)
        if job.kind != Job.Kind.EVALUATE or job.result is None:
            raise Http404("This job has no evaluation report (yet).")
        response = Response(job.result)
        response["Content-Disposition"] = f'attachment; filename="evaluation-job-{id}.json"'
        return response


class CorpusDescribeApi(ConsoleApi):
    """Describe the corpus's figures with a chosen LLM backend (`backend`: offline, openai,
    transformers with `model_path`; empty: the server's) on queue "llm"; 202 {"job": ID}."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=s.DescribeInputSerializer, responses={202: s.JobCreatedSerializer})
    def post(self, request: Request, id: int) -> Response:
        form = s.DescribeInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = describe_job_start(corpus_id=id, user_id=request.user.pk, **form.validated_data)
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)


# --- users (the console's users page sends the same shapes through the same services) --------


class UsersApi(ConsoleApi):
    """Admins who may manage users (accounts.manage_users)."""

    permission_classes = [*ConsoleApi.permission_classes, CanManageUsers]


def _user(user_id: int) -> User:
    user = user_get(user_id)
    if user is None:
        raise Http404("No such user.")
    return user


class UserListApi(UsersApi):
    """Users by name (filter with ?q=, ?role=, ?state=active|pending|inactive); POST adds one
    with a one-time password, which is in that answer only."""

    @extend_schema(**paged_schema(s.UserSerializer, "api_v1_users_list", filters=s.UserFilterSerializer))
    def get(self, request: Request) -> Response:
        filters = s.UserFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(user_list(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(s.UserSerializer(page, many=True).data)

    @extend_schema(request=s.UserCreateSerializer, responses={201: s.UserCreatedSerializer})
    def post(self, request: Request) -> Response:
        form = s.UserCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user, password = user_invite(**form.validated_data, by=request.user)
        data = {**s.UserSerializer(_user(user.pk)).data, "one_time_password": password}
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class UserDetailApi(UsersApi):
    """One user; PATCH changes the role and/or whether they may sign in (is_active)."""

    @extend_schema(responses=s.UserSerializer)
    def get(self, request: Request, id: int) -> Response:
        return Response(s.UserSerializer(_user(id)).data)

    @extend_schema(request=s.UserPatchSerializer, responses=s.UserSerializer)
    def patch(self, request: Request, id: int) -> Response:
        user = _user(id)
        form = s.UserPatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user_update(user=user, by=request.user, **form.validated_data)
        return Response(s.UserSerializer(_user(id)).data)


class UserPasswordApi(UsersApi):
    """A new one-time password for the user (their sessions end, a lockout is lifted); in this
    answer only."""

    @extend_schema(request=None, responses=s.OneTimePasswordSerializer)
    def post(self, request: Request, id: int) -> Response:
        password = user_password_reset(user=_user(id), by=request.user)
        return Response({"one_time_password": password}, headers={"Cache-Control": "no-store"})


class UserSessionsApi(UsersApi):
    """End every session of the user (a lost device); their password and API token keep working."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, id: int) -> Response:
        user_sessions_end(user=_user(id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserUnlockApi(UsersApi):
    """Lift a login lockout on the user's name, from every address: how many records went."""

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, id: int) -> Response:
        return Response({"removed": user_unlock(user=_user(id), by=request.user)})


class UserCasesApi(UsersApi):
    """Give every open case of the user to another examiner (``{"to": USERNAME}``), all or none:
    the ids of the cases moved."""

    @extend_schema(request=s.CasesToSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, id: int) -> Response:
        form = s.CasesToSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        to = user_named(form.validated_data["to"])
        if to is None:
            raise ApplicationError(f"There is no user named {form.validated_data['to']!r}.")
        moved = cases_reassign_open(examiner=_user(id), to=to, by=request.user)
        return Response({"moved": [case.pk for case in moved]})


class UsersBatchApi(UsersApi):
    """Add several users of one role (``{"role", "users": [{"username", "email"}]}``), all or none:
    each problem is named by the entry's place; 201 with every user and its one-time password,
    in this answer only."""

    @extend_schema(request=s.UsersBatchSerializer, responses={201: s.UsersCreatedSerializer})
    def post(self, request: Request) -> Response:
        form = s.UsersBatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        made = users_invite(users=form.validated_data["users"], role=form.validated_data["role"], by=request.user)
        users = [{**s.UserSerializer(_user(user.pk)).data, "one_time_password": password} for user, password in made]
        return Response({"users": users}, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


#: The columns of users.csv (an audit of who may sign in, with which role).
USERS_CSV_HEADER = ["username", "email", "role", "is_active", "is_operator", "one_time_password_pending",
                    "api_token", "open_cases", "last_login", "date_joined"]


class UsersCsvApi(UsersApi):
    """Every user as CSV, filtered as the list (?q=, ?role=, ?state=): for an audit of who may
    sign in, with which role, and when they last did."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(parameters=[s.UserFilterSerializer], responses={(200, "text/csv"): str})
    def get(self, request: Request) -> HttpResponse:
        filters = s.UserFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        users = list(user_list(**filters.validated_data))
        cases = open_case_counts([u.pk for u in users])
        return csv_response("users.csv", USERS_CSV_HEADER, (
            [u.username, u.email, u.role, _yes(u.is_active), _yes(u.is_superuser), _yes(u.password_change_required),
             _yes(u.has_token), cases.get(u.pk, 0), u.last_login.isoformat() if u.last_login else "",
             u.date_joined.isoformat()]
            for u in users))


def _yes(value: bool) -> str:
    return "yes" if value else "no"
