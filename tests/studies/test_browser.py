"""A participant runs a study in Chromium, blind; then the admin exports its CSVs."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from studies.models import Arm, Event, Study
from tests.studies.conftest import make_study
from tests.test_browser import browser_page  # noqa: F401 - the Chromium page fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _login(page, url: str, username: str, next_path: str) -> None:  # noqa: ANN001
    page.goto(f"{url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-for-tests-only")
    page.click("button[type=submit]")


def _assert_blind(page, secrets: set[str]) -> None:  # noqa: ANN001
    html = page.content()
    for secret in secrets:
        assert secret not in html


def test_participant_runs_two_tasks_grades_fills_the_sus_and_the_admin_exports(
    live_server, browser_page, study_corpus, participants, tmp_path  # noqa: F811
):
    study = Study.objects.get(pk=make_study("browser-study", study_corpus, tasks=2, k=6).study_id)
    arms = Arm.objects.filter(study=study).select_related("model")
    secrets = {a.name for a in arms} | {a.model.name for a in arms}
    page = browser_page
    responses: list[str] = []
    page.on("response", lambda r: responses.append(r.text()) if "/api/v1/study/" in r.url and r.status == 200 else None)

    _login(page, live_server.url, "pia", "/studies/run/")
    for number in (1, 2):
        # a task not yet started waits for Start: looking at the page is not time spent on it
        page.wait_for_selector("#ready-view:not([hidden])")
        assert page.inner_text("#ready-heading") == f"Task {number} of 2"
        assert Event.objects.filter(study=study, kind="task_start").count() == number - 1
        page.keyboard.press("Enter")  # Start has the focus
        page.wait_for_selector("#task-view:not([hidden]) .study-card")
        expect(page.locator(".study-card").first).to_be_focused()  # Start is gone: the keyboard is on the results
        assert Event.objects.filter(study=study, kind="task_start").count() == number
        assert page.inner_text("#task-count") == f"Task {number} of 2"
        assert page.locator(".study-card").count() == 6
        assert page.locator("#query-images img").count() == 2
        assert page.is_visible("#timer")
        _assert_blind(page, secrets)
        # keyboard: grade the first result 3, the next 0; mouse: the third 2
        page.keyboard.press("3")
        page.wait_for_selector(".study-card:nth-child(1) .grade.on[data-grade='3']")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("0")
        page.wait_for_selector(".study-card:nth-child(2) .grade.on[data-grade='0']")
        page.click(".study-card:nth-child(3) .grade[data-grade='2']")
        page.wait_for_selector(".study-card:nth-child(3) .grade.on[data-grade='2']")
        if number == 1:  # stop and come back: the same task, the same results, the grades kept
            shown = page.locator(".study-card").evaluate_all("cards => cards.map(c => c.dataset.figure)")
            page.reload()
            page.wait_for_selector("#task-view:not([hidden]) .study-card")
            assert page.inner_text("#task-count") == "Task 1 of 2"
            assert page.locator(".study-card").evaluate_all("cards => cards.map(c => c.dataset.figure)") == shown
            assert page.locator(".grade.on").count() == 3
            page.keyboard.press("ArrowRight")
        page.screenshot(path=str(tmp_path / f"task-{number}.png"))
        # the grade is said to a screen reader too; Enter on a grade button would press that button,
        # Enter on a result card opens it beside the query
        expect(page.locator(".study-card:nth-child(3) .grade[data-grade='2']")).to_have_attribute("aria-pressed", "true")
        expect(page.locator(".study-card:nth-child(3) .grade[data-grade='1']")).to_have_attribute("aria-pressed", "false")
        page.locator(".study-card").nth(2).focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#viewer[open]")
        page.screenshot(path=str(tmp_path / f"viewer-{number}.png"))
        page.keyboard.press("Escape")
        if number == 1:
            page.click("#found-button")
        else:  # a key ends the task only when pressed twice: one stray press is harmless
            page.keyboard.press("e")
            page.wait_for_selector("#end-confirm:not([hidden])")
            assert "Press e again" in page.inner_text("#end-confirm")
            assert page.is_visible("#task-view")
            page.keyboard.press("ArrowLeft")  # another key: the first press is forgotten
            page.wait_for_selector("#end-confirm", state="hidden")
            page.keyboard.press("e")
            page.keyboard.press("e")
        page.wait_for_selector("#questionnaire-view:not([hidden])")
        page.screenshot(path=str(tmp_path / f"questionnaire-{number}.png"))
        page.check("input[name=confidence][value='4']")
        page.check("input[name=usefulness][value='5']")
        page.fill("textarea[name=comment]", f"task {number} went well")
        page.dblclick("#questionnaire-submit")  # one answer, not a second one refused
        expect(page.locator("#study-error")).to_be_hidden()
    page.wait_for_selector("#sus-view:not([hidden])")
    for i in range(1, 11):
        page.check(f"input[name=q{i}][value='{4 if i % 2 else 2}']")
    page.screenshot(path=str(tmp_path / "sus.png"), full_page=True)
    page.click("#sus-submit")
    page.wait_for_selector("#done-view:not([hidden])")
    _assert_blind(page, secrets)
    for body in responses:
        for secret in secrets:
            assert secret not in body

    pia = study.participants.get(user__username="pia")
    assert pia.sus_score == 75.0
    assert Event.objects.filter(study=study, participant=pia, kind="grade").count() == 6
    assert Event.objects.filter(study=study, participant=pia, kind="hit_opened").count() == 2
    assert list(pia.assignments.order_by("position").values_list("found_citable", flat=True)) == [True, False]

    page.click("text=Log out")
    User.objects.create_user("root", password="pw-for-tests-only", role=User.Role.ADMIN)
    _login(page, live_server.url, "root", f"/studies/{study.pk}/")
    page.wait_for_selector("#summary")
    assert page.locator(".plots svg").count() == 4
    page.screenshot(path=str(tmp_path / "study.png"), full_page=True)
    rows = {}
    for name in ("events", "outcomes", "questionnaires"):
        with page.expect_download() as info:
            page.click(f"#export-{name}")
        path = tmp_path / f"{name}.csv"
        info.value.save_as(path)
        rows[name] = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [r["kind"] for r in rows["events"]].count("grade") == 6
    outcomes = [r for r in rows["outcomes"] if r["participant"] == "pia"]
    assert len(outcomes) == 2
    assert all(r["judged"] == "3" and float(r["precision@5"]) == 0.4 for r in outcomes)
    sus = [r for r in rows["questionnaires"] if r["kind"] == "sus"]
    assert len(sus) == 1 and sus[0]["participant"] == "pia" and sus[0]["sus_score"] == "75.0"
    assert [r["comment"] for r in rows["questionnaires"] if r["kind"] == "task"] == ["task 1 went well",
                                                                                    "task 2 went well"]


def test_an_interleaved_list_looks_like_any_other_and_credits_the_clicked_arm(
    live_server, browser_page, study_corpus, participants  # noqa: F811
):
    study = Study.objects.get(pk=make_study("browser-interleave", study_corpus, design="interleave", tasks=1,
                                            k=6).study_id)
    arms = Arm.objects.filter(study=study).select_related("model")
    secrets = {a.name for a in arms} | {a.model.name for a in arms}
    page = browser_page
    _login(page, live_server.url, "paul", "/studies/run/")
    page.click("#start-button")
    page.wait_for_selector("#task-view:not([hidden]) .study-card")
    assert page.locator(".study-card").count() == 6
    _assert_blind(page, secrets)
    page.keyboard.press("2")  # the first result, whichever arm picked it
    page.wait_for_selector(".study-card:nth-child(1) .grade.on[data-grade='2']")
    page.keyboard.press("f")
    page.keyboard.press("f")  # twice: a key ends a task only when pressed again
    page.wait_for_selector("#questionnaire-view:not([hidden])")
    page.check("input[name=confidence][value='3']")
    page.check("input[name=usefulness][value='3']")
    page.click("#questionnaire-submit")
    page.wait_for_selector("#sus-view:not([hidden])")
    _assert_blind(page, secrets)

    from studies.selectors.studies import study_preferences

    first = study.participants.get(user__username="paul").assignments.get().hits.get(rank=1)
    assert study_preferences(study=study)["grades"] == [first.arm.name]


def test_a_timed_task_says_its_time_to_a_screen_reader_and_ends_itself(
    live_server, browser_page, study_corpus, participants  # noqa: F811
):
    make_study("browser-timed", study_corpus, tasks=1, k=6, extra=("--time-limit", "13"))
    page = browser_page
    _login(page, live_server.url, "pia", "/studies/run/")
    page.click("#start-button")
    page.wait_for_selector("#task-view:not([hidden]) .study-card")
    announcer = page.locator("#timer-announce")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(page.locator("#timer")).to_have_attribute("aria-live", "off")  # the clock itself is not read every second
    # the server counts from Start, so a second may have gone by the time the task is shown
    expect(announcer).to_have_text(re.compile(r"1[23] seconds for this task\."))
    expect(announcer).to_have_text("10 seconds left.", timeout=5_000)
    expect(announcer).to_have_text("Time is up: the task has ended.", timeout=20_000)
    page.wait_for_selector("#questionnaire-view:not([hidden])")
    assert Event.objects.filter(kind="task_end").count() == 1
