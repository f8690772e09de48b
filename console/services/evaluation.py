"""Evaluation jobs: a corpus's figures as queries through the app's own search
(retrieval.selectors.evaluation.evaluate_search, scored by retrieval.ml's metrics: one
implementation), one job per model, each relevance kind in turn; the reports are stored on the job,
with a 2-D t-SNE map (scikit-learn) of the model's figure vectors for the dashboard.

Against the examiners' judgments (docs/evaluation.md, "Judgments as qrels"): every original
query logged in a case with graded figures is run again under each model (cases'
case_search_replay: its drawings, crops, text, filters, cutoff and class focus, nothing logged) and the top
100 are scored against that case's grades: grade >= cases.grades.RELEVANT_MIN_GRADE is
relevant, unjudged figures are not; the same metrics through retrieval.inference.ranking_metrics.

Failure policy: a corpus or option the evaluation cannot use (ValueError from evaluate_search)
ends the job `failed` with the reason; transient database errors are retried by the task (the
job stays running); any other error ends it `failed` with the error and is raised for the log.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from sklearn.manifold import TSNE

from cases.grades import RELEVANT_MIN_GRADE
from cases.services.searches import case_search_left_out, case_search_replay
from console.exceptions import ConsoleInputError, JobCancelledError
from console.models import Job
from console.selectors.evaluation import JUDGMENTS_CORPUS, JUDGMENTS_RELEVANCE, judged_cases
from patentsearch.exceptions import ApplicationError
from retrieval import index, inference
from retrieval.models import Corpus, Figure, RetrievalModel
from retrieval.selectors.encoding import model_coverage
from retrieval.selectors.evaluation import RELEVANCES, SearchEvaluationRequest, evaluate_search

FINISHED = (Job.State.SUCCEEDED, Job.State.FAILED, Job.State.CANCELLED)
MAP_POINTS = 2000
JUDGMENTS_K = 100


def evaluation_start(
    *, corpus_id: int, model_ids: Sequence[int], relevances: Sequence[str], exclude_same_patent: bool,
    user_id: int | None,
) -> list[Job]:
    """Queue one evaluate job per model (on commit); checks everything first."""
    from console.tasks import job_evaluate_task

    corpus = Corpus.objects.filter(pk=corpus_id).first()
    if corpus is None:
        raise ConsoleInputError("There is no such corpus.", {"corpus": corpus_id})
    models = list(RetrievalModel.objects.filter(pk__in=model_ids).order_by("pk"))
    if not models or len(models) != len(set(model_ids)):
        raise ConsoleInputError("Choose one or more registered models.", {"models": list(model_ids)})
    unknown = sorted(set(relevances) - set(RELEVANCES))
    if not relevances or unknown:
        raise ConsoleInputError(f"Relevance must be among {', '.join(RELEVANCES)}.", {"relevance": list(relevances)})
    _coverage_check(models, corpus)
    options = {"relevances": [r for r in RELEVANCES if r in relevances], "exclude_same_patent": exclude_same_patent}
    with transaction.atomic():
        jobs = [
            Job.objects.create(kind=Job.Kind.EVALUATE, corpus=corpus, model=model, created_by_id=user_id,
                               options=options)
            for model in models
        ]
        for job in jobs:
            transaction.on_commit(lambda job_id=job.pk: job_evaluate_task.delay(job_id))
    return jobs


def _coverage_check(models: Sequence[RetrievalModel], corpus: Corpus | None) -> None:
    """Refuse a model still encoding (the corpus's ready figures, or the catalogue's): a figure
    without its vector is a query that cannot run and a relevant figure no ranking can hold, so
    the numbers would be zeros that look like results."""
    for model in models:
        coverage = model_coverage(model, corpus)
        if not coverage.complete:
            where = f"corpus {corpus.name!r}" if corpus is not None else "the catalogue"
            raise ConsoleInputError(
                f"Model {model.name!r} has {coverage.said()} of {where}: evaluate it once its encoding is done "
                "(the Models page shows its coverage); the missing figures would count as misses.",
                {"model": model.pk, "encoded": coverage.encoded, "total": coverage.total},
            )


def judgments_evaluation_start(*, model_ids: Sequence[int], user_id: int | None) -> list[Job]:
    """Queue one evaluate job per model against the examiners' judgments (on commit)."""
    from console.tasks import job_evaluate_task

    models = list(RetrievalModel.objects.filter(pk__in=model_ids).order_by("pk"))
    if not models or len(models) != len(set(model_ids)):
        raise ConsoleInputError("Choose one or more registered models.", {"models": list(model_ids)})
    if not judged_cases():
        raise ConsoleInputError(
            "No case has a figure graded relevant (grade 2 or 3) and a logged query yet: examiners "
            "grade hits in their cases first.", {"qrels": JUDGMENTS_RELEVANCE},
        )
    _coverage_check(models, None)
    with transaction.atomic():
        jobs = [Job.objects.create(kind=Job.Kind.EVALUATE, model=model, created_by_id=user_id,
                                   options={"qrels": JUDGMENTS_RELEVANCE, "k": JUDGMENTS_K})
                for model in models]
        for job in jobs:
            transaction.on_commit(lambda job_id=job.pk: job_evaluate_task.delay(job_id))
    return jobs


def job_evaluate_run(*, job_id: int) -> str:
    """Run an evaluate job; returns its final state. Safe twice: a finished job is left as it is;
    a rerun of an unfinished one evaluates again from the start (it only reads)."""
    job = Job.objects.select_related("corpus", "model").filter(pk=job_id).first()
    if job is None or job.state in FINISHED:
        return job.state if job else "gone"
    judgments = job.options.get("qrels") == JUDGMENTS_RELEVANCE
    if job.model is None or (job.corpus is None and not judgments):
        return _finish(job_id, Job.State.FAILED, message="The corpus or the model has been deleted.")
    started = Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not started:
        return Job.objects.get(pk=job_id).state  # cancelled meanwhile
    if judgments:
        return _run_judgments(job)
    relevances = job.options.get("relevances") or ["patent"]
    result = {}
    for number, relevance in enumerate(relevances, start=1):
        request = SearchEvaluationRequest(
            corpus=job.corpus.name, relevance=relevance,
            exclude_same_patent=bool(job.options.get("exclude_same_patent")) and relevance != "patent",
            k=100,
        )

        def progress(done: int, total: int, number: int = number, relevance: str = relevance) -> None:
            if done % 10 == 0 or done == total:
                Job.objects.filter(pk=job_id).exclude(state=Job.State.CANCELLED).update(
                    done=done, total=total, pending=total - done, updated_at=timezone.now(),  # heartbeat
                    message=f"relevance {relevance} ({number} of {len(relevances)})",
                )
                if Job.objects.filter(pk=job_id, state=Job.State.CANCELLED).exists():
                    raise JobCancelledError()

        try:
            result[relevance] = evaluate_search(request, progress=progress, model=job.model)
        except (OperationalError, InterfaceError):
            raise
        except JobCancelledError:
            return Job.State.CANCELLED
        except ValueError as exc:
            return _finish(job_id, Job.State.FAILED, message=str(exc))
        except Exception as exc:
            _finish(job_id, Job.State.FAILED, message=f"Evaluation stopped by an unexpected error: {exc}")
            raise
    return _finish(job_id, Job.State.SUCCEEDED, result=result, pending=0,
                   embedding_map=embedding_map(corpus_id=job.corpus_id, model=job.model),
                   message=f"{len(relevances)} relevance kind(s) evaluated")


def _run_judgments(job: Job) -> str:
    topics = judged_cases()
    queries = [(topic, search) for topic in topics for search in topic.searches]
    relevant, n_relevant, rows, bands, skipped = [], [], [], [], 0
    for number, (topic, search) in enumerate(queries, start=1):
        try:
            result = case_search_replay(search=search, model=job.model, k=JUDGMENTS_K)
        except (OperationalError, InterfaceError):
            raise
        except ApplicationError:
            skipped += 1  # e.g. a "more like this" figure without a vector under this model
            continue
        except Exception as exc:
            _finish(job.pk, Job.State.FAILED, message=f"Evaluation stopped by an unexpected error: {exc}")
            raise
        relevant.append([topic.grades.get(hit.figure.pk, 0) >= RELEVANT_MIN_GRADE for hit in result.hits])
        # a figure the search never shows (a "more like this" seed) cannot be found: not counted
        unreachable = sum(topic.grades.get(f, 0) >= RELEVANT_MIN_GRADE for f in case_search_left_out(search))
        n_relevant.append(topic.relevant - unreachable)
        rows.append(len(bands))
        bands.append(topic.case.locarno_class)
        if number % 5 == 0 or number == len(queries):
            Job.objects.filter(pk=job.pk).exclude(state=Job.State.CANCELLED).update(
                done=number, total=len(queries), pending=len(queries) - number, updated_at=timezone.now(),
                message=f"judged cases: query {number} of {len(queries)}",
            )
            if Job.objects.filter(pk=job.pk, state=Job.State.CANCELLED).exists():
                return Job.State.CANCELLED
    report = dict(inference.ranking_metrics(relevant, n_relevant, rows, bands, skipped_no_label=skipped))
    report.update({
        "corpus": JUDGMENTS_CORPUS, "model": {"name": job.model.name, "version": job.model.version},
        "options": {"relevance": JUDGMENTS_RELEVANCE, "relevant_min_grade": int(RELEVANT_MIN_GRADE),
                    "k": JUDGMENTS_K, "exclude_same_patent": False},
        "cases": len({topic.case.pk for topic, _ in queries}), "searches": len(queries),
        "judged_figures": sum(len(topic.grades) for topic in topics),
    })
    return _finish(job.pk, Job.State.SUCCEEDED, result={JUDGMENTS_RELEVANCE: report}, pending=0,
                   message=f"{len(queries)} logged queries of {report['cases']} judged case(s) evaluated")


def embedding_map(*, corpus_id: int, model: RetrievalModel) -> list[list[object]]:
    """A 2-D t-SNE (scikit-learn) of the corpus's figure vectors under the model, with each
    figure's US main class (else Locarno class) for colour; at most MAP_POINTS figures."""
    figures = list(
        Figure.objects.filter(corpus_id=corpus_id, status=Figure.Status.READY, is_front_page=False)
        .select_related("patent").order_by("pk")[:MAP_POINTS]
    )
    vectors = index.embeddings_for(model, [f.pk for f in figures])
    figures = [f for f in figures if f.pk in vectors]
    if len(figures) < 3:
        return []
    data = np.stack([vectors[f.pk] for f in figures]).astype(np.float32)
    perplexity = float(min(30, max(2, (len(figures) - 1) // 3)))
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0).fit_transform(data)
    return [
        [round(float(x), 3), round(float(y), 3), f.patent.us_class_main or f.patent.locarno_class or "?"]
        for f, (x, y) in zip(figures, points, strict=True)
    ]


def _finish(job_id: int, state: str, **fields: object) -> str:
    # a cancel that arrived after the last progress check wins
    Job.objects.filter(pk=job_id).exclude(state=Job.State.CANCELLED).update(
        state=state, finished_at=timezone.now(), updated_at=timezone.now(), **fields
    )
    return Job.objects.get(pk=job_id).state
