"""In Chromium, with a real Celery worker: an admin uploads a corpus zip and watches its jobs
finish, registers a second model and sees it encode, activates it, and reads both models'
numbers on the evaluation dashboard. An examiner is refused the console."""

from __future__ import annotations

import pytest

from accounts.models import User
from console.models import Job
from retrieval.ml.encoders.factory import init_checkpoint
from retrieval.models import RetrievalModel
from tests.test_browser import browser_page  # noqa: F401 - the Chromium page fixture

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]
LONG = 120_000  # ms: work on the worker, watched through the page


def _login(page, url: str, username: str, next_path: str) -> None:  # noqa: ANN001
    page.goto(f"{url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests-only")
    page.click("button[type=submit]")


def test_admin_uploads_registers_activates_and_evaluates(
    live_server, celery_worker, browser_page, active_model, good_zip, truncated_zip, tmp_path  # noqa: F811
):
    from playwright.sync_api import expect

    User.objects.create_user("boss", password="pw-for-tests-only", role=User.Role.ADMIN)
    second = init_checkpoint("ps-tiny", tmp_path / "second", seed=3, name="second")
    page = browser_page
    _login(page, live_server.url, "boss", "/console/upload/")

    page.set_input_files("#archive", str(good_zip))
    page.fill("#upload-name", "browser corpus")
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#upload-text")).to_have_text("uploaded", timeout=LONG)
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=LONG)
    assert page.locator("#job-bar").evaluate("bar => bar.value") == 100
    expect(page.locator("#job-counts")).to_have_text("12 done · 0 failed · 0 pending of 12")
    # a refused corpus: the same line as the jobs pages, no progress bar for what was never imported
    page.set_input_files("#archive", str(truncated_zip))
    page.fill("#upload-name", "refused corpus")
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#job-state")).to_have_text("failed", timeout=LONG)
    expect(page.locator("#job-counts")).to_have_text("Refused: 2 problems · nothing imported")
    expect(page.locator("#job-bar")).to_be_hidden()
    expect(page.locator("#job-problems tbody tr")).to_have_count(2)

    page.keyboard.press("j")  # the jobs page, updated live until the encoding is done
    page.wait_for_url("**/console/")
    encode = Job.objects.get(kind=Job.Kind.ENCODE)
    row = page.locator(f"tr[data-job='{encode.pk}']")
    expect(row.locator("[data-field=state]")).to_have_text("succeeded", timeout=LONG)
    expect(row.locator("[data-field=counts]")).to_contain_text("12 done · 0 failed · 0 pending of 12")

    page.keyboard.press("m")
    page.wait_for_url("**/console/models/")
    page.fill("#checkpoint", str(second))
    page.fill("#model-name", "second")
    page.click("#register-form button[type=submit]")
    new_row = page.locator("tr[data-name='second']")
    expect(new_row).to_be_visible(timeout=LONG)
    expect(new_row.locator("[data-field=coverage]")).to_have_text("12 / 12 (100.0 %)", timeout=LONG)
    page.reload()
    page.locator("tr[data-name='second'] button[data-action=activate]").click()
    expect(page.locator("tr[data-name='second'] .status-open")).to_have_text("active", timeout=LONG)
    assert RetrievalModel.objects.get(is_active=True).name == "second"
    expect(page.locator("tr[data-name='second'] button[data-action=rollback]")).to_be_visible()

    page.keyboard.press("e")
    page.wait_for_url("**/console/evaluation/")
    page.click("#evaluate-form button[type=submit]")
    table = page.locator("table.evaluation[data-relevance='us_class']")
    expect(table).to_be_visible(timeout=LONG)
    expect(table.locator("tbody tr")).to_have_count(2, timeout=LONG)
    names = table.locator("tbody tr td:first-child").all_inner_texts()
    assert sorted(names) == ["second", "test-tiny"]
    for cell in table.locator("tbody tr td:nth-child(3)").all_inner_texts():
        assert 0.0 <= float(cell) <= 1.0
    curve = page.locator(".pr-box[data-relevance='us_class'] svg.plot.pr")
    expect(curve.locator("polyline.pr-line")).to_have_count(2)
    expect(page.locator("svg.plot.map")).to_have_count(2)
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    page.keyboard.press("m")  # and back to the first model in one click
    page.wait_for_url("**/console/models/")
    page.locator("tr[data-name='second'] button[data-action=rollback]").click()
    expect(page.locator("tr[data-name='test-tiny'] .status-open")).to_have_text("active", timeout=LONG)
    assert RetrievalModel.objects.get(is_active=True).name == "test-tiny"

    page.goto(f"{live_server.url}/console/jobs/{encode.pk}/")  # a finished job offers no cancel
    expect(page.locator("[data-field=state]")).to_have_text("succeeded")
    expect(page.locator("#cancel-job")).to_be_hidden()
    expect(page.locator("#retry-job")).to_be_hidden()


def test_examiner_is_refused_every_console_page(live_server, browser_page, db):  # noqa: F811
    User.objects.create_user("ex", password="pw-for-tests-only", role=User.Role.EXAMINER)
    page = browser_page
    _login(page, live_server.url, "ex", "/")
    for path in ("/console/", "/console/upload/", "/console/models/", "/console/evaluation/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403
        assert "Not allowed" in page.content()


def test_a_refused_console_form_names_the_field_by_its_label_and_the_api_by_its_key(
    live_server, browser_page, active_model  # noqa: F811
):
    from playwright.sync_api import expect
    from rest_framework.test import APIClient

    from retrieval.models import Corpus

    boss = User.objects.create_user("boss", password="pw-for-tests-only", role=User.Role.ADMIN)
    corpus = Corpus.objects.create(name="labelled")
    page = browser_page
    _login(page, live_server.url, "boss", "/console/evaluation/")
    page.wait_for_url("**/console/evaluation/")
    for box in page.locator("#evaluate-form input[name=models]").all():
        box.uncheck()
    page.click("#evaluate-form button[type=submit]")
    expect(page.locator("#evaluate-error")).to_have_text("Models: Ensure this field has at least 1 elements.")
    api = APIClient()
    api.force_authenticate(boss)
    body = {"corpus": corpus.pk, "models": [], "relevance": ["patent", "us_class"], "exclude_same_patent": False}
    assert api.post("/api/v1/evaluations/", body, format="json").json() == {
        "message": "models: Ensure this field has at least 1 elements.",
        "extra": {"fields": {"models": ["Ensure this field has at least 1 elements."]}}}
    assert not Job.objects.exists()


def test_cancel_keeps_the_keyboard_on_the_page_and_off_the_undoing_button(live_server, browser_page, db):  # noqa: F811
    """Cancel hides itself once the job is cancelled; the focus goes to the job's heading (the state
    says what happened), not to the page's top and not to Retry."""
    from playwright.sync_api import expect

    admin = User.objects.create_user("root", password="pw-for-tests-only", role=User.Role.ADMIN)
    job = Job.objects.create(kind=Job.Kind.EVALUATE, state=Job.State.QUEUED, created_by=admin, total=1, pending=1)
    page = browser_page
    _login(page, live_server.url, "root", f"/console/jobs/{job.pk}/")
    page.wait_for_url(f"**/console/jobs/{job.pk}/")
    page.wait_for_load_state()  # the page's script listens to the button
    page.focus("#cancel-job")
    page.keyboard.press("Enter")
    expect(page.locator("[data-field=state]")).to_have_text("cancelled")
    expect(page.locator("#retry-job")).to_be_visible()
    # on the heading, not on Retry: a second Enter must not start again what the first cancelled
    expect(page.locator("#job-heading")).to_be_focused()
    assert Job.objects.get(pk=job.pk).state == Job.State.CANCELLED


def test_on_a_phone_the_jobs_table_is_rows_of_labelled_lines_and_the_encoding_words_are_spelled_out(
    live_server, browser_page, active_model  # noqa: F811
):
    """Ten columns do not fit a phone: each job is a block of 'Label value' lines, no sideways
    scrolling, empty cells left out; the encoding table's column words are text, not tooltips only."""
    from playwright.sync_api import expect

    from retrieval.models import Corpus

    admin = User.objects.create_user("root", password="pw-for-tests-only", role=User.Role.ADMIN)
    corpus = Corpus.objects.create(name="phone corpus")
    job = Job.objects.create(kind=Job.Kind.ENCODE, state=Job.State.SUCCEEDED, created_by=admin, corpus=corpus,
                             model=active_model, total=4, done=4)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, live_server.url, "root", "/console/")
    page.wait_for_url("**/console/")
    row = page.locator(f"tr[data-job='{job.pk}']")
    expect(row).to_be_visible()
    created = row.locator("td[data-label=Created]")
    label = created.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Created"'
    assert created.evaluate("td => td.getClientRects().length") == 1  # the date on one line
    assert created.evaluate("td => td.getBoundingClientRect().height") < 30
    assert row.locator("td[data-label=ETA]").evaluate("td => getComputedStyle(td).display") == "none"  # empty
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("#jobs").evaluate("t => t.scrollWidth <= t.clientWidth")
    expect(page.locator("#encoding-legend")).to_contain_text("Lost")
    expect(page.locator("#encoding-legend")).to_contain_text("the periodic sweep queues them again")


def test_the_evaluation_page_reloaded_when_its_jobs_end_keeps_the_keyboard_where_it_was(
    live_server, browser_page, active_model  # noqa: F811
):
    from playwright.sync_api import expect

    from retrieval.models import Corpus

    admin = User.objects.create_user("root", password="pw-for-tests-only", role=User.Role.ADMIN)
    corpus = Corpus.objects.create(name="kept corpus")
    job = Job.objects.create(kind=Job.Kind.EVALUATE, state=Job.State.RUNNING, created_by=admin, corpus=corpus,
                             model=active_model, total=10, pending=10)
    page = browser_page
    _login(page, live_server.url, "root", "/console/evaluation/")
    page.wait_for_url("**/console/evaluation/")
    expect(page.locator("#evaluations-running li")).to_have_count(1)
    box = page.locator("#evaluate-form input[name=relevance][value=us_class]")
    box.focus()
    Job.objects.filter(pk=job.pk).update(state=Job.State.SUCCEEDED, done=10, pending=0)
    expect(page.locator("#evaluations-running")).to_have_count(0, timeout=LONG)  # reloaded
    expect(box).to_be_focused()
