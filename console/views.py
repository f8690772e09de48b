"""Pages of the admin console (server-rendered; static/js/console.js polls the API and sends the
actions through it, so pages and API share one code path). Admin role only: anonymous users are
sent to the login page, other roles get the 403 page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views import View

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
