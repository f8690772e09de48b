"""Jobs of the console: accept a corpus (uploaded archive or server folder), run its ingest on
queue "default", cancel and retry any job, and fail jobs whose worker stopped.

Failure policy of an ingest job: a refused corpus (CorpusValidationError, a broken or unsafe
archive) is the admin's to fix, so the job ends `failed` with every problem as {file, line,
reason} and nothing written; an unexpected error ends it `failed` with the error as its message
(and is raised so the worker logs it). Transient database or broker errors are retried by the
task. An uploaded archive is deleted once its job has finished, whatever the outcome.

No job stays `running` for ever: a task that gives up (its retries spent on a database that
stays away) ends its job `failed` through the task's on_failure (console.tasks), and the beat
sweep (jobs_sweep) fails ingest and evaluate jobs whose heartbeat (`updated_at`, written with
every progress step) is older than CONSOLE_JOB_STALE_SECONDS: their worker died or lost the
database. Encode, re-index and describe jobs are measured from the data (their figures are
re-queued by retrieval's encoding sweep), so they never hang on a dead worker.

Cancel: ingest and evaluate jobs unwind at their next progress check; encode, re-index and
describe jobs are marked `cancelled` and the batches still queued skip their figures (the gate
console.selectors.jobs.figures_held_by_cancelled_jobs, registered with
retrieval.services.work_gates). Retry: encode/re-index/describe jobs queue their failed (and,
when cancelled, their unfinished) figures again; evaluate jobs and ingest jobs of a server
folder run again; an uploaded archive is gone once its job ended, so it is uploaded again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from console.exceptions import ConsoleInputError, JobCancelledError
from console.models import Job
from console.selectors.jobs import job_progress
from retrieval import inference
from retrieval.exceptions import (
    CorpusValidationError,
    DescriberNotConfiguredError,
    InvalidArchiveError,
)
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Corpus, Figure
from retrieval.selectors.encoding import figures_without_vector
from retrieval.services.describe import figures_describe_missing
from retrieval.services.encoding import figures_encode_enqueue, figures_reencode
from retrieval.services.models import model_ensure_active

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, ConnectionError)
PROGRESS_EVERY = 25  # rows between progress writes (and checks for a cancel)
FINISHED = (Job.State.SUCCEEDED, Job.State.FAILED, Job.State.CANCELLED)


def corpus_upload_accept(*, archive: UploadedFile, name: str, user_id: int | None) -> Job:
    """Keep an uploaded .zip under CONSOLE_UPLOAD_DIR and queue its ingest job."""
    if archive.size is not None and archive.size > settings.CONSOLE_MAX_UPLOAD_BYTES:
        raise ConsoleInputError(
            f"The archive is {archive.size:,} bytes; the limit is {settings.CONSOLE_MAX_UPLOAD_BYTES:,}.",
            {"limit_bytes": settings.CONSOLE_MAX_UPLOAD_BYTES},
        )
    if not (archive.name or "").lower().endswith(".zip"):
        raise ConsoleInputError("A corpus upload must be a .zip of a corpus folder.", {"file": archive.name})
    # a folder of its own keeps the archive's name, so a refused archive's problems name the file
    # the admin chose (not a random one); the name loses any path and characters a file name should not have
    folder = Path(settings.CONSOLE_UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    target = folder / ((re.sub(r"[^\w.() -]", "_", Path(archive.name).stem).strip(" .")[:100] or "corpus") + ".zip")
    _save_upload(archive, target)
    name = name.strip() or Path(archive.name).stem
    try:
        return _ingest_job_create(source=target, is_upload=True, name=name, user_id=user_id)
    except BaseException:
        _upload_remove(target)
        raise


def _upload_remove(path: Path) -> None:
    """Delete an uploaded archive, and the folder it was kept in (older uploads lie in the upload
    folder itself)."""
    path.unlink(missing_ok=True)
    if path.parent.resolve().parent == Path(settings.CONSOLE_UPLOAD_DIR).resolve():  # only an upload's own folder
        shutil.rmtree(path.parent, ignore_errors=True)


def corpus_folder_accept(*, folder: str, name: str, user_id: int | None) -> Job:
    """Queue the ingest of a corpus folder (or .zip) that lies under CONSOLE_IMPORT_ROOT."""
    path = server_path_check(folder)
    return _ingest_job_create(source=path, is_upload=False, name=name.strip() or path.stem, user_id=user_id)


def server_path_check(folder: str) -> Path:
    """The folder, resolved, if it is under the import root; anything else is refused."""
    root = Path(settings.CONSOLE_IMPORT_ROOT).resolve()
    raw = Path(folder.strip()).expanduser()
    path = (raw if raw.is_absolute() else root / raw).resolve()
    if not folder.strip() or not path.is_relative_to(root) or path == root:
        raise ConsoleInputError(
            f"Only folders under the import root {root} can be added.", {"folder": folder, "root": str(root)}
        )
    try:
        exists = path.exists()
    except OSError:  # e.g. a name longer than the file system allows: there is no such folder either
        exists = False
    if not exists:
        raise ConsoleInputError(f"There is no folder or file {path}.", {"folder": folder})
    return path


def _save_upload(archive: UploadedFile, target: Path) -> None:
    temporary = getattr(archive, "temporary_file_path", None)
    if temporary is not None:  # streamed to disk by TemporaryFileUploadHandler: move it (a rename
        shutil.move(temporary(), target)  # on one disk); Django's cleanup allows a moved file
        return
    with open(target, "wb") as out:
        for chunk in archive.chunks():
            out.write(chunk)


def _ingest_job_create(*, source: Path, is_upload: bool, name: str, user_id: int | None) -> Job:
    from console.tasks import job_ingest_task

    if not name:
        raise ConsoleInputError("Give the corpus a name.")
    if len(name) > Corpus._meta.get_field("name").max_length:
        raise ConsoleInputError("The corpus name is too long (at most 200 characters).", {"name": name})
    with transaction.atomic():
        job = Job.objects.create(
            kind=Job.Kind.INGEST, corpus_name=name, created_by_id=user_id,
            source=str(source), source_is_upload=is_upload,
        )
        transaction.on_commit(lambda: job_ingest_task.delay(job.pk))
    return job


def job_ingest_run(*, job_id: int) -> str:
    """Run an ingest job; returns its final state. Safe twice: a finished job is left as it is,
    and ingest itself skips figures already stored (a rerun after a lost acknowledgement adds
    nothing)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.state in FINISHED:
        return job.state if job else "gone"
    started = Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    if not started:
        return Job.objects.get(pk=job_id).state  # cancelled meanwhile
    try:
        result = corpus_ingest(
            path=Path(job.source), name=job.corpus_name, user_id=job.created_by_id,
            progress=_progress_writer(job_id),
        )
    except CorpusValidationError as exc:
        problems = [_problem(*p.location(), p.reason) for p in exc.problems]
        return _finish(job, Job.State.FAILED, message=exc.message, problems=problems, failed=len(problems))
    except InvalidArchiveError as exc:
        return _finish(job, Job.State.FAILED, message=exc.message,
                       problems=[_problem(Path(job.source).name, None, exc.message)], failed=1)
    except JobCancelledError:
        return _finish(job, Job.State.CANCELLED, message="Cancelled by an admin; nothing was imported.")
    except TRANSIENT:
        raise  # the task retries; the job stays running
    except Exception as exc:
        _finish(job, Job.State.FAILED, message=f"Ingest stopped by an unexpected error: {exc}")
        raise
    # the corpus is written: its encode job exists by the time anyone sees the ingest succeed. A
    # cancel that came after the last progress check is too late to undo the write, so the job
    # says what happened (succeeded), not "cancelled" over a corpus that is there.
    late = " The cancel came after the corpus was written, too late to stop it." if Job.objects.filter(
        pk=job.pk, state=Job.State.CANCELLED).exists() else ""
    with transaction.atomic():
        _encode_job_create(corpus_id=result.corpus_id, user_id=job.created_by_id)
        return _finish(
            job, Job.State.SUCCEEDED, corpus_id=result.corpus_id,
            message=(f"{result.figures_added} figures added, {result.already_present()}, "
                     f"{result.patents_added} new patents.{late}"),
        )


def _problem(file: str, line: int | None, reason: str) -> dict[str, object]:
    return {"file": file, "line": line, "reason": reason}


def _progress_writer(job_id: int):  # noqa: ANN202
    def progress(done: int, total: int) -> None:
        if done % PROGRESS_EVERY and done != total:
            return
        Job.objects.filter(pk=job_id).update(done=done, total=total, pending=total - done,
                                             updated_at=timezone.now())  # also the heartbeat
        if Job.objects.filter(pk=job_id, state=Job.State.CANCELLED).exists():
            raise JobCancelledError()

    return progress


def _finish(job: Job, state: str, **fields: object) -> str:
    updates = {"state": state, "finished_at": timezone.now(), **fields}
    jobs = Job.objects.filter(pk=job.pk)
    if state == Job.State.SUCCEEDED:
        updates.update(pending=0)  # the corpus is written: that wins over a late cancel
    else:
        jobs = jobs.exclude(state=Job.State.CANCELLED)  # a cancel wins over stopping for another reason
    jobs.update(**updates)
    if job.source_is_upload:
        _upload_remove(Path(job.source))
    return Job.objects.get(pk=job.pk).state


def _encode_job_create(*, corpus_id: int, user_id: int | None) -> Job:
    """The encoding of a freshly ingested corpus under the active model (progress from the data)."""
    return Job.objects.create(
        kind=Job.Kind.ENCODE, corpus_id=corpus_id, model=model_ensure_active(), created_by_id=user_id,
        state=Job.State.RUNNING, started_at=timezone.now(),
    )


def reindex_job_create(*, model_id: int, user_id: int | None) -> Job:
    """The encoding of the whole catalogue under a newly registered model."""
    return Job.objects.create(
        kind=Job.Kind.REINDEX, model_id=model_id, created_by_id=user_id,
        state=Job.State.RUNNING, started_at=timezone.now(),
    )


def job_cancel(*, job: Job) -> Job:
    """Cancel a job that has not finished. Ingest and evaluate jobs unwind at their next progress
    check (an ingest writes nothing; once its corpus is written a cancel is too late, and the job
    succeeds saying so); encode, re-index and describe jobs stop: their queued
    batches skip the job's figures (what is already encoded or described stays)."""
    state = job_progress(job).state  # measured jobs: succeeded once nothing is pending
    if state in FINISHED:
        raise ConsoleInputError(f"The job is {state} already.", {"job": job.pk, "state": state})
    updated = Job.objects.filter(pk=job.pk).exclude(state__in=[Job.State.CANCELLED, Job.State.FAILED]).update(
        state=Job.State.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now(),
        message="Cancelled by an admin.",
    )
    if not updated:
        job.refresh_from_db()
        raise ConsoleInputError(f"The job is {job.state} already.", {"job": job.pk, "state": job.state})
    job.refresh_from_db()
    if job.kind == Job.Kind.INGEST and job.source_is_upload and job.started_at is None:
        _upload_remove(Path(job.source))  # never started: the task will find it cancelled
    return job


def job_retry(*, job: Job) -> int:
    """Run again what a job did not finish; returns how many figures (or 1 for a whole job) were
    queued. See the module docstring for what each kind retries."""
    if job.kind in (Job.Kind.ENCODE, Job.Kind.REINDEX):
        return _retry_encoding(job)
    if job.kind == Job.Kind.DESCRIBE:
        return _retry_describe(job)
    if job.state not in (Job.State.FAILED, Job.State.CANCELLED):
        raise ConsoleInputError(f"The job is {job.state}; only a failed or cancelled job runs again.",
                                {"job": job.pk, "state": job.state})
    if job.kind == Job.Kind.INGEST and (job.source_is_upload or not Path(job.source).exists()):
        raise ConsoleInputError("The uploaded archive was removed when the job ended; upload the corpus again.",
                                {"job": job.pk})
    return _requeue(job)


@transaction.atomic
def _requeue(job: Job) -> int:
    from console.tasks import job_evaluate_task, job_ingest_task

    Job.objects.filter(pk=job.pk).update(
        state=Job.State.QUEUED, done=0, failed=0, pending=0, total=0, problems=[], result=None,
        embedding_map=None, message="Queued again by an admin.", started_at=None, finished_at=None,
    )
    task = job_ingest_task if job.kind == Job.Kind.INGEST else job_evaluate_task
    transaction.on_commit(lambda: task.delay(job.pk))
    return 1


@transaction.atomic
def _retry_encoding(job: Job) -> int:
    if job.model is None:
        raise ConsoleInputError("The job's model has been deleted.", {"job": job.pk})
    failed = Figure.objects.filter(status=Figure.Status.FAILED)
    if job.corpus_id:
        failed = failed.filter(corpus_id=job.corpus_id)
    failed_ids = list(failed.values_list("id", flat=True))
    resumed = _resume(job)
    if failed_ids:
        figures_reencode(figure_ids=failed_ids)  # ready again, queued under the active model
    missing = figures_without_vector(model=job.model)
    if job.corpus_id:
        missing = missing.filter(corpus_id=job.corpus_id)
    missing_ids = list(missing.values_list("id", flat=True))
    if (failed_ids or resumed) and missing_ids:
        figures_encode_enqueue(figure_ids=missing_ids, model=job.model)
    if not failed_ids and not resumed:
        raise ConsoleInputError("No figure of this job failed; there is nothing to retry.", {"job": job.pk})
    return len(set(failed_ids) | set(missing_ids))


@transaction.atomic
def _retry_describe(job: Job) -> int:
    resumed = _resume(job)
    options = job.options or {}
    queued = figures_describe_missing(
        corpus_id=job.corpus_id, backend=options.get("backend"), model_path=options.get("model_path"),
    )
    if not queued.figure_ids and not resumed:
        raise ConsoleInputError("Every figure has its descriptions; there is nothing to retry.", {"job": job.pk})
    return len(queued.figure_ids)


def _resume(job: Job) -> bool:
    """A finished measured job runs again (a cancelled one lets its figures through again)."""
    return bool(Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, finished_at=None, updated_at=timezone.now(),
        message="Resumed by an admin." if job.state == Job.State.CANCELLED else job.message,
    )) and job.state == Job.State.CANCELLED


def job_fail_unfinished(*, job_id: int, reason: str) -> bool:
    """End a queued or running job `failed` with the reason (its task gave up, or its worker
    stopped); True when it was unfinished."""
    return bool(Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.FAILED, finished_at=timezone.now(), updated_at=timezone.now(), message=reason[:2000],
    ))


def jobs_sweep() -> int:
    """Fail the running ingest and evaluate jobs whose heartbeat is older than
    CONSOLE_JOB_STALE_SECONDS (their worker died, or lost the database for good); returns how
    many. Safe twice: a failed job is not running any more."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.CONSOLE_JOB_STALE_SECONDS)
    stale = list(Job.objects.filter(kind__in=[Job.Kind.INGEST, Job.Kind.EVALUATE], state=Job.State.RUNNING,
                                    updated_at__lt=cutoff).values_list("pk", flat=True))
    minutes = settings.CONSOLE_JOB_STALE_SECONDS / 60
    for job_id in stale:
        logger.warning("Job %s made no progress for %.0f minutes: marking it failed", job_id, minutes)
        job_fail_unfinished(job_id=job_id, reason=(
            f"No progress for {minutes:.0f} minutes: the worker running this job stopped (it died or lost "
            "the database). Nothing of an unfinished ingest was written; retry the job or upload again."))
    return len(stale)


@transaction.atomic
def describe_job_start(
    *, corpus_id: int, user_id: int | None, backend: str = "", model_path: str = ""
) -> Job:
    """Queue LLM descriptions (queue "llm") of the corpus's figures that have none from the chosen
    backend yet: ``offline`` (templates, no model), ``openai`` (the OpenAI-compatible endpoint of
    the settings), ``transformers`` (a local model folder: ``model_path`` under the import root,
    or the settings' RETRIEVAL_DESCRIBE_MODEL_PATH); empty: the settings' backend. The backend is
    built and checked before anything is queued. Progress is measured from the written texts."""
    corpus = Corpus.objects.filter(pk=corpus_id).first()
    if corpus is None:
        raise ConsoleInputError("There is no such corpus.", {"corpus": corpus_id})
    backend = (backend or "").strip()
    if backend and backend not in inference.describe_backends():
        raise ConsoleInputError(f"The backend must be one of {', '.join(inference.describe_backends())}.",
                                {"backend": backend})
    path = ""
    if (model_path or "").strip():
        if backend != "transformers":
            raise ConsoleInputError("A model folder is for the transformers backend.", {"model_path": model_path})
        folder = server_path_check(model_path)
        if not folder.is_dir():
            raise ConsoleInputError(f"{folder} is not a model folder.", {"model_path": model_path})
        path = str(folder)
    try:
        queued = figures_describe_missing(corpus_id=corpus.pk, backend=backend or None, model_path=path or None)
    except DescriberNotConfiguredError as exc:
        raise ConsoleInputError(exc.message, {"backend": backend or "settings"}) from exc
    return Job.objects.create(
        kind=Job.Kind.DESCRIBE, corpus=corpus, created_by_id=user_id, state=Job.State.RUNNING,
        started_at=timezone.now(),
        options={"source": queued.source, "queued": len(queued.figure_ids), "backend": backend or None,
                 "model_path": path or None},
    )
