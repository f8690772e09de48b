"""The search page driven for real: Playwright and Debian's Chromium against the live server."""

import os
import shutil

import pytest

from accounts.models import User
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import drawing, png_bytes, small_corpus

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def browser_page(close_stray_connections):
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are
    # still plain synchronous code, so Django's async-safety guard is lifted for this test.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_examiner_logs_in_uploads_a_drawing_and_sees_result_cards(
    live_server, browser_page, tmp_path, active_model
):
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    query = tmp_path / "query.png"
    query.write_bytes(png_bytes(drawing(2 * 100 + 1)))  # USD800002 FIG. 2

    page = _search_page_as_examiner(browser_page, live_server)
    page.wait_for_load_state()
    page.set_input_files("#image-input", str(query))
    page.wait_for_selector("#query-preview", state="visible")
    page.click("#search-button")
    page.wait_for_selector(".card")

    cards = page.locator(".card")
    assert cards.count() == 6
    first_group = page.locator(".patent-group").first
    assert "USD800002" in first_group.locator("h2").inner_text()
    assert cards.first.locator(".rank").inner_text() == "#1"
    page.screenshot(path=str(tmp_path / "results.png"))

    cards.first.click()
    page.wait_for_selector("#viewer[open]")
    assert "USD800002 FIG. 2" in page.inner_text("#viewer-caption")
    page.keyboard.press("ArrowRight")
    assert "USD800002 FIG. 2" not in page.inner_text("#viewer-caption")
    page.keyboard.press("Escape")
    assert not page.is_visible("#viewer")


def test_the_class_focus_box_turns_the_focus_off_and_on_in_the_browser(live_server, browser_page, tmp_path, focus_corpus):
    """The hidden "false" and the box's "true" as Chromium really sends them (an unticked box sends nothing)."""
    from tests.drawings import FOCUS_QUERY_SEED

    query = tmp_path / "query.png"
    query.write_bytes(png_bytes(drawing(FOCUS_QUERY_SEED)))
    page = _search_page_as_examiner(browser_page, live_server)
    assert page.is_checked("#class-focus-input")
    page.set_input_files("#image-input", str(query))
    page.fill("input[name=k]", "12")
    page.click("#search-button")
    page.wait_for_selector(".card")
    assert page.inner_text("#class-focus-summary").startswith("Class focus: US D21 (100 %) · Locarno 21-01 (100 %)")
    assert page.locator(".focus-mark").count() == 6

    page.uncheck("#class-focus-input")  # search again with the same drawing (kept by its token)
    page.click("#search-button")
    page.wait_for_selector("#class-focus-summary >> text=Class focus off")
    assert page.locator(".focus-mark").count() == 0 and not page.is_checked("#class-focus-input")

    page.check("#class-focus-input")
    page.click("#search-button")
    page.wait_for_selector("#class-focus-summary >> text=Class focus: US D21")
    assert page.is_checked("#class-focus-input") and page.locator(".focus-mark").count() == 6


def test_search_deeper_runs_the_same_drawing_with_twice_the_hits_in_the_browser(
    live_server, browser_page, tmp_path, active_model
):
    """The button sits below the results, outside the form, and sends its k with the form's own k
    field: Chromium puts the button's value last, which the search reads."""
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    query = tmp_path / "query.png"
    query.write_bytes(png_bytes(drawing(2 * 100 + 1)))
    page = _search_page_as_examiner(browser_page, live_server)
    page.set_input_files("#image-input", str(query))
    page.fill("input[name=k]", "2")
    page.click("#search-button")
    page.wait_for_selector(".card")
    ranked = "cards => cards.map(c => c.dataset.caption.split(' · ')).sort((a, b) => a[0].slice(1) - b[0].slice(1))" \
             ".map(parts => parts[2])"  # best first: the page groups the hits by patent
    first = page.locator(".card").evaluate_all(ranked)
    assert len(first) == 2 and page.inner_text("#deeper-button") == "Search deeper: 4 hits"
    page.click("#deeper-button")
    page.wait_for_selector("#deeper-button >> text=Search deeper: 8 hits")
    deeper = page.locator(".card").evaluate_all(ranked)
    assert len(deeper) == 4 and deeper[:2] == first  # the same drawing, kept by its token, deeper
    assert page.input_value("input[name=k]") == "4"
    page.click("#deeper-button")
    page.wait_for_selector(".card >> nth=5")
    assert page.locator(".card").count() == 6 and page.locator("#search-deeper").count() == 0  # all 6: no more


def _search_page_as_examiner(page, live_server):
    """A new examiner logged in on the search page."""
    User.objects.create_user("examiner", password="pw-for-tests-only")
    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", "examiner")
    page.fill("input[name=password]", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_selector("#dropzone")
    return page
