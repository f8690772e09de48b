"""Pages of the admin console (server-rendered; static/js/console.js polls the API and sends the
actions through it, so pages and API share one code path). Admin role only: anonymous users are
sent to the login page, other roles get the 403 page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views import View

from accounts.models import User
from accounts.roles import MANAGE_USERS, SEARCH
from accounts.selectors import lockouts, user_get, user_history, user_list, user_named
from accounts.services import (
    BATCH_MAX,
    may_change,
    user_active_set,
    user_invite,
    user_password_reset,
    user_role_set,
    user_sessions_end,
    user_unlock,
    users_invite,
)
from cases.selectors.cases import case_examiners, open_case_counts
from cases.services.cases import cases_reassign_open
from console import serializers as cs
from console.models import Job
from console.permissions import can_use_console
from console.plots import map_svg, pr_svg
from console.selectors.evaluation import KS, evaluation_rows, judged_cases, latest_evaluations
from console.selectors.jobs import (
    activations,
    description_samples,
    encoding_by_corpus,
    figure_get,
    job_get,
    job_list,
    job_progress,
    last_activation,
    model_list,
    text_rows_by_corpus,
)
from patentsearch.api import error_messages
from patentsearch.csv_export import csv_lines
from patentsearch.exceptions import ApplicationError
from patentsearch.pages import page_of
from retrieval import inference
from retrieval.models import Corpus, RetrievalModel
from retrieval.selectors.evaluation import RELEVANCES

JOBS_PER_PAGE = 50


class ConsoleView(LoginRequiredMixin, View):
    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated and not can_use_console(request.user):
            return render(request, "403.html", status=403)
        return super().dispatch(request, *args, **kwargs)


class JobListView(ConsoleView):
    def get(self, request: HttpRequest) -> HttpResponse:
        page = page_of(request, job_list(), JOBS_PER_PAGE)
        encoding = [
            {"model": model, "rows": encoding_by_corpus(model=model)}
            for model in RetrievalModel.objects.order_by("-is_active", "name")
        ]
        llm_endpoint, llm_model = inference.describe_endpoint()
        return render(request, "console/jobs.html", {
            "page": page, "jobs": [job_progress(job) for job in page], "encoding": encoding,
            "text_rows": text_rows_by_corpus(),
            "section": "jobs", "corpora": Corpus.objects.order_by("name"),
            "describer": settings.RETRIEVAL_DESCRIBE_BACKEND,
            "llm_endpoint": llm_endpoint, "llm_model": llm_model,
            "describe_model_path": settings.RETRIEVAL_DESCRIBE_MODEL_PATH,
            "import_root": settings.CONSOLE_IMPORT_ROOT,
        })


class JobDetailView(ConsoleView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = job_get(job_id=pk)
        if job is None:
            raise Http404("No such job.")
        samples = description_samples(job) if job.kind == Job.Kind.DESCRIBE else []
        return render(request, "console/job.html", {"p": job_progress(job), "samples": samples, "section": "jobs"})


class UploadView(ConsoleView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "console/upload.html", {
            "max_bytes": settings.CONSOLE_MAX_UPLOAD_BYTES, "import_root": settings.CONSOLE_IMPORT_ROOT,
            "section": "upload",
        })


class ModelListView(ConsoleView):
    def get(self, request: HttpRequest) -> HttpResponse:
        rows = [
            {"model": m, "coverage": c, "forced": activations(model=m).filter(forced=True).exists()}
            for m, c in model_list()
        ]
        last = last_activation()
        return render(request, "console/models.html", {
            "rows": rows, "last": last, "section": "models",
            "reindex_jobs": {j.model_id: j.pk for j in Job.objects.filter(kind=Job.Kind.REINDEX)},
        })


#: What each relevance code means, in words, beside the code on the dashboard.
RELEVANCE_WORDS = {
    "patent": "other figures of the same patent",
    "us_class": "same US design main class, e.g. D14",
    "locarno": "same Locarno class, e.g. 14-04",
    "object": "same object name",
    "judgments": "figures the examiners graded 2 or 3",
}


#: Runs shown per corpus and relevance on the evaluation page (newest first).
EVALUATION_ROWS_SHOWN = 20


class EvaluationView(ConsoleView):
    """The dashboard: start evaluations; stored results side by side per corpus and relevance."""

    def get(self, request: HttpRequest) -> HttpResponse:
        groups: dict[tuple[str, str], list[dict]] = {}
        for row in evaluation_rows():
            row["cells"] = [row["metrics"]["mAP"], *[row["metrics"][f"recall@{k}"] for k in KS],
                            *[row["metrics"][f"mrr@{k}"] for k in KS],
                            *[row["bands"][b].get("mAP") if row["bands"][b].get("queries") else None
                              for b in ("head", "middle", "tail")]]  # an empty band: no number
            groups.setdefault((row["corpus"], row["relevance"]), []).append(row)
        curves = {
            key: mark_safe(pr_svg(
                [(f'{r["model"]} ({r["date"]:%Y-%m-%d %H:%M})' if r["date"] else r["model"],
                  r["pr_curve"].get("recall") or [], r["pr_curve"].get("precision") or [])
                 for r in _latest_per_model(rows)],
                f"Interpolated precision-recall, {key[0]}, relevance {key[1]}",
            ))
            for key, rows in groups.items()
        }
        running = Job.objects.filter(kind=Job.Kind.EVALUATE, state__in=[Job.State.QUEUED, Job.State.RUNNING])
        maps = [
            {"job": job, "svg": mark_safe(map_svg(job.embedding_map or [], f"{job.model.name} on {job.corpus.name}"))}
            for job in latest_evaluations()
        ]
        return render(request, "console/evaluation.html", {
            # Each table shows its newest runs (rows are newest first); the exports hold them all.
            "groups": [{"corpus": c, "relevance": r, "words": RELEVANCE_WORDS.get(r, ""),
                        "rows": rows[:EVALUATION_ROWS_SHOWN], "total": len(rows), "pr": curves[(c, r)]}
                       for (c, r), rows in groups.items()],
            "corpora": Corpus.objects.order_by("name"), "models": RetrievalModel.objects.order_by("name"),
            "relevances": [(r, RELEVANCE_WORDS.get(r, "")) for r in RELEVANCES], "ks": KS,
            "running": running.select_related("corpus", "model"),
            "section": "evaluation", "maps": maps,
            "judged": _judged_summary(),
        })


def _judged_summary() -> dict[str, int] | None:
    topics = judged_cases()
    return {"cases": len(topics), "searches": sum(len(t.searches) for t in topics)} if topics else None


def _latest_per_model(rows: list[dict]) -> list[dict]:
    """The newest run of each model (rows come newest first)."""
    seen: set[str] = set()
    return [r for r in rows if not (r["model"] in seen or seen.add(r["model"]))]


class FigureView(ConsoleView):
    """One figure as the console sees it: image, patent, status and error, texts, vectors."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        figure = figure_get(figure_id=pk)
        if figure is None:
            raise Http404("No such figure.")
        return render(request, "console/figure.html", {"figure": figure, "section": "jobs"})


USERS_PER_PAGE = 50


class UsersConsoleView(ConsoleView):
    """Admins who may manage users (accounts.manage_users) only."""

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated and not request.user.has_perm(MANAGE_USERS):
            return render(request, "403.html", status=403)
        return super().dispatch(request, *args, **kwargs)


class UsersView(UsersConsoleView):
    """Who may sign in, with which role: add a user (a one-time password, shown once), change a
    role, deactivate, reset a password, lift a lockout; the latest changes with who made them.
    The forms are checked by the serializers of /api/v1/users/."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return _users_page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = cs.UserCreateSerializer(data=request.POST.dict())
        if not form.is_valid():
            return _users_page(request, typed=request.POST, errors=error_messages(form), status=400)
        try:
            user, password = user_invite(**form.validated_data, by=request.user)
        except ApplicationError as exc:
            return _users_page(request, typed=request.POST, errors=[exc.message], status=400)
        return _one_time_password(request, user, password, made=True)


def _users_page(request: HttpRequest, *, typed: object = None, errors: list[str] | None = None,
                batch_errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    """The users page: the list as filtered, the forms (with what was typed, after a refusal)."""
    chosen = cs.UserFilterSerializer(data=request.GET)
    filters = chosen.validated_data if chosen.is_valid() else {}
    page = page_of(request, user_list(**filters), USERS_PER_PAGE)
    locked = lockouts([u.username for u in page])
    cases = open_case_counts([u.pk for u in page])
    return render(request, "console/users.html", {
        "page": page,
        "rows": [{"u": u, "locked": locked.get(u.username), "open_cases": cases.get(u.pk, 0),
                  "changeable": may_change(u, request.user),
                  # open cases of someone who can no longer work them: to be given to another examiner
                  "stranded": bool(cases.get(u.pk)) and not (u.is_active and u.has_perm(SEARCH))} for u in page],
        "typed": typed or {}, "errors": errors or [], "batch_errors": batch_errors or [],
        "batch_max": BATCH_MAX, "filters": filters, "filtered": any(filters.values()),
        "csv_query": urlencode({name: value for name, value in filters.items() if value}),
        "filter_errors": error_messages(chosen) if chosen.errors else [], "states": cs.USER_STATES,
        "roles": User.Role.choices, "history": user_history(limit=20), "section": "users",
        "case_examiners": case_examiners() if any(cases.values()) else [],
        "failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": round(settings.AXES_COOLOFF_TIME * 60),
    }, status=status)


#: The columns of the one-time passwords' CSV, made in the batch's answer page.
ONE_TIME_PASSWORDS_HEADER = ["username", "email", "role", "one_time_password"]


class UsersBatchView(UsersConsoleView):
    """Several users of one role at once (a study's participants): one per line, all or none;
    the answer lists each with their one-time password, shown once."""

    def post(self, request: HttpRequest) -> HttpResponse:
        lines = cs.user_lines(request.POST.get("users", ""))
        form = cs.UsersBatchSerializer(data={"role": request.POST.get("role", ""),
                                              "users": [entry for _, entry in lines]})
        try:
            if not form.is_valid():
                raise ApplicationError("", {"fields": form.errors})
            made = users_invite(users=form.validated_data["users"], role=form.validated_data["role"],
                                by=request.user)
        except ApplicationError as exc:
            return _users_page(request, typed={"batch": request.POST.get("users", ""),
                                               "batch_role": request.POST.get("role", "")},
                               batch_errors=_batch_problems(form, exc, [n for n, _ in lines]), status=400)
        csv = "".join(csv_lines(ONE_TIME_PASSWORDS_HEADER, [
            (user.username, user.email, user.role, password) for user, password in made]))
        return _shown_once(request, {"made_many": [{"user": user, "password": password} for user, password in made],
                                     "csv": csv})


def _batch_problems(form: cs.UsersBatchSerializer, exc: ApplicationError, line_numbers: list[int]) -> list[str]:
    """A refused batch's problems as the page's lines, each entry named by its line in the box."""
    def line(entry: int) -> str:  # 0-based entry
        return f"Line {line_numbers[entry]}" if entry < len(line_numbers) else f"Entry {entry + 1}"

    if exc.extra.get("problems"):
        return [f"{line(p['entry'] - 1)}: {p['reason']}." for p in exc.extra["problems"]]
    errors = exc.extra.get("fields", {})
    lines: list[str] = []
    users = errors.get("users")
    if isinstance(users, dict):  # {entry: {field: [messages]}}
        for entry, fields in sorted(users.items()):
            for field, messages_ in fields.items():
                lines += [f"{line(entry)}: {field.capitalize()}: {m}" for m in messages_]
    elif users:
        lines += [f"Users: {m}" for m in users]
    lines += [f"Role: {m}" for m in errors.get("role", [])]
    return lines or [exc.message]


#: What each action on a user does, by the last part of its address.
USER_ACTIONS = ("role", "deactivate", "activate", "password", "unlock", "cases", "sessions")


class UserActionView(UsersConsoleView):
    def post(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        user = user_get(pk)
        if user is None or action not in USER_ACTIONS:
            raise Http404("No such user or action.")
        try:
            if action == "role":
                form = cs.UserRoleSerializer(data=request.POST.dict())
                if not form.is_valid():
                    raise ApplicationError("; ".join(error_messages(form)))
                user_role_set(user=user, role=form.validated_data["role"], by=request.user)
                messages.success(request, f"{user.username} is now {user.get_role_display()}.")
            elif action in ("deactivate", "activate"):
                user_active_set(user=user, active=action == "activate", by=request.user)
                messages.success(request, f"{user.username} can sign in again." if user.is_active else
                                 f"{user.username} can no longer sign in; their cases and judgments stay.")
            elif action == "cases":
                form = cs.CasesToSerializer(data=request.POST.dict())
                to = user_named(form.validated_data["to"]) if form.is_valid() else None
                if to is None:
                    raise ApplicationError("Choose the examiner to give the cases to.")
                moved = cases_reassign_open(examiner=user, to=to, by=request.user)
                messages.success(request, f"{len(moved)} open case{'s' if len(moved) != 1 else ''} of {user.username} "
                                          f"{'are' if len(moved) != 1 else 'is'} now {to.username}'s.")
            elif action == "sessions":
                user_sessions_end(user=user, by=request.user)
                messages.success(request, f"{user.username} is signed out everywhere; their password and API "
                                          "token still work.")
            elif action == "unlock":
                removed = user_unlock(user=user, by=request.user)
                messages.success(request, f"{user.username} may sign in again from every address." if removed
                                 else f"{user.username} was not locked out.")
            else:
                return _one_time_password(request, user, user_password_reset(user=user, by=request.user), made=False)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(_back_to_users(request))


def _one_time_password(request: HttpRequest, user: User, password: str, *, made: bool) -> HttpResponse:
    return _shown_once(request, {"target": user, "password": password, "made": made})


def _shown_once(request: HttpRequest, context: dict) -> HttpResponse:
    """The one time one-time passwords are shown: in the answer to the request that made them,
    never stored in a message or the session, and not cached."""
    response = render(request, "console/user_password.html", {**context, "section": "users"})
    add_never_cache_headers(response)
    return response


def _back_to_users(request: HttpRequest) -> str:
    """The users page the action was sent from (its filters and page), else the first."""
    target = request.POST.get("back", "")
    base = reverse("console:users")
    return target if target.startswith(base + "?") or target == base else base
