"""An examiner works a case in Chromium (Playwright) as issue 7 describes, end to end."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from accounts.models import User
from cases.models import Case, CaseSearch, Judgment
from cases.services.cases import case_create
from cases.services.searches import QueryDrawing, case_search_run
from retrieval.ingest.pipeline import corpus_ingest
from retrieval.models import Figure
from retrieval.services.encoding import figure_encode_batch
from tests.drawings import drawing, png_bytes, small_corpus
from tests.test_browser import CHROMIUM, CHROMIUM_FLAGS, browser_page  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "pw-for-tests-only"


def log_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/?next=/cases/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_examiner_works_a_case_and_another_examiner_cannot_open_it(
    live_server, browser_page, tmp_path, active_model  # noqa: F811
):
    from playwright.sync_api import expect

    User.objects.create_user("ada", password=PASSWORD, role=User.Role.EXAMINER)
    User.objects.create_user("bob", password=PASSWORD, role=User.Role.EXAMINER)
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=4, views=3))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    views = []
    for v in (0, 1):  # two views of USD800002
        path = tmp_path / f"view-{v + 1}.png"
        path.write_bytes(png_bytes(drawing(2 * 100 + v)))
        views.append(str(path))

    page = browser_page
    log_in(page, live_server.url, "ada")
    page.fill("input[name=application_number]", "29/555,001")
    page.fill("input[name=title]", "Widget")
    page.fill("input[name=cutoff_date]", "1700-01-01")  # refused: the keyboard goes to the refusal
    page.click("#case-form button[type=submit]")
    expect(page.locator("[data-focus]")).to_be_focused()
    expect(page.locator("[data-focus]")).to_contain_text("A cutoff date is 1790-01-01 or later.")
    page.fill("input[name=cutoff_date]", "2030-01-01")
    page.click("#case-form button[type=submit]")
    page.wait_for_selector("#compose-form")
    case = Case.objects.get()
    assert page.input_value("#text-input") == "Widget"  # prefilled from the title
    page.click("#clear-text")
    assert page.input_value("#text-input") == ""

    page.set_input_files("#images-input", views)
    expect(page.locator(".view")).to_have_count(2)
    frame = page.locator(".crop-frame img").first
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.05)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=5)
    page.mouse.up()
    expect(page.locator(".crop-box").first).to_be_visible()
    assert page.input_value("#crops-input").startswith("[[")
    page.fill("input[name=k]", "12")
    # a refused search says why beside the button and keeps the drawings, their crops and the filters
    page.click("#compose-form summary")
    page.fill("input[name=grant_date_from]", "2020-01-01")
    page.fill("input[name=grant_date_to]", "2010-01-01")
    page.click("#search-button")
    expect(page.locator("#compose-error")).to_contain_text("Granted from")
    assert not CaseSearch.objects.exists()
    expect(page.locator(".view")).to_have_count(2)
    expect(page.locator(".crop-box").first).to_be_visible()
    assert page.input_value("#crops-input").startswith("[[") and page.input_value("input[name=k]") == "12"
    expect(page.locator("#search-button")).to_be_enabled()
    expect(page.locator("#compose-error")).to_be_focused()  # the keyboard stays at the message
    page.fill("input[name=grant_date_from]", "")
    page.fill("input[name=grant_date_to]", "")
    # the session ended while the page was open: the script says so and the drawings stay
    session = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    page.context.clear_cookies(name="sessionid")
    page.click("#search-button")
    expect(page.locator("#compose-error")).to_contain_text("Your session has ended")
    expect(page.locator(".view")).to_have_count(2)
    page.context.add_cookies([session])  # logged in again (in another tab)
    # a login in another tab renews the CSRF token: the form's own copy is stale, the cookie's is sent
    page.eval_on_selector("#compose-form input[name=csrfmiddlewaretoken]", "e => { e.value = 'x'.repeat(64); }")
    # the cutoff the search will use is said beside the button, whatever the filters' fold shows
    expect(page.locator("#cutoff-hint")).to_have_text("Cutoff: granted before 2030-01-01 (the case's).")
    page.check("input[name=ignore_cutoff]")
    expect(page.locator("#cutoff-hint")).to_contain_text("No cutoff for this search")
    page.uncheck("input[name=ignore_cutoff]")
    page.fill("input[name=cutoff]", "2020-05-01")
    expect(page.locator("#cutoff-hint")).to_contain_text("granted before 2020-05-01 instead of the case's 2030-01-01")
    page.fill("input[name=cutoff]", "2030-01-01")  # the case's own date is no override
    expect(page.locator("#cutoff-hint")).to_have_text("Cutoff: granted before 2030-01-01 (the case's).")
    page.fill("input[name=cutoff]", "")
    page.click("#search-button")
    page.wait_for_selector(".judge-card")
    expect(page.locator("#compose-error")).to_have_count(0)  # the search page
    page.go_back()  # the case page as it is now, with the search just run, not a cached copy
    expect(page.locator("#searches")).not_to_contain_text("No searches yet")
    expect(page.locator("#cutoff-hint")).to_have_text("Cutoff: granted before 2030-01-01 (the case's).")
    page.go_forward()
    page.wait_for_selector(".judge-card")

    first_search = CaseSearch.objects.get()
    images = list(first_search.images.order_by("position"))
    assert len(images) == 2 and images[0].crop is not None and images[1].crop is None
    cards = page.locator(".judge-card")
    assert cards.count() == 12
    groups = page.locator(".patent-group")
    first_patent, second_patent = groups.nth(0).get_attribute("data-patent"), groups.nth(1).get_attribute("data-patent")
    assert groups.nth(0).locator(".judge-card").count() == 3

    page.keyboard.press("j")           # the first hit
    page.keyboard.press("3")
    page.keyboard.press("x")
    expect(cards.nth(0)).to_have_attribute("data-category", "X")
    expect(cards.nth(0)).to_have_attribute("data-grade", "3")
    # what the buttons show is said too: pressed state, and a polite line for a screen reader
    expect(cards.nth(0).locator("button[data-grade='3']")).to_have_attribute("aria-pressed", "true")
    expect(cards.nth(0).locator("button[data-grade='2']")).to_have_attribute("aria-pressed", "false")
    expect(cards.nth(0).locator("button[data-category='X']")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#judge-status")).to_have_text(
        f"{cards.nth(0).get_attribute('aria-label')}: grade 3 (highly relevant), category X")
    for _ in range(3):                 # the first hit of the second patent
        page.keyboard.press("j")
    page.keyboard.press("2")
    page.keyboard.press("y")
    expect(cards.nth(3)).to_have_attribute("data-category", "Y")
    expect(cards.nth(3)).to_have_attribute("data-grade", "2")
    page.keyboard.press("j")
    page.keyboard.press("1")
    page.keyboard.press("1")           # a grade's key again clears it, as its button does
    expect(cards.nth(4)).to_have_attribute("data-grade", "")
    page.keyboard.press("0")
    expect(cards.nth(4)).to_have_attribute("data-grade", "0")
    assert Judgment.objects.filter(case=case).count() == 3

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    expect(page.locator("#compare")).to_be_visible()
    panes = page.locator("#compare .pane:not([hidden]) img")
    assert panes.count() == 3  # two query views and the hit (no hit kept beside)
    shown = cards.nth(4).get_attribute("data-figure")
    assert page.get_attribute("#compare-hit", "src").endswith(f"/figures/{shown}/image")
    page.keyboard.press("+")
    transforms = {panes.nth(i).evaluate("img => img.style.transform") for i in range(3)}
    assert len(transforms) == 1 and "scale(1.25)" in transforms.pop()  # zoomed together
    page.click("#compare button[data-zoom='1.25']")  # and by button, for whoever has the keys off
    assert "scale(1.5625)" in panes.nth(0).evaluate("img => img.style.transform")
    page.keyboard.press("Shift+ArrowLeft")  # pan by keyboard, all drawings together
    transforms = {panes.nth(i).evaluate("img => img.style.transform") for i in range(3)}
    assert len(transforms) == 1 and "translate(40px, 0px)" in transforms.pop()
    expect(page.locator("#compare")).to_be_visible()
    assert page.get_attribute("#compare-hit", "src").endswith(f"/figures/{shown}/image")  # not the next hit
    page.click("#compare button[data-zoom='reset']")
    assert "scale(1)" in panes.nth(2).evaluate("img => img.style.transform")
    page.keyboard.press("Escape")
    expect(page.locator("#compare")).to_be_hidden()

    with page.expect_navigation():
        page.keyboard.press("r")       # refine with the judgments
    refined = CaseSearch.objects.get(origin=CaseSearch.Origin.REFINE)
    assert page.url.endswith(f"/searches/{refined.pk}/")
    assert "refined from #1" in page.inner_text("h1")
    # a refine logs no drawings of its own: its page and compare view show those of #1, where its query comes from
    expect(page.locator(".search-head .query-thumb")).to_have_count(2)
    assert page.locator("#compare .pane:not([hidden]) img").count() == 3
    expect(page.locator(".judge-card.judged").first).to_be_visible()  # judgments show in later searches

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    with page.expect_download() as download_info:
        page.click("#export-citations")
    rows = list(csv.reader(io.StringIO(open(download_info.value.path(), encoding="utf-8").read())))
    assert rows[0][:5] == ["application_number", "patent_id", "title", "grant_date", "category"]
    assert {(row[1], row[4]) for row in rows[1:]} == {(first_patent, "X"), (second_patent, "Y")}
    with page.expect_download() as download_info:
        page.click("#export-searches")
    log = list(csv.reader(io.StringIO(open(download_info.value.path(), encoding="utf-8").read())))
    assert log[0][:6] == ["application_number", "search", "search_id", "searched_at", "examiner", "origin"]
    assert len(log) - 1 == CaseSearch.objects.filter(case=case).count()
    assert log[1][5] == "query" and log[-1][5] == "refine" and log[-1][6] == "1"  # refined from search 1

    other = page.context.browser.new_page()
    log_in(other, live_server.url, "bob")
    response = other.goto(f"{live_server.url}/cases/{case.pk}/")
    assert response.status == 404
    assert "29/555,001" not in other.content()
    other.goto(f"{live_server.url}/cases/")
    assert "29/555,001" not in other.content()


def _searched_case(tmp_path, active_model, *, patents, views, k):
    """Examiner ada's case with one logged search of a small corpus (patents × views, encoded)."""
    examiner = User.objects.create_user("ada", password=PASSWORD, role=User.Role.EXAMINER)
    result = corpus_ingest(path=small_corpus(tmp_path / "corpus", patents=patents, views=views))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    case = case_create(examiner=examiner, application_number="29/001", title="Widget",
                       cutoff_date=dt.date(2100, 1, 1))
    search = case_search_run(case=case, user=examiner, k=k,
                             drawings=[QueryDrawing(png_bytes(drawing(0)), "q.png", drawing(0))])
    return case, search


def _reviewing(page, live_server, tmp_path, active_model, **corpus):
    """Examiner ada on the search page of her searched case (``_searched_case``): (case, search)."""
    case, search = _searched_case(tmp_path, active_model, **corpus)
    log_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/cases/{case.pk}/searches/{search.pk}/")
    return case, search


def test_a_search_of_150_hits_stays_usable_by_keyboard(live_server, browser_page, tmp_path, active_model):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    case, search = _reviewing(page, live_server, tmp_path, active_model, patents=50, views=3, k=150)
    cards = page.locator(".judge-card")
    assert cards.count() == 150 and page.locator(".patent-group").count() == 50
    assert page.locator(".judge-card img[loading=lazy]").count() == 150
    page.keyboard.press("End")
    page.keyboard.press("1")
    expect(cards.nth(149)).to_have_attribute("data-grade", "1")
    assert page.evaluate("document.activeElement.dataset.rank") == cards.nth(149).get_attribute("data-rank")
    page.keyboard.press("Home")
    page.keyboard.press("a")
    expect(cards.nth(0)).to_have_attribute("data-category", "A")
    assert Judgment.objects.filter(case=case).count() == 2


def test_closing_compare_keeps_the_hit_reached_in_it_and_an_unreadable_file_is_said_at_once(
    live_server, browser_page, tmp_path, active_model  # noqa: F811
):
    import re

    from playwright.sync_api import expect

    examiner = User.objects.create_user("ada", password=PASSWORD, role=User.Role.EXAMINER)
    result = corpus_ingest(path=small_corpus(tmp_path / "mini", patents=3, views=2))
    figure_encode_batch(figure_ids=result.figure_ids, model_id=active_model.pk)
    case = case_create(examiner=examiner, application_number="29/7", title="Widget", cutoff_date=dt.date(2100, 1, 1))
    search = case_search_run(case=case, user=examiner, k=6,
                             drawings=[QueryDrawing(png_bytes(drawing(0)), "q.png", drawing(0))])
    page = browser_page
    log_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/cases/{case.pk}/searches/{search.pk}/")
    cards = page.locator(".judge-card")
    page.keyboard.press("j")           # the first hit
    page.keyboard.press("c")
    expect(page.locator("#compare")).to_be_visible()
    page.keyboard.press("ArrowRight")  # on to the third hit, in the compare view
    page.keyboard.press("ArrowRight")
    third = cards.nth(2).get_attribute("data-figure")
    expect(page.locator("#compare-hit")).to_have_attribute("src", re.compile(f"/figures/{third}/image$"))
    page.keyboard.press("Escape")
    expect(page.locator("#compare")).to_be_hidden()
    expect(cards.nth(2)).to_be_focused()  # not back on the hit the view was opened from
    page.keyboard.press("1")
    expect(cards.nth(2)).to_have_attribute("data-grade", "1")
    assert list(Judgment.objects.filter(case=case).values_list("figure_id", flat=True)) == [int(third)]

    good, bad = tmp_path / "front.png", tmp_path / "side.png"
    good.write_bytes(png_bytes(drawing(1)))
    bad.write_bytes(b"minutes of the meeting")  # named .png, no image
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.set_input_files("#images-input", [str(good), str(bad)])
    expect(page.locator(".view").nth(1)).to_contain_text("side.png cannot be read as a drawing")
    expect(page.locator(".view").nth(0).locator("img")).to_be_visible()
    expect(page.locator("#dropzone-hint")).to_have_text("2 of 8 drawings — add more, or search")
    # a crop by keyboard: the first arrow starts a box inset a tenth, arrows move it, Shift sizes it
    frame = page.locator(".view .crop-frame").first
    frame.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.input_value("#crops-input") == "[[0.12,0.1,0.92,0.9],null]"
    page.keyboard.press("Shift+ArrowUp")
    assert page.input_value("#crops-input") == "[[0.12,0.1,0.92,0.88],null]"
    expect(page.locator("#crop-said")).to_have_text("Crop of front.png: 12 to 92 % across, 10 to 88 % down")
    expect(page.locator(".view .crop-frame").first).to_be_focused()  # kept through the redraw
    page.keyboard.press("Delete")
    assert page.input_value("#crops-input") == ""
    expect(page.locator(".crop-box").first).to_be_hidden()
    page.locator(".view button", has_text="Remove").first.click()
    expect(page.locator("#dropzone-hint")).to_have_text("1 of 8 drawings — add more, or search")
    # the button pressed is gone: the keyboard is on the next drawing's Remove, then on adding one
    expect(page.locator(".view button", has_text="Remove")).to_be_focused()
    expect(page.locator(".view button", has_text="Remove")).to_have_attribute("aria-label", "Remove drawing 1 (side.png)")
    page.keyboard.press("Enter")  # empty again: the first words again
    expect(page.locator("#dropzone-hint")).to_contain_text("Drop up to 8 drawings")
    expect(page.locator("#images-input")).to_be_focused()
    page.goto(f"{live_server.url}/")
    page.set_input_files("#image-input", str(bad))
    expect(page.locator("#dropzone-hint")).to_contain_text("side.png cannot be read as a drawing")
    expect(page.locator("#query-preview")).to_be_hidden()


def test_on_a_phone_the_compare_view_grades_and_cites_by_touch(live_server, browser_page, tmp_path, active_model):  # noqa: F811
    import re

    from playwright.sync_api import expect

    case, search = _searched_case(tmp_path, active_model, patents=3, views=2, k=6)
    phone = {"width": 390, "height": 844}
    context = browser_page.context.browser.new_context(viewport=phone, has_touch=True, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/cases/{case.pk}/searches/{search.pk}/")
    cards = page.locator(".judge-card")
    second = cards.nth(1)
    second.locator("button[data-do=compare]").tap()  # no keyboard from here on
    expect(page.locator("#compare")).to_be_visible()
    figure = second.get_attribute("data-figure")
    expect(page.locator("#compare-hit")).to_have_attribute("src", re.compile(f"/figures/{figure}/image$"))
    expect(page.locator("#compare-judgment")).to_have_text("not judged yet")
    buttons = page.locator("#compare-buttons button")
    assert buttons.all_inner_texts() == ["0", "1", "2", "3", "X", "Y", "A"]
    for i in range(buttons.count()):  # a thumb's size, and all on the screen
        box = buttons.nth(i).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
        assert 0 <= box["x"] and box["x"] + box["width"] <= phone["width"] and box["y"] + box["height"] <= phone["height"]

    page.locator("#compare-buttons button[data-grade='3']").tap()
    expect(page.locator("#compare-judgment")).to_have_text("grade 3 (highly relevant)")
    page.locator("#compare-buttons button[data-category='X']").tap()
    expect(page.locator("#compare-judgment")).to_have_text("grade 3 (highly relevant) · category X")
    expect(page.locator("#compare-buttons button.on")).to_have_text(["3", "X"])
    page.screenshot(path=str(tmp_path / "compare-phone.png"))
    judgment = Judgment.objects.get(case=case)
    assert (judgment.figure_id, judgment.grade, judgment.category) == (int(figure), 3, "X")
    page.locator("#compare-buttons button[data-grade='3']").tap()  # as on the card: tapped again, cleared
    expect(page.locator("#compare-judgment")).to_have_text("category X")
    judgment.refresh_from_db()
    assert (judgment.grade, judgment.category) == (None, "X")

    third = cards.nth(2).get_attribute("data-figure")
    page.locator("#compare button[data-step='1']").tap()  # the next hit, by touch
    expect(page.locator("#compare-hit")).to_have_attribute("src", re.compile(f"/figures/{third}/image$"))
    page.locator("#compare button[data-step='-1']").tap()
    expect(page.locator("#compare-hit")).to_have_attribute("src", re.compile(f"/figures/{figure}/image$"))
    page.locator("#compare button[data-close]").tap()
    expect(page.locator("#compare")).to_be_hidden()
    expect(second).to_have_attribute("data-category", "X")  # the card shows what the compare view set
    expect(second.locator("button.on")).to_have_text(["X"])

    # a note of one long word, or a link, wraps in its card and row: the page does not scroll sideways
    from cases.services.judgments import judgment_set

    judgment_set(case=case, figure_id=int(figure), user=case.examiner, note="é" * 60 + "https://example.org/" + "x" * 80)
    for url in (f"/cases/{case.pk}/searches/{search.pk}/", f"/cases/{case.pk}/", f"/cases/{case.pk}/patents/"
                f"{Figure.objects.get(pk=figure).patent.patent_id}/"):
        page.goto(live_server.url + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= phone["width"], url
    context.close()


def test_a_refused_note_names_the_note_not_the_api_key(live_server, browser_page, tmp_path, active_model):  # noqa: F811
    from playwright.sync_api import expect
    from rest_framework.test import APIClient

    page = browser_page
    case, search = _reviewing(page, live_server, tmp_path, active_model, patents=2, views=1, k=2)
    page.keyboard.press("j")
    page.keyboard.press("n")
    page.fill("#note-text", "x" * 10_001)
    page.click("#note-form button[type=submit]")
    expect(page.locator("#judge-error")).to_have_text("Note: Ensure this field has no more than 10000 characters.")
    api = APIClient()
    api.force_authenticate(case.examiner)
    figure = page.locator(".judge-card").first.get_attribute("data-figure")
    refused = api.put(f"/api/v1/cases/{case.pk}/judgments/{figure}/", {"note": "x" * 10_001, "search": search.pk},
                      format="json")
    assert refused.json() == {"message": "note: Ensure this field has no more than 10000 characters.",
                              "extra": {"fields": {"note": ["Ensure this field has no more than 10000 characters."]}}}
    assert not Judgment.objects.exists()


def test_single_key_shortcuts_can_be_turned_off_and_the_arrows_still_work(  # noqa: F811
    live_server, browser_page, tmp_path, active_model  # noqa: F811
):
    """Whoever sets keys off by accident (speech input) turns letters and digits off at the foot
    of any page; the choice holds on the next page; arrows and the buttons still judge."""
    from playwright.sync_api import expect

    page = browser_page
    case, search = _reviewing(page, live_server, tmp_path, active_model, patents=2, views=1, k=2)
    cards = page.locator(".judge-card")
    page.uncheck("input[data-shortcuts]")
    page.reload()  # kept by the browser
    expect(page.locator("input[data-shortcuts]")).not_to_be_checked()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowRight")  # not a character: still moves
    expect(cards.nth(0)).to_be_focused()
    page.keyboard.press("3")
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_hidden()
    expect(page.locator("#refine-button kbd")).to_be_hidden()  # the single-key hints go with the keys
    page.click("#help-button")
    expect(page.locator("#help .keys-off-note")).to_be_visible()
    page.keyboard.press("Escape")
    cards.nth(0).locator("button[data-grade='2']").click()  # the buttons judge as before
    expect(cards.nth(0)).to_have_attribute("data-grade", "2")
    assert list(Judgment.objects.values_list("grade", flat=True)) == [2]
    cards.nth(0).focus()
    page.keyboard.press("Enter")  # not a character: opens the compare view as a click on the card does
    expect(page.locator("#compare")).to_be_visible()
    page.keyboard.press("Escape")
    page.check("input[data-shortcuts]")
    cards.nth(0).focus()
    page.keyboard.press("3")
    expect(cards.nth(0)).to_have_attribute("data-grade", "3")


def test_a_patent_s_figures_are_graded_and_cited_on_its_page(live_server, browser_page, tmp_path, active_model):  # noqa: F811
    """From a hit, the patent's page (p): every view of the patent, the ones the search did not show
    too, is judged there as on the search page, and compared with the search's drawings."""
    from playwright.sync_api import expect

    case, search = _searched_case(tmp_path, active_model, patents=3, views=3, k=2)  # shows 2 of 9 figures
    shown = set(search.hits.values_list("figure_id", flat=True))
    page = browser_page
    log_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/cases/{case.pk}/searches/{search.pk}/")
    page.keyboard.press("j")
    page.keyboard.press("p")
    page.wait_for_selector(".patent-figures")
    cards = page.locator(".judge-card")
    assert cards.count() == 3
    figures = [int(f) for f in cards.evaluate_all("cards => cards.map(c => c.dataset.figure)")]
    unseen = next(i for i, f in enumerate(figures) if f not in shown)
    seen = next(i for i, f in enumerate(figures) if f in shown)
    for _ in range(unseen + 1):
        page.keyboard.press("j")
    page.keyboard.press("2")
    page.keyboard.press("y")
    expect(cards.nth(unseen).locator(".judgment .cat")).to_have_text("Y")
    judged = Judgment.objects.get(case=case, figure_id=figures[unseen])
    assert (judged.grade, judged.category, judged.search_id) == (2, "Y", None)  # no search showed it
    cards.nth(seen).locator("button[data-grade='3']").click()
    expect(cards.nth(seen).locator(".judgment .grade")).to_have_text("G3")
    assert Judgment.objects.get(case=case, figure_id=figures[seen]).search_id == search.pk  # the search that showed it
    cards.nth(unseen).locator("button[data-do='compare']").click()  # beside the search's drawing
    expect(page.locator("#compare")).to_be_visible()
    assert page.locator("#compare .pane:visible").count() == 2
    expect(page.locator("#compare-judgment")).to_have_text("grade 2 (relevant) · category Y")
    page.keyboard.press("Escape")
    page.keyboard.press("m")  # nothing to search like on a patent page, and no patent page to go to
    page.keyboard.press("p")
    assert "/patents/" in page.url and page.locator("#judge-error").is_hidden()
    page.goto(f"{live_server.url}/cases/{case.pk}/citations/")
    patent_id = Figure.objects.get(pk=figures[seen]).patent.patent_id
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)  # the patent, cited once: Y, from the figure no search showed
    expect(row.locator("td").first).to_have_text("Y")
    expect(row).to_contain_text(patent_id)


def test_the_review_shows_the_hits_not_judged_yet_and_the_new_ones_of_a_deeper_rerun(
    live_server, browser_page, tmp_path, active_model,  # noqa: F811
):
    """A review in passes: judge some hits, then `u` shows only those not judged, and the arrows
    step over the hidden ones; a "Search deeper" re-run shows its new hits on their own."""
    from playwright.sync_api import expect

    from cases.services.searches import case_search_rerun

    page = browser_page
    case, search = _reviewing(page, live_server, tmp_path, active_model, patents=4, views=2, k=4)
    cards = page.locator(".judge-card")
    expect(page.locator("[data-count=unjudged]")).to_have_text("4")
    page.keyboard.press("j")
    page.keyboard.press("0")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-count=unjudged]")).to_have_text("2")
    page.keyboard.press("u")
    expect(page.locator("#review-filter button[data-filter=unjudged]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".judge-card:visible")).to_have_count(2)
    expect(page.locator("#judge-status")).to_have_text("Showing 2 of 4 hits")
    unjudged = [cards.nth(i).get_attribute("data-figure") for i in range(4)
                if cards.nth(i).get_attribute("data-grade") == "" and cards.nth(i).get_attribute("data-category") == ""]
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.dataset.figure") == unjudged[0]
    page.keyboard.press("j")  # the next shown hit, over the hidden ones
    assert page.evaluate("document.activeElement.dataset.figure") == unjudged[1]
    page.keyboard.press("3")  # judged while hidden ones are out: it stays shown until the next choice
    expect(page.locator("[data-count=unjudged]")).to_have_text("1")
    expect(page.locator(".judge-card:visible")).to_have_count(2)
    page.keyboard.press("u")
    expect(page.locator(".judge-card:visible")).to_have_count(4)
    page.keyboard.press("u")
    expect(page.locator(".judge-card:visible")).to_have_count(1)
    page.keyboard.press("0")
    expect(page.locator("[data-count=unjudged]")).to_have_text("0")
    page.locator("#review-filter button[data-filter=unjudged]").click()
    expect(page.locator("#filter-empty")).to_be_visible()
    expect(page.locator(".patent-group:visible")).to_have_count(0)
    page.locator("#filter-empty button").click()
    expect(page.locator(".judge-card:visible")).to_have_count(4)

    deeper = case_search_rerun(search=search, user=case.examiner, k=8)
    page.goto(f"{live_server.url}/cases/{case.pk}/searches/{deeper.pk}/")
    expect(page.locator("[data-count=new]")).to_have_text("4")
    expect(page.locator("[data-count=unjudged]")).to_have_text("4")  # the first 4 keep their judgments
    page.locator("#review-filter button[data-filter=new]").click()
    expect(page.locator(".judge-card:visible")).to_have_count(4)
    expect(page.locator(".judge-card.is-new:visible")).to_have_count(4)


def test_a_hit_s_drawing_becomes_a_query_to_crop_or_join_with_other_views(
    live_server, browser_page, tmp_path, active_model,  # noqa: F811
):
    """q on a hit (or its ⌖): the case's composer starts with that figure's drawing, named after it,
    to crop or add to; the search it runs logs the drawing under that name and finds the figure itself first."""
    from playwright.sync_api import expect

    page = browser_page
    case, search = _reviewing(page, live_server, tmp_path, active_model, patents=3, views=2, k=4)
    page.keyboard.press("j")
    page.keyboard.press("j")
    figure = Figure.objects.select_related("patent").get(pk=page.evaluate("document.activeElement.dataset.figure"))
    name = f"{figure.patent.patent_id} FIG. {figure.figure_label}.png"
    page.keyboard.press("q")
    expect(page.locator("#views .view-name")).to_have_text([f"1. {name}"])
    expect(page.locator("#dropzone-hint")).to_have_text("1 of 8 drawings — add more, or search")
    assert "drawing=" not in page.url  # a reload does not add it again
    page.locator("h1").click()  # the composer's keys, as on the plain search page: / to the words, Enter searches
    page.keyboard.press("/")
    expect(page.locator("#text-input")).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.press("Shift+Enter")  # a new line, not a search
    page.keyboard.type("lid")
    assert page.input_value("#text-input") == "Widget\nlid"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{case.pk}/searches/*/")
    logged = CaseSearch.objects.order_by("-pk").first()
    assert list(logged.images.values_list("filename", flat=True)) == [name]
    first = logged.hits.order_by("rank").first()
    assert (first.figure_id, first.identical) == (figure.pk, True)  # the same pixels: the figure itself first

    page.goto(f"{live_server.url}/cases/{case.pk}/patents/{figure.patent.patent_id}/")  # the patent page's ⌖ too
    page.locator(f".judge-card[data-figure='{figure.pk}'] a[data-do=query]").click()
    expect(page.locator("#views .view-name")).to_have_text([f"1. {name}"])
    page.goto(f"{live_server.url}/cases/{case.pk}/?drawing=999999&drawing=abc")  # nothing to add: the composer as it was
    expect(page.locator("#views .view")).to_have_count(0)


def test_the_compare_view_keeps_one_hit_beside_the_next_ones(live_server, browser_page, tmp_path, active_model):  # noqa: F811
    """Two references side by side with the query (a Y citation's combination): s keeps the hit
    shown in its own pane while the arrows go through the others; s on it again lets it go."""
    import re

    from playwright.sync_api import expect

    page = browser_page
    _reviewing(page, live_server, tmp_path, active_model, patents=3, views=1, k=3)
    first, second = (page.locator(".judge-card").nth(i).get_attribute("data-figure") for i in (0, 1))
    page.keyboard.press("j")
    page.keyboard.press("c")
    expect(page.locator("#kept-pane")).to_be_hidden()
    page.keyboard.press("s")
    expect(page.locator("#kept-hit")).to_have_attribute("src", re.compile(f"/figures/{first}/image$"))
    expect(page.locator("#keep-button")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#compare-hit")).to_have_attribute("src", re.compile(f"/figures/{second}/image$"))
    expect(page.locator("#kept-hit")).to_have_attribute("src", re.compile(f"/figures/{first}/image$"))
    expect(page.locator("#keep-button")).to_have_attribute("aria-pressed", "false")
    assert page.locator("#compare .pane:visible").count() == 3  # the query, the kept hit, the hit
    page.locator("#keep-button").click()  # by button: the hit shown is kept instead
    expect(page.locator("#kept-label")).to_contain_text("kept: #2")
    page.keyboard.press("s")
    expect(page.locator("#kept-pane")).to_be_hidden()


def test_the_composer_chooses_drawings_by_key(live_server, browser_page, tmp_path, active_model):  # noqa: F811
    """u opens the file chooser, as on the plain search page (the input's click is what opens it;
    counted here and the chooser kept shut, since headless Chromium opens it only now and then)."""
    page = browser_page
    case, _ = _reviewing(page, live_server, tmp_path, active_model, patents=2, views=1, k=2)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.evaluate("""window.chosen = 0; document.getElementById("images-input").addEventListener("click", (e) => {
        window.chosen += 1; e.preventDefault(); })""")
    page.keyboard.press("u")
    assert page.evaluate("window.chosen") == 1
    page.locator("#text-input").focus()
    page.keyboard.press("u")  # typed in the description: a letter, not a key
    assert page.evaluate("window.chosen") == 1 and "u" in page.input_value("#text-input")  # "Widget" had none
