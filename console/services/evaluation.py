"""Evaluation jobs: a corpus's figures as queries through the app's own search
(retrieval.selectors.evaluation.evaluate_search, scored by retrieval.ml's metrics: one
implementation), one job per model, each relevance kind in turn; the reports are stored on the job,
with a 2-D t-SNE map (scikit-learn) of the model's figure vectors for the dashboard.

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

from console.exceptions import ConsoleInputError, JobCancelledError
from console.models import Job
from retrieval import index
from retrieval.models import Corpus, Figure, RetrievalModel
from retrieval.selectors.evaluation import RELEVANCES, SearchEvaluationRequest, evaluate_search

FINISHED = (Job.State.SUCCEEDED, Job.State.FAILED, Job.State.CANCELLED)
MAP_POINTS = 2000


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


def job_evaluate_run(*, job_id: int) -> str:
    """Run an evaluate job; returns its final state. Safe twice: a finished job is left as it is;
    a rerun of an unfinished one evaluates again from the start (it only reads)."""
    job = Job.objects.select_related("corpus", "model").filter(pk=job_id).first()
    if job is None or job.state in FINISHED:
        return job.state if job else "gone"
    if job.corpus is None or job.model is None:
        return _finish(job_id, Job.State.FAILED, message="The corpus or the model has been deleted.")
    started = Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not started:
        return Job.objects.get(pk=job_id).state  # cancelled meanwhile
    relevances = job.options.get("relevances") or ["patent"]
    result = {}
    for number, relevance in enumerate(relevances, start=1):
        request = SearchEvaluationRequest(
            corpus=job.corpus.name, relevance=relevance,
            exclude_same_patent=bool(job.options.get("exclude_same_patent")) and relevance != "patent",
            k=100,
        )

        def progress(done: int, total: int, number: int = number) -> None:
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
