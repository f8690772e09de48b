"""The pages on a phone-sized screen and on a desktop, in Chromium: nothing wider than the screen,
the case review cards without stray boxes, the error page in the app's look."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import User
from cases.models import Judgment
from cases.services.cases import case_create
from cases.services.searches import QueryDrawing, case_search_run
from console.models import Job
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import drawing, png_bytes, small_corpus
from tests.studies.conftest import study_corpus, two_models  # noqa: F401 - fixtures
from tests.test_browser import browser_page  # noqa: F401 - the Chromium page fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "pw-for-tests-only"
PHONE = {"width": 390, "height": 844}


def _login(page, url: str, username: str) -> None:  # noqa: ANN001
    page.context.clear_cookies()
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _wider_than_the_screen(page) -> bool:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_examiner_and_admin_pages_fit_a_phone_screen(live_server, browser_page, tmp_path, active_model):  # noqa: F811
    from playwright.sync_api import expect

    examiner = User.objects.create_user("ada", password=PASSWORD, role=User.Role.EXAMINER)
    User.objects.create_user("root", password=PASSWORD, role=User.Role.ADMIN)
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    case = case_create(examiner=examiner, application_number="29/123,456", title="Coffee mug with a square handle",
                       cutoff_date=dt.date(2030, 1, 1), us_class="D7/500", locarno_class="07-01")
    search = case_search_run(case=case, user=examiner, k=6, text="mug",
                             drawings=[QueryDrawing(png_bytes(drawing(0)), "q.png", drawing(0))])
    Job.objects.create(kind="ingest", corpus_name="broken", state="failed", done=1, failed=2, total=3,
                       problems=[{"file": "cut.png", "line": 3, "reason": "truncated image"}])
    page = browser_page
    page.set_viewport_size(PHONE)
    url = live_server.url

    _login(page, url, "ada")
    for path in ("/", "/cases/", f"/cases/{case.pk}/", f"/cases/{case.pk}/searches/{search.pk}/",
                 f"/cases/{case.pk}/citations/", "/cases/99999/"):
        page.goto(f"{url}{path}")
        assert not _wider_than_the_screen(page), path
    query = tmp_path / "query.png"
    query.write_bytes(png_bytes(drawing(1)))
    page.goto(f"{url}/")
    page.set_input_files("#image-input", str(query))
    page.click("#search-button")
    page.wait_for_selector(".card")
    assert not _wider_than_the_screen(page)
    assert page.evaluate("window.scrollY") > 0  # the results, below the form on a phone, are brought into view
    assert 0 <= page.evaluate("document.querySelector('.patent-group').getBoundingClientRect().top") < PHONE["height"]

    page.goto(f"{url}/cases/")
    new_case = page.locator("a.small-only", has_text="New case")
    assert new_case.is_visible()  # the form is below the list on a phone: a way to it at the top
    new_case.click()
    assert page.evaluate("location.hash") == "#case-form"

    _login(page, url, "root")
    for path in ("/console/", "/console/upload/", "/console/models/", "/console/evaluation/", "/studies/"):
        page.goto(f"{url}{path}")
        assert not _wider_than_the_screen(page), path
    # the jobs table is a block of labelled lines per job on a phone, not columns pushing the page sideways
    assert page.goto(f"{url}/console/").ok
    assert page.evaluate("getComputedStyle(document.querySelector('#jobs tbody tr')).display") == "block"
    assert page.evaluate("getComputedStyle(document.querySelector('#jobs thead')).position") == "absolute"
    # the refused corpus's job says so, also once the page has polled the API (console.js)
    expect(page.locator("#live-note")).to_have_text("all finished")
    expect(page.locator("#jobs [data-field=counts]")).to_have_text("Refused: 1 problem · nothing imported")
    expect(page.locator("#jobs [data-field=bar]")).to_be_hidden()

    page.set_viewport_size({"width": 1280, "height": 800})
    _login(page, url, "ada")
    page.goto(f"{url}/cases/")
    assert not page.locator("a.small-only").is_visible()  # the form is beside the list
    assert page.get_attribute("nav[aria-label=Main] a[aria-current=page]", "href") == "/cases/"
    page.goto(f"{url}/cases/{case.pk}/searches/{search.pk}/")
    # the grade shown on a review card is text, not an empty bordered box (the study's grade buttons)
    border = page.evaluate("getComputedStyle(document.querySelector('.judge-card .judgment .grade')).borderTopWidth")
    assert border == "0px"
    # grading side by side: the compare view says what the hit is graded, and takes the keys
    page.locator(".judge-card").first.focus()
    page.keyboard.press("c")
    expect(page.locator("#compare-judgment")).to_have_text("not judged yet")
    page.keyboard.press("2")
    expect(page.locator("#compare-judgment")).to_have_text("grade 2 (relevant)")
    page.keyboard.press("x")
    expect(page.locator("#compare-judgment")).to_have_text("grade 2 (relevant) · category X")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#compare-judgment")).to_have_text("not judged yet")
    page.keyboard.press("Escape")
    first = Judgment.objects.get(case=case)
    assert (first.grade, first.category) == (2, "X")

    # the drop zone's file input is invisible: the zone shows its focus, and is one tab stop, not two
    page.goto(f"{url}/")
    assert page.get_attribute("#dropzone", "tabindex") is None
    page.focus("#image-input")
    assert page.evaluate("getComputedStyle(document.querySelector('#dropzone')).outlineStyle") == "solid"

    page.goto(f"{url}/cases/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.is_visible("a.skip")  # shown once it has the focus


def test_a_double_click_on_run_the_evaluation_starts_it_once(live_server, browser_page, study_corpus):  # noqa: F811
    from console.models import Job
    from retrieval.models import Figure, RetrievalModel
    from retrieval.services.encoding import figure_encode_batch

    figures = list(Figure.objects.values_list("pk", flat=True))
    for model in RetrievalModel.objects.all():  # an evaluation takes fully encoded models only
        figure_encode_batch(figure_ids=figures, model_id=model.pk)
    User.objects.create_user("root", password=PASSWORD, role=User.Role.ADMIN)
    page = browser_page
    _login(page, live_server.url, "root")
    page.goto(f"{live_server.url}/console/evaluation/")
    page.dblclick("#evaluate-form button[type=submit]")
    page.wait_for_selector("#evaluations-running li")  # the page reloads once the jobs are queued
    # two models are ticked: one job each, not two
    assert Job.objects.filter(kind=Job.Kind.EVALUATE).count() == 2
