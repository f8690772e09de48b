"""Jobs of the console: accept a corpus (uploaded archive or server folder), run its ingest on
queue "default", cancel and retry.

Failure policy of an ingest job: a refused corpus (CorpusValidationError, a broken or unsafe
archive) is the admin's to fix, so the job ends `failed` with every problem as {file, line,
reason} and nothing written; an unexpected error ends it `failed` with the error as its message
(and is raised so the worker logs it). Transient database or broker errors are retried by the
task. An uploaded archive is deleted once its job has finished, whatever the outcome.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from console.exceptions import ConsoleInputError, JobCancelledError
from console.models import Job
from retrieval.exceptions import CorpusValidationError, InvalidArchiveError
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Corpus, Figure
from retrieval.services.describe import figures_describe_missing
from retrieval.services.encoding import figures_reencode, model_encode_missing
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
    folder = Path(settings.CONSOLE_UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}.zip"
    _save_upload(archive, target)
    name = name.strip() or Path(archive.name).stem
    try:
        return _ingest_job_create(source=target, is_upload=True, name=name, user_id=user_id)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


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
    if not path.exists():
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
    Job.objects.filter(pk=job_id).update(state=Job.State.RUNNING, started_at=timezone.now())
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
    state = _finish(
        job, Job.State.SUCCEEDED, corpus_id=result.corpus_id,
        message=(f"{result.figures_added} figures added, {result.figures_skipped} already present, "
                 f"{result.patents_added} new patents."),
    )
    _encode_job_create(corpus_id=result.corpus_id, user_id=job.created_by_id)
    return state


def _problem(file: str, line: int | None, reason: str) -> dict[str, object]:
    return {"file": file, "line": line, "reason": reason}


def _progress_writer(job_id: int):  # noqa: ANN202
    def progress(done: int, total: int) -> None:
        if done % PROGRESS_EVERY and done != total:
            return
        Job.objects.filter(pk=job_id).update(done=done, total=total, pending=total - done)
        if Job.objects.filter(pk=job_id, state=Job.State.CANCELLED).exists():
            raise JobCancelledError()

    return progress


def _finish(job: Job, state: str, **fields: object) -> str:
    updates = {"state": state, "finished_at": timezone.now(), **fields}
    if state == Job.State.SUCCEEDED:
        updates.update(pending=0)
    # a cancel that arrived after the last progress check still wins over success
    Job.objects.filter(pk=job.pk).exclude(state=Job.State.CANCELLED).update(**updates)
    if job.source_is_upload:
        Path(job.source).unlink(missing_ok=True)
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
    """Cancel a queued or running ingest (it unwinds at its next progress check, writing nothing)."""
    if job.kind != Job.Kind.INGEST:
        raise ConsoleInputError(
            "Only ingest jobs can be cancelled; encoding stops when its model is deleted.", {"job": job.pk}
        )
    updated = Job.objects.filter(pk=job.pk, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.CANCELLED, finished_at=timezone.now(), message="Cancelled by an admin."
    )
    if not updated:
        raise ConsoleInputError(f"The job is {job.state} already.", {"job": job.pk, "state": job.state})
    job.refresh_from_db()
    if job.source_is_upload and not Job.objects.filter(pk=job.pk, started_at__isnull=False).exists():
        Path(job.source).unlink(missing_ok=True)  # never started: the task will find it cancelled
    return job


@transaction.atomic
def job_retry_failed(*, job: Job) -> int:
    """Encode again the figures of an encode or re-index job that failed; returns how many."""
    if job.kind not in (Job.Kind.ENCODE, Job.Kind.REINDEX):
        raise ConsoleInputError(
            "Only encoding jobs have failed figures to retry; fix a refused corpus and upload it again.",
            {"job": job.pk},
        )
    figures = Figure.objects.filter(status=Figure.Status.FAILED)
    if job.corpus_id:
        figures = figures.filter(corpus_id=job.corpus_id)
    ids = list(figures.values_list("id", flat=True))
    if ids:
        figures_reencode(figure_ids=ids)  # queued under the active model
        if job.model is not None and not job.model.is_active:
            model_encode_missing(model=job.model)
        Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, finished_at=None)
    return len(ids)


@transaction.atomic
def describe_job_start(*, corpus_id: int, user_id: int | None) -> Job:
    """Queue LLM descriptions (configured backend, queue "llm") of the corpus's figures that have
    none from that backend yet; the job's progress is measured from the written texts."""
    corpus = Corpus.objects.filter(pk=corpus_id).first()
    if corpus is None:
        raise ConsoleInputError("There is no such corpus.", {"corpus": corpus_id})
    queued = figures_describe_missing(corpus_id=corpus.pk)
    return Job.objects.create(
        kind=Job.Kind.DESCRIBE, corpus=corpus, created_by_id=user_id, state=Job.State.RUNNING,
        started_at=timezone.now(), options={"source": queued.source, "queued": len(queued.figure_ids)},
    )
