"""Ingest jobs: an uploaded or server-side corpus is checked and ingested by job_ingest_run (what
the Celery task calls); refused corpora end `failed` with every problem and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from console.exceptions import ConsoleInputError
from console.models import Job
from console.selectors.jobs import job_progress
from console.services.jobs import (
    corpus_folder_accept,
    corpus_upload_accept,
    job_cancel,
    job_ingest_run,
)
from retrieval.models import Corpus, Figure, Patent


def _upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/zip")


def _accept(path: Path, user, name: str = "") -> Job:  # noqa: ANN001
    return corpus_upload_accept(archive=_upload(path), name=name, user_id=user.pk)


def _nothing_written() -> bool:
    return not (Corpus.objects.exists() or Patent.objects.exists() or Figure.objects.exists())


@pytest.fixture(autouse=True)
def _dirs(settings, tmp_path):
    settings.CONSOLE_UPLOAD_DIR = tmp_path / "uploads"
    settings.CONSOLE_IMPORT_ROOT = tmp_path / "import"
    settings.CONSOLE_IMPORT_ROOT.mkdir()


def test_good_zip_is_ingested_and_its_encoding_is_measured(good_zip, admin_user, active_model, settings):
    job = _accept(good_zip, admin_user, name="Good one")
    assert job.state == Job.State.QUEUED and Path(job.source).is_file()
    assert Path(job.source).parent.parent == settings.CONSOLE_UPLOAD_DIR and Path(job.source).name == good_zip.name
    assert job_ingest_run(job_id=job.pk) == Job.State.SUCCEEDED
    job.refresh_from_db()
    assert (job.done, job.total, job.pending, job.failed, job.problems) == (12, 12, 0, 0, [])
    assert job.corpus.name == "Good one" and job.corpus.figures.count() == 12
    assert "12 figures added" in job.message
    assert not Path(job.source).exists()  # the upload is removed once ingested
    assert not list(Path(settings.CONSOLE_UPLOAD_DIR).iterdir())  # with the folder it was kept in
    encode = Job.objects.get(kind=Job.Kind.ENCODE, corpus=job.corpus)
    assert encode.model == active_model
    progress = job_progress(encode)
    assert (progress.total, progress.done, progress.pending) == (12, 0, 12)
    assert progress.state == Job.State.RUNNING
    # run twice (a redelivered message): nothing changes
    assert job_ingest_run(job_id=job.pk) == Job.State.SUCCEEDED
    assert Figure.objects.count() == 12


def test_truncated_image_refused_with_every_row(truncated_zip, admin_user, active_model):
    job = _accept(truncated_zip, admin_user)
    assert job_ingest_run(job_id=job.pk) == Job.State.FAILED
    job.refresh_from_db()
    assert job.problems == [
        {"file": "cut.png", "line": 3, "reason": job.problems[0]["reason"]},
        {"file": "gone.png", "line": 4, "reason": "file not found"},
    ]
    assert "truncated" in job.problems[0]["reason"]
    assert job.failed == 2 and job.message.startswith("Corpus refused, nothing was imported")
    assert _nothing_written()
    assert not Path(job.source).exists()


def test_zip_bomb_refused(bomb_zip, admin_user, active_model):
    job = _accept(bomb_zip, admin_user)
    assert job_ingest_run(job_id=job.pk) == Job.State.FAILED
    job.refresh_from_db()
    [problem] = job.problems
    assert problem["file"] == Path(job.source).name and problem["line"] is None
    assert "refused as a zip bomb" in problem["reason"] and "bomb.png" in problem["reason"]
    assert _nothing_written()


def test_path_traversal_zip_refused(traversal_zip, admin_user, active_model, tmp_path):
    job = _accept(traversal_zip, admin_user)
    assert job_ingest_run(job_id=job.pk) == Job.State.FAILED
    job.refresh_from_db()
    [problem] = job.problems
    assert "unsafe path '../../evil.png'" in problem["reason"]
    assert _nothing_written()
    assert not list(tmp_path.parent.rglob("evil.png"))


def test_not_a_zip_is_refused_at_once(admin_user, tmp_path):
    with pytest.raises(ConsoleInputError, match="must be a .zip"):
        corpus_upload_accept(archive=SimpleUploadedFile("x.csv", b"a,b\n"), name="", user_id=admin_user.pk)
    assert not Job.objects.exists()


def test_upload_over_the_limit_is_refused(good_zip, admin_user, settings):
    settings.CONSOLE_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ConsoleInputError, match="the limit is 100"):
        _accept(good_zip, admin_user)
    assert not Job.objects.exists() and not list(Path(settings.CONSOLE_UPLOAD_DIR).glob("*"))


def test_server_folder_under_the_import_root(admin_user, active_model, settings):
    from tests.drawings import small_corpus

    small_corpus(settings.CONSOLE_IMPORT_ROOT / "batch1", patents=2, views=2)
    job = corpus_folder_accept(folder="batch1", name="", user_id=admin_user.pk)
    assert job_ingest_run(job_id=job.pk) == Job.State.SUCCEEDED
    job.refresh_from_db()
    assert job.corpus.name == "batch1" and job.done == 4
    assert (settings.CONSOLE_IMPORT_ROOT / "batch1" / "metadata.csv").exists()  # never deleted


@pytest.mark.parametrize("folder", ["/etc", "../", "..", "batch1/../../x", "", "/"])
def test_server_folder_outside_the_import_root_is_refused(folder, admin_user, tmp_path):
    with pytest.raises(ConsoleInputError):
        corpus_folder_accept(folder=folder, name="x", user_id=admin_user.pk)
    assert not Job.objects.exists()


def test_cancel_a_queued_ingest(good_zip, admin_user, active_model):
    job = _accept(good_zip, admin_user)
    job_cancel(job=job)
    assert job.state == Job.State.CANCELLED and not Path(job.source).exists() and not Path(job.source).parent.exists()
    assert job_ingest_run(job_id=job.pk) == Job.State.CANCELLED
    assert _nothing_written()
    with pytest.raises(ConsoleInputError, match="cancelled already"):
        job_cancel(job=job)


def test_an_ingest_cancelled_while_running_shows_nothing_imported_and_a_late_cancel_cannot_undo_the_corpus(
    good_zip, admin_user, active_model, monkeypatch
):
    import console.services.jobs as jobs

    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 1)
    writer = jobs._progress_writer

    def cancelling_writer(job_id):  # noqa: ANN001, ANN202 - an admin presses Cancel at the second row
        write = writer(job_id)

        def progress(done: int, total: int) -> None:
            if done == 2:
                job_cancel(job=Job.objects.get(pk=job_id))
            write(done, total)

        return progress

    monkeypatch.setattr(jobs, "_progress_writer", cancelling_writer)
    job = _accept(good_zip, admin_user)
    assert job_ingest_run(job_id=job.pk) == Job.State.CANCELLED and _nothing_written()
    shown = job_progress(Job.objects.get(pk=job.pk))
    assert shown.summary == "Cancelled · nothing imported" and shown.nothing_imported
    assert (shown.done, shown.pending) == (0, 0)  # not "2 done · 1 pending" beside "nothing was imported"

    monkeypatch.setattr(jobs, "_progress_writer", writer)
    real_ingest = jobs.corpus_ingest

    def ingest_then_cancel(**kwargs):  # noqa: ANN003, ANN202 - the cancel lands after the corpus is written
        result = real_ingest(**kwargs)
        job_cancel(job=Job.objects.get(kind=Job.Kind.INGEST, state=Job.State.RUNNING))
        return result

    monkeypatch.setattr(jobs, "corpus_ingest", ingest_then_cancel)
    late = _accept(good_zip, admin_user)
    assert job_ingest_run(job_id=late.pk) == Job.State.SUCCEEDED and Figure.objects.exists()
    late.refresh_from_db()
    assert late.message.endswith("The cancel came after the corpus was written, too late to stop it.")
    assert job_progress(late).summary == "12 done · 0 failed · 0 pending of 12" and late.corpus_id is not None


def test_request_size_limit_is_larger_on_the_upload_path(rf, settings):
    from django.http import HttpResponse

    from patentsearch.middleware import RequestSizeLimitMiddleware

    middleware = RequestSizeLimitMiddleware(lambda request: HttpResponse("through"))
    big = settings.PATENTSEARCH_MAX_REQUEST_BYTES + 1
    assert middleware(rf.post("/api/v1/search/", CONTENT_LENGTH=str(big))).status_code == 413
    assert middleware(rf.post("/api/v1/corpora/", CONTENT_LENGTH=str(big))).content == b"through"
    over = settings.CONSOLE_MAX_UPLOAD_BYTES + 1
    assert middleware(rf.post("/api/v1/corpora/", CONTENT_LENGTH=str(over))).status_code == 413


def test_describe_a_corpus_from_the_console(admin_api, admin_user, active_model, tmp_path, settings,
                                            django_capture_on_commit_callbacks):
    from django.test import Client

    from retrieval.ingest.pipeline import corpus_ingest
    from retrieval.services.describe import figure_describe_batch
    from tests.drawings import small_corpus

    settings.RETRIEVAL_DESCRIBE_BACKEND = "offline"
    result = corpus_ingest(path=small_corpus(tmp_path / "d", patents=2, views=2), name="to describe")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_api.post(f"/api/v1/corpora/{result.corpus_id}/describe/")
    assert response.status_code == 202 and callbacks
    job_id = response.json()["job"]
    before = admin_api.get(f"/api/v1/jobs/{job_id}/").json()
    assert (before["state"], before["done"], before["total"]) == ("running", 0, 4)
    figure_describe_batch(figure_ids=result.figure_ids)  # what the llm worker runs
    after = admin_api.get(f"/api/v1/jobs/{job_id}/").json()
    assert (after["state"], after["done"], after["pending"], after["total"]) == ("succeeded", 4, 0, 4)
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/console/jobs/{job_id}/").content.decode()
    assert 'id="samples"' in page and "Descriptions written" in page
    figure_page = client.get(f"/console/figures/{result.figure_ids[0]}/").content.decode()
    assert 'id="texts"' in figure_page and "offline" in figure_page
    assert client.get("/console/figures/999999/").status_code == 404
    assert admin_api.post("/api/v1/corpora/999999/describe/").status_code == 400


def test_a_large_upload_is_moved_not_copied(admin_user, active_model, settings, tmp_path):
    from django.core.files.uploadedfile import TemporaryUploadedFile

    archive = TemporaryUploadedFile("big.zip", "application/zip", 0, None)
    archive.write(b"PK\x05\x06" + bytes(18))  # an empty zip
    archive.flush()
    temporary = archive.temporary_file_path()
    job = corpus_upload_accept(archive=archive, name="big", user_id=admin_user.pk)
    archive.close()  # Django's cleanup of the moved temporary file does not fail
    assert not Path(temporary).exists() and Path(job.source).read_bytes().startswith(b"PK\x05\x06")


def test_a_refused_upload_s_job_page_offers_a_new_upload_not_a_retry_that_cannot_run(admin_user, tmp_path):
    from django.test import Client

    from console.services.jobs import job_retry

    not_zip = tmp_path / "bad.zip"
    not_zip.write_bytes(b"this is no zip")
    job = _accept(not_zip, admin_user)
    assert job_ingest_run(job_id=job.pk) == Job.State.FAILED
    job.refresh_from_db()
    assert job.problems[0]["file"] == "bad.zip"  # the admin's file, not the name it was kept under
    assert job.message.startswith("bad.zip: not a readable zip archive")
    with pytest.raises(ConsoleInputError, match="upload the corpus again"):
        job_retry(job=job)  # what the Retry button would have answered
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/console/jobs/{job.pk}/").content.decode()
    assert 'id="retry-job"' not in page
    assert 'id="upload-again" href="/console/upload/"' in page and "Upload the corpus again" in page


@pytest.mark.parametrize("sent, kept", [
    ("../../evil?.zip", "evil_.zip"), ("....zip", "corpus.zip"), ("a" * 300 + ".zip", "a" * 100 + ".zip"),
    ("Tassen (2024).ZIP", "Tassen (2024).zip"),
])
def test_an_upload_is_kept_under_its_own_name_in_a_folder_of_its_own(admin_user, settings, sent, kept):
    job = corpus_upload_accept(archive=SimpleUploadedFile(sent, b"PK\x05\x06" + bytes(18)), name="c", user_id=admin_user.pk)
    source = Path(job.source)
    assert source.name == kept and source.parent.parent == settings.CONSOLE_UPLOAD_DIR and source.is_file()
    job_cancel(job=job)
    assert not list(Path(settings.CONSOLE_UPLOAD_DIR).iterdir())


def test_a_refused_corpus_says_refused_with_its_problems_not_counts(truncated_zip, admin_user, admin_api, active_model):
    from django.test import Client

    job = _accept(truncated_zip, admin_user)
    assert job_ingest_run(job_id=job.pk) == Job.State.FAILED
    client = Client()
    client.force_login(admin_user)
    for url in ("/console/", f"/console/jobs/{job.pk}/"):
        page = client.get(url).content.decode()
        counts = page[page.index('data-field="counts"'):]
        counts = counts[:counts.index("</span>")]
        assert "Refused: 2 problems · nothing imported" in counts and "pending of" not in counts, url
        assert 'data-field="bar" hidden' in page, url  # no progress bar for what was never imported
    page = client.get(f"/console/jobs/{job.pk}/").content.decode()
    assert "<dt>Outcome</dt>" in page and "cut.png" in page and "gone.png" in page  # the problems, listed
    data = admin_api.get(f"/api/v1/jobs/{job.pk}/").json()  # the contract's fields as they were, and `refused`
    assert (data["state"], data["failed"], len(data["problems"]), data["refused"]) == ("failed", 2, 2, True)
    # nothing imported and nothing waiting: the rows it had checked are not counted as done
    assert (data["done"], data["pending"], data["nothing_imported"]) == (0, 0, True)
    assert data["summary"] == "Refused: 2 problems · nothing imported"


def test_an_ingest_stopped_by_an_error_says_so_not_zero_counts(admin_user, admin_api):
    """An unexpected error (or a worker that died) ends an ingest failed with a message and no
    problems: the line says it stopped and imported nothing, not '0 done · 0 failed · … of 0'."""
    from django.test import Client

    job = Job.objects.create(kind=Job.Kind.INGEST, state=Job.State.FAILED, done=40, pending=60, total=100,
                             message="Ingest stopped by an unexpected error: disk full")
    client = Client()
    client.force_login(admin_user)
    for url in ("/console/", f"/console/jobs/{job.pk}/"):
        page = client.get(url).content.decode()
        counts = page[page.index('data-field="counts"'):]
        assert "Stopped · nothing imported" in counts[:counts.index("</span>")], url
        assert 'data-field="bar" hidden' in page, url
    assert "disk full" in client.get(f"/console/jobs/{job.pk}/").content.decode()
    data = admin_api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (data["done"], data["pending"], data["refused"], data["nothing_imported"]) == (0, 0, False, True)
    assert data["summary"] == "Stopped · nothing imported"


def test_only_a_refused_ingest_reads_refused(admin_user, admin_api):
    problem = [{"file": "x.png", "line": 2, "reason": "truncated"}]
    jobs = [
        Job.objects.create(kind=Job.Kind.INGEST, state=Job.State.SUCCEEDED, done=3, total=3),
        Job.objects.create(kind=Job.Kind.INGEST, state=Job.State.FAILED, message="Ingest stopped by an unexpected error"),
        Job.objects.create(kind=Job.Kind.EVALUATE, state=Job.State.FAILED, problems=problem),
    ]
    for job in jobs:
        assert job_progress(job).refused is False
        assert admin_api.get(f"/api/v1/jobs/{job.pk}/").json()["refused"] is False
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    page = client.get("/console/").content.decode()
    assert "Refused:" not in page and page.count("<tr data-job=") == 3
