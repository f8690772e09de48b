"""Reads of the console: jobs with their progress, encoding progress and model coverage.

Ingest jobs carry their own counts. Encode and re-index jobs are measured from the data when read:
total = figures in scope (the job's corpus, or the catalogue), done = those with a vector under the
job's model, failed = figures whose image could not be decoded, pending = the rest; pending
figures are split into waiting (queued recently) and lost (never queued, or long ago: the sweep
queues them again) by retrieval.selectors.encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.utils import timezone

from console.models import Job, ModelActivation
from retrieval.index import TextRowCounts
from retrieval.models import Corpus, Figure, FigureEmbedding, FigureText, RetrievalModel
from retrieval.selectors.corpora import EncodingProgress, corpus_encoding_progress
from retrieval.selectors.descriptions import DESCRIBE_ERROR_PREFIX, figures_describe_progress
from retrieval.selectors.encoding import (
    Coverage,
    figures_lost,
    figures_without_vector,
    model_coverage,
)
from retrieval.selectors.search_text import search_texts_by_corpus

MEASURED_KINDS = (Job.Kind.ENCODE, Job.Kind.REINDEX)
FAILED_FIGURES_SHOWN = 500
INGEST_UNDONE = (Job.State.FAILED, Job.State.CANCELLED)  # an ingest that ended so imported nothing


@dataclass
class JobProgress:
    job: Job
    state: str
    done: int
    failed: int
    pending: int
    total: int
    waiting: int = 0
    lost: int = 0
    rate_per_s: float | None = None
    eta_s: float | None = None
    problems: list[dict] = field(default_factory=list)
    failed_figures: list[dict] = field(default_factory=list)  # encoding jobs: id, source_file, error

    @property
    def percent(self) -> int:
        if not self.total:  # nothing counted yet (queued), or nothing to do
            return 100 if self.state == Job.State.SUCCEEDED else 0
        return min(100, int(100 * (self.done + self.failed) / self.total))

    @property
    def refused(self) -> bool:
        """An ingest whose corpus was refused (bad rows, a broken or unsafe archive): nothing was
        imported, and its problems, not its counts, say what happened."""
        return self.job.kind == Job.Kind.INGEST and self.state == Job.State.FAILED and bool(self.problems)

    @property
    def nothing_imported(self) -> bool:
        """An ingest that failed (refused, or stopped by an error or a dead worker) or was
        cancelled. Ingest is all or nothing, so there is no progress to show. (A cancel that comes
        after the corpus is written is too late: that job succeeds, see job_ingest_run.)"""
        return self.job.kind == Job.Kind.INGEST and self.state in INGEST_UNDONE

    @property
    def summary(self) -> str:
        """The job's progress line, the one wording of the pages, the API and the polling script.
        A failed ingest imported nothing (it is all or nothing), so it says that instead of counts:
        refused with its problems, stopped (an unexpected error, a worker that died; the
        message says which) or cancelled."""
        if self.refused:
            n = len(self.problems)
            return f"Refused: {n} problem{'' if n == 1 else 's'} · nothing imported"
        if self.nothing_imported:
            return f"{'Cancelled' if self.state == Job.State.CANCELLED else 'Stopped'} · nothing imported"
        return f"{self.done} done · {self.failed} failed · {self.pending} pending of {self.total}"


def job_list() -> QuerySet[Job]:
    return Job.objects.select_related("corpus", "model", "created_by").order_by("-created_at", "-id")


def job_get(*, job_id: int) -> Job | None:
    return job_list().filter(pk=job_id).first()


def job_progress(job: Job) -> JobProgress:
    if job.kind in MEASURED_KINDS and job.model_id is not None:
        progress = _measured(job)
    elif job.kind == Job.Kind.DESCRIBE and job.corpus_id is not None:
        progress = _described(job)
    elif job.kind == Job.Kind.INGEST and job.state in INGEST_UNDONE:
        # all or nothing: the rows it had checked are not imported, and none are waiting
        progress = JobProgress(job, job.state, 0, job.failed, 0, job.total, problems=list(job.problems or []))
    else:
        progress = JobProgress(job, job.state, job.done, job.failed, job.pending, job.total,
                               problems=list(job.problems or []))
    _rate(progress)
    return progress


def _measured(job: Job) -> JobProgress:
    # What is still missing is counted first: the worker keeps encoding between these queries,
    # and counting the vectors afterwards means a job that reads "succeeded" (nothing missing)
    # also shows every vector, never a count taken before the last batch landed.
    missing = figures_without_vector(model=job.model)
    lost = figures_lost(model=job.model)
    if job.corpus_id:
        missing, lost = missing.filter(corpus_id=job.corpus_id), lost.filter(corpus_id=job.corpus_id)
    pending, lost_count = missing.count(), lost.count()
    figures = Figure.objects.all()
    if job.corpus_id:
        figures = figures.filter(corpus_id=job.corpus_id)
        counts = corpus_encoding_progress(corpus_id=job.corpus_id, model=job.model)
    else:
        counts = EncodingProgress(
            total=figures.count(), failed=figures.filter(status=Figure.Status.FAILED).count(),
            encoded=FigureEmbedding.objects.filter(model_id=job.model_id).count(),
        )
    state = job.state
    if state not in (Job.State.CANCELLED,):
        state = Job.State.SUCCEEDED if pending == 0 else Job.State.RUNNING
    failed = list(figures.filter(status=Figure.Status.FAILED).order_by("pk")
                  .values("id", "source_file", "error")[:FAILED_FIGURES_SHOWN])
    problems = [{"file": f["source_file"], "line": None, "reason": f["error"]} for f in failed]
    return JobProgress(job, state, counts.encoded, counts.failed, pending, counts.total,
                       waiting=pending - lost_count, lost=lost_count, problems=problems,
                       failed_figures=failed)


def _described(job: Job) -> JobProgress:
    source = job.options.get("source", "")
    ids = list(Figure.objects.filter(corpus_id=job.corpus_id, status=Figure.Status.READY).values_list("pk", flat=True))
    counts = figures_describe_progress(figure_ids=ids, source=source)
    pending = max(counts.total - counts.described - counts.failed, 0)
    state = job.state if job.state == Job.State.CANCELLED else (
        Job.State.SUCCEEDED if counts.done else Job.State.RUNNING
    )
    failed = list(Figure.objects.filter(pk__in=ids, error__startswith=DESCRIBE_ERROR_PREFIX)
                  .order_by("pk").values("id", "source_file", "error")[:FAILED_FIGURES_SHOWN])
    problems = [{"file": f["source_file"], "line": None, "reason": f["error"]} for f in failed]
    return JobProgress(job, state, counts.described, counts.failed, pending, counts.total,
                       problems=problems, failed_figures=failed)


def description_samples(job: Job, limit: int = 12) -> list[FigureText]:
    """Some descriptions the describe job's backend wrote for its corpus, newest first."""
    return list(
        FigureText.objects.filter(figure__corpus_id=job.corpus_id, kind=FigureText.Kind.DESCRIPTION,
                                  source=job.options.get("source", ""))
        .select_related("figure").order_by("-id")[:limit]
    )


def _rate(progress: JobProgress) -> None:
    job = progress.job
    if not job.started_at or progress.state != Job.State.RUNNING or not progress.done:
        return
    elapsed = (timezone.now() - job.started_at).total_seconds()
    if elapsed <= 0:
        return
    progress.rate_per_s = progress.done / elapsed
    progress.eta_s = progress.pending / progress.rate_per_s if progress.rate_per_s else None


def model_list() -> list[tuple[RetrievalModel, Coverage]]:
    return [(m, model_coverage(m)) for m in RetrievalModel.objects.order_by("-is_active", "-created_at")]


def model_get(*, model_id: int) -> RetrievalModel | None:
    return RetrievalModel.objects.filter(pk=model_id).first()


def last_activation() -> ModelActivation | None:
    return ModelActivation.objects.select_related("model", "previous").first()


def activations(*, model: RetrievalModel) -> QuerySet[ModelActivation]:
    return ModelActivation.objects.filter(model=model)


def encoding_by_corpus(*, model: RetrievalModel) -> list[dict[str, object]]:
    """Per corpus under a model: figures, encoded, failed, waiting, lost."""
    missing = figures_without_vector(model=model).order_by().values("corpus_id").annotate(n=Count("id"))
    lost = figures_lost(model=model).order_by().values("corpus_id").annotate(n=Count("id"))
    missing_by = {r["corpus_id"]: r["n"] for r in missing}
    lost_by = {r["corpus_id"]: r["n"] for r in lost}
    rows = []
    for corpus in Corpus.objects.order_by("name"):
        counts = corpus_encoding_progress(corpus_id=corpus.pk, model=model)
        lost_n = lost_by.get(corpus.pk, 0)
        rows.append({
            "corpus": corpus, "figures": counts.total, "encoded": counts.encoded, "failed": counts.failed,
            "waiting": missing_by.get(corpus.pk, 0) - lost_n, "lost": lost_n,
        })
    return rows


def text_rows_by_corpus() -> list[dict[str, object]]:
    """Per corpus: its figures' text rows (what a text query searches), current, missing or
    outdated, and of the last two waiting in a queue or lost."""
    counts = search_texts_by_corpus()
    empty = TextRowCounts(figures=0, current=0, missing=0, outdated=0, waiting=0, lost=0)
    return [{"corpus": corpus, "counts": counts.get(corpus.pk, empty)} for corpus in Corpus.objects.order_by("name")]


def figure_get(*, figure_id: int) -> Figure | None:
    """A figure with its patent, corpus, texts and the models it has a vector under."""
    return (Figure.objects.select_related("patent", "corpus")
            .prefetch_related("texts", "embeddings__model").filter(pk=figure_id).first())


def figures_held_by_cancelled_jobs(work: str, model_id: int | None, figure_ids: list[int]) -> set[int]:
    """The gate the console registers with retrieval.services.work_gates: a figure is held when
    the newest job covering it (encode/re-index jobs of that model for ``encode``, describe jobs
    for ``describe``; a job covers its corpus, or every corpus when it has none) was cancelled,
    and the figure existed when it was (figures ingested later are new work)."""
    if not figure_ids:
        return set()
    if work == "encode":
        jobs = Job.objects.filter(kind__in=MEASURED_KINDS, model_id=model_id)
    elif work == "describe":
        jobs = Job.objects.filter(kind=Job.Kind.DESCRIBE)
    else:
        return set()
    newest = list(jobs.order_by("-created_at", "-id").values("corpus_id", "state", "finished_at")[:200])
    if not any(j["state"] == Job.State.CANCELLED for j in newest):
        return set()
    held = set()
    for figure in Figure.objects.filter(pk__in=figure_ids).values("pk", "corpus_id", "created_at"):
        job = next((j for j in newest if j["corpus_id"] in (None, figure["corpus_id"])), None)
        if (job is not None and job["state"] == Job.State.CANCELLED
                and (job["finished_at"] is None or figure["created_at"] <= job["finished_at"])):
            held.add(figure["pk"])
    return held
