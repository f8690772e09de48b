"""The case pages rendered by the server: list, case page, composer errors, search page, exports."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client

from cases.models import Case, CaseSearch
from tests.cases.conftest import upload
from tests.drawings import drawing, png_bytes
from tests.pages import alert_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(examiner):
    client = Client()
    client.force_login(examiner)
    return client


def test_the_case_list_creates_a_case_and_shows_counts(browser):
    response = browser.post("/cases/", {"application_number": "29/1", "title": "Lamp", "cutoff_date": "2015-01-01"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    page = browser.get("/cases/").content.decode()
    assert "29/1" in page and "Lamp" in page
    bad = browser.post("/cases/", {"application_number": "29/2", "title": "", "cutoff_date": "someday"})
    assert bad.status_code == 400 and Case.objects.count() == 1
    assert alert_lines(bad) == ["Title: This field may not be blank.",
                                "Prior-art cutoff: Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]
    twice = browser.post("/cases/", {"application_number": "29/1", "title": "Lamp", "cutoff_date": "2015-01-01"})
    assert twice.status_code == 400 and Case.objects.count() == 1
    assert alert_lines(twice) == ["You already have a case for application 29/1 (Lamp, open): open it from the "
                                  "cases list, or check the number."]
    undated = browser.post("/cases/", {"application_number": "29/3", "title": "Lamp", "cutoff_date": ""})
    assert alert_lines(undated) == ["Prior-art cutoff: This field is required."]  # not "wrong format"


def test_clearing_a_required_field_of_a_case_is_refused_and_the_form_keeps_what_was_sent(browser, case):
    sent = {"action": "update", "application_number": "29/123,456", "title": "", "description": "New words",
            "locarno_class": "", "us_class": "D14/486", "cutoff_date": ""}
    cleared = browser.post(f"/cases/{case.pk}/", sent)
    assert cleared.status_code == 400  # it was a silent redirect that kept the old title
    assert alert_lines(cleared) == ["Title: This field may not be blank.", "Cutoff: This field may not be blank."]
    page = cleared.content.decode()
    assert '<input name="title" value="">' in page and ">New words</textarea>" in page  # as sent, not refilled
    case.refresh_from_db()
    assert (case.title, case.description, case.cutoff_date.isoformat()) == ("Widget", "", "2030-01-01")
    emptied = browser.post(f"/cases/{case.pk}/", {**sent, "title": "Widget", "cutoff_date": "2030-01-01"})
    case.refresh_from_db()  # the optional ones may be cleared
    assert emptied.status_code == 302 and (case.locarno_class, case.description) == ("", "New words")


def test_the_case_list_finds_a_case_by_number_or_title_and_status(browser, examiner, other_examiner, monkeypatch):
    from cases.services.cases import case_create, case_update

    for number, title in [("29/700,001", "Coffee mug"), ("29/700,002", "Desk lamp"), ("29/800,003", "Mug holder")]:
        case_create(examiner=examiner, application_number=number, title=title, cutoff_date="2015-01-01")
    case_create(examiner=other_examiner, application_number="29/700,009", title="Mug", cutoff_date="2015-01-01")
    case_update(case=Case.objects.get(application_number="29/800,003"), status="closed")

    def shown(query: str) -> tuple[int, list[str]]:
        response = browser.get("/cases/" + query)
        page = response.content.decode()
        table = page[page.index("<tbody>"):page.index("</tbody>")] if "<tbody>" in page else ""
        return response.status_code, [n for n in ("29/700,001", "29/700,002", "29/800,003", "29/700,009") if n in table]

    assert shown("?q=mug") == (200, ["29/700,001", "29/800,003"])  # the title, any case; not bob's
    assert shown("?q=700,00") == (200, ["29/700,001", "29/700,002"])  # part of the number
    assert shown("?q=mug&status=open") == (200, ["29/700,001"])
    assert shown("?status=closed") == (200, ["29/800,003"])
    page = browser.get("/cases/?q=mug").content.decode()
    assert "2 cases match “mug”" in page and 'value="mug"' in page and "Show all cases" in page
    none = browser.get("/cases/?q=teapot").content.decode()
    assert "No case matches." in none and "No cases yet" not in none
    bad = browser.get("/cases/?status=lost")
    assert bad.status_code == 400 and alert_lines(bad) == ['Status: "lost" is not a valid choice.']
    assert shown("?status=lost")[1] == ["29/700,001", "29/700,002", "29/800,003"]  # the list, unfiltered
    monkeypatch.setattr("cases.views.CASES_PER_PAGE", 1)  # the pager keeps the filter
    first = browser.get("/cases/?q=700,00").content.decode()
    links = re.findall(r'href="(\?[^"]*page=2[^"]*)"', first)
    assert links and all("q=700%2C00" in link for link in links), links
    assert shown(html.unescape(links[0])) == (200, ["29/700,001"])  # the other match, not an unfiltered page


def test_the_composers_script_gets_the_search_url_or_the_pages_error_lines(browser, case, encoded_corpus):
    """What static/js/case_compose.js asks for (Accept: application/json): the lines the page
    would show, so it can keep the drawings on the page; or where the new search is."""
    url, script = f"/cases/{case.pk}/search", {"HTTP_ACCEPT": "application/json"}
    refused = browser.post(url, {"text": "", "k": "5"}, **script)
    assert refused.status_code == 400 and refused.json() == {"errors": ["Nothing to search: add a drawing or a description."]}
    dates = browser.post(url, {"text": "lamp", "grant_date_from": "2020-01-01", "grant_date_to": "2010-01-01"}, **script)
    assert dates.status_code == 400 and dates.json() == {"errors": ["The “Granted from” date is after the “to” date."]}
    assert not CaseSearch.objects.exists()
    page = browser.post(url, {"text": "lamp", "grant_date_from": "2020-01-01", "grant_date_to": "2010-01-01",
                              "corpus": [str(encoded_corpus.corpus_id)]})  # without the script: the page
    assert page.status_code == 400 and f'<option value="{encoded_corpus.corpus_id}" selected>' in page.content.decode()
    named = browser.post(url, {"text": "", "corpus": f"{encoded_corpus.corpus_name},nonesuch"})  # as the API takes them
    assert f'<option value="{encoded_corpus.corpus_id}" selected>' in named.content.decode()
    browser.logout()  # a page left open overnight: the script is told in JSON, not sent the login page
    ended = browser.post(url, {"text": "lamp"}, **script)
    assert ended.status_code == 401 and ended.json()["errors"][0].startswith("Your session has ended")
    assert browser.post(url, {"text": "lamp"}).status_code == 302  # the page itself goes to the login
    browser.force_login(case.examiner)
    done = browser.post(url, {"text": "lamp", "k": "5"}, **script)
    search = CaseSearch.objects.get()
    assert done.status_code == 201 and done.json() == {"url": f"/cases/{case.pk}/searches/{search.pk}/"}


def test_the_composer_searches_and_the_search_page_shows_the_ranking(browser, case, encoded_corpus):
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert "granted before 2030-01-01" in page and 'id="compose-form"' in page
    assert ">Widget</textarea>" in page  # the description is prefilled from the case title
    response = browser.post(f"/cases/{case.pk}/search", {
        "images": [upload(png_bytes(drawing(0)), "a.png"), upload(png_bytes(drawing(1)), "b.png")],
        "crops": json.dumps([[0.1, 0.1, 0.9, 0.9], None]), "text": "", "text_weight": "0.3", "k": "5",
    })
    search = CaseSearch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/searches/{search.pk}/"
    results = browser.get(response["Location"]).content.decode()
    assert results.count('class="card judge-card') == 5 and "Refine" in results
    assert browser.get(f"/cases/{case.pk}/").content.decode().count(f"/cases/{case.pk}/searches/{search.pk}/") >= 1


def test_composer_errors_are_shown_and_nothing_is_logged(browser, case, encoded_corpus):
    images = [upload(png_bytes(drawing(i)), f"{i}.png") for i in range(9)]
    response = browser.post(f"/cases/{case.pk}/search", {"images": images, "k": "5"})
    assert response.status_code == 400 and "at most 8" in response.content.decode()
    response = browser.post(f"/cases/{case.pk}/search", {"images": [upload(png_bytes(drawing(0)))],
                                                          "crops": "[[0.5, 0.5, 0.2, 0.9]]"})
    assert response.status_code == 400 and "empty" in response.content.decode()
    zero = browser.post(f"/cases/{case.pk}/search", {"images": [upload(png_bytes(drawing(0))), upload(b"", "blank.png")]})
    assert alert_lines(zero) == ["Drawings: drawing 2 (blank.png): The file cannot be used: empty file."]  # as any bad file
    assert CaseSearch.objects.count() == 0


def test_the_composer_says_what_to_fix_in_the_examiner_s_words(browser, case, encoded_corpus):
    nothing = browser.post(f"/cases/{case.pk}/search", {"text": " ", "k": "5"}).content.decode()
    assert "Nothing to search: add a drawing or a description." in nothing
    assert "like_figure" not in nothing and "exactly one" not in nothing  # the API's words, not the page's
    images = [upload(png_bytes(drawing(0)), "front.png"), upload(b"minutes of the meeting", "side.png")]
    response = browser.post(f"/cases/{case.pk}/search", {"images": images, "k": "5"})
    assert response.status_code == 400
    assert "drawing 2 (side.png): The file cannot be used: not an image" in response.content.decode()
    assert CaseSearch.objects.count() == 0


def test_the_search_log_names_the_seed_of_more_like_this_by_its_figure_label(browser, case, encoded_corpus, examiner):
    from cases.services.searches import case_search_run
    from retrieval.models import Figure

    seed = Figure.objects.get(patent__patent_id="USD800001", figure_label="2")
    case_search_run(case=case, user=examiner, k=3, like_figure=seed.pk)
    page = browser.get(f"/cases/{case.pk}/").content.decode()
    assert "More like USD800001 FIG. 2" in page and f"(figure {seed.pk})" not in page


def test_patent_and_citation_pages(browser, case, encoded_corpus, examiner):
    from cases.services.judgments import judgment_set
    from retrieval.models import Figure

    figure = Figure.objects.get(patent__patent_id="USD800001", figure_label="2")
    judgment_set(case=case, figure_id=figure.pk, user=examiner, grade=1)
    judgment_set(case=case, figure_id=figure.pk, user=examiner, grade=3, note="same lid")
    page = browser.get(f"/cases/{case.pk}/patents/USD800001/").content.decode()
    assert "USD800001" in page and "History (2)" in page and "same lid" in page
    assert page.count('class="card judge-card"') == 3 and page.count('<button type="button" data-grade=') == 3 * 4 + 4
    assert f'data-figure="{figure.pk}"' in page and 'data-grade="3"' in page  # painted as judged by the review script
    assert 'data-do="like"' not in page and "compares it with" not in page  # not from a search: no drawing to compare
    from cases.services.cases import case_update

    case_update(case=case, status="closed")
    page = browser.get(f"/cases/{case.pk}/patents/USD800001/").content.decode()
    assert "The case is closed: judgments are read-only." in page and '<button type="button" data-grade=' not in page
    case_update(case=case, status="open")
    assert browser.get(f"/cases/{case.pk}/patents/NOPE/").status_code == 404
    assert "No prior art cited" in browser.get(f"/cases/{case.pk}/citations/").content.decode()
    other = Figure.objects.get(patent__patent_id="USD800001", figure_label="3")
    judgment_set(case=case, figure_id=figure.pk, user=examiner, category="X")
    judgment_set(case=case, figure_id=other.pk, user=examiner, category="Y")
    sheet = browser.get(f"/cases/{case.pk}/citations/").content.decode()  # the cited drawings, for the file
    assert "<h2>Cited figures</h2>" in sheet and sheet.count('<section class="cited-figures">') == 1
    assert f'<img src="/figures/{figure.pk}/image" alt="USD800001 FIG. 2">' in sheet
    assert "<figcaption>FIG. 2 · X · grade 3</figcaption>" in sheet and "<figcaption>FIG. 3 · Y</figcaption>" in sheet


def test_other_examiners_get_404_on_every_page(case, other_examiner, encoded_corpus, examiner):
    from cases.services.searches import QueryDrawing, case_search_run

    search = case_search_run(case=case, user=examiner, k=3,
                             drawings=[QueryDrawing(png_bytes(drawing(0)), "a.png", drawing(0))])
    client = Client()
    client.force_login(other_examiner)
    urls = [f"/cases/{case.pk}/", f"/cases/{case.pk}/searches/{search.pk}/", f"/cases/{case.pk}/citations/",
            f"/cases/{case.pk}/patents/USD800001/", f"/api/v1/cases/{case.pk}/searches/{search.pk}/images/0"]
    assert [client.get(url).status_code for url in urls] == [404] * len(urls)
    posts = [f"/cases/{case.pk}/", f"/cases/{case.pk}/search", f"/cases/{case.pk}/searches/{search.pk}/rerun"]
    assert [client.post(url, {"action": "close"}).status_code for url in posts] == [404] * len(posts)
    assert Case.objects.get().status == "open" and CaseSearch.objects.count() == 1


def test_a_closed_cases_search_page_offers_no_judging_and_shows_notes_read_only(browser, case, encoded_corpus,
                                                                              examiner):
    from cases.services.cases import case_update
    from cases.services.searches import QueryDrawing, case_search_run

    search = case_search_run(case=case, user=examiner, k=4,
                             drawings=[QueryDrawing(png_bytes(drawing(0)), "a.png", drawing(0))])
    url = f"/cases/{case.pk}/searches/{search.pk}/"
    button = '<button type="button" data-grade='
    assert browser.get(url).content.decode().count(button) == 4 * 4 + 4  # on the cards and in the compare view
    case_update(case=case, status="closed")
    page = browser.get(url).content.decode()
    assert button not in page and '<button type="button" data-category=' not in page and 'data-do="like"' not in page
    assert 'id="note-text" name="note" data-label="Note" rows="4" readonly' in page and "Save note" not in page
    assert "The case is closed: judgments are read-only." in page


def test_rerun_refine_and_more_like_this_buttons(browser, case, encoded_corpus, examiner):
    from cases.services.judgments import judgment_set
    from cases.services.searches import QueryDrawing, case_search_run

    search = case_search_run(case=case, user=examiner, k=4,
                             drawings=[QueryDrawing(png_bytes(drawing(0)), "a.png", drawing(0))])
    rerun = browser.post(f"/cases/{case.pk}/searches/{search.pk}/rerun")
    rerun_search = CaseSearch.objects.get(rerun_of=search)
    assert rerun["Location"] == f"/cases/{case.pk}/searches/{rerun_search.pk}/"
    page = browser.get(rerun["Location"]).content.decode()
    assert "Compared with search 1" in page and "4 kept" in page
    assert "0 new</strong> ·" in page and "marked “new” below" not in page  # nothing new: nothing marked
    refused = browser.post(f"/cases/{case.pk}/searches/{search.pk}/refine")  # said on the search page itself
    assert refused.status_code == 400 and "Refine needs judgments" in " ".join(alert_lines(refused))
    assert 'id="refine-form"' in refused.content.decode() and refused.content.decode().count('class="card judge-card') == 4
    judgment_set(case=case, figure_id=search.hits.first().figure_id, user=examiner, grade=3)
    refined = browser.post(f"/cases/{case.pk}/searches/{search.pk}/refine")
    assert refined.status_code == 302 and CaseSearch.objects.filter(origin="refine").count() == 1
    seed = search.hits.order_by("rank").last().figure_id
    like = browser.post(f"/cases/{case.pk}/searches/{search.pk}/like", {"figure": seed})
    liked = CaseSearch.objects.get(origin="like_figure")
    assert like["Location"].endswith(f"/searches/{liked.pk}/") and not liked.hits.filter(figure_id=seed).exists()
    assert not liked.cutoff_overridden


def test_search_deeper_at_the_end_of_a_full_list(browser, case, encoded_corpus, examiner, settings):
    """A list as long as its k may go on: the button re-runs the query with twice the hits and the
    re-run marks the hits beyond the first list as new; a list shorter than its k has no more."""
    from cases.services.searches import QueryDrawing, case_search_run

    search = case_search_run(case=case, user=examiner, k=4,
                             drawings=[QueryDrawing(png_bytes(drawing(0)), "a.png", drawing(0))])
    page = browser.get(f"/cases/{case.pk}/searches/{search.pk}/").content.decode()
    assert "End of the 4 hits." in page and "Search deeper: 8 hits" in page and 'name="k" value="8"' in page
    deeper = browser.post(f"/cases/{case.pk}/searches/{search.pk}/rerun", {"k": 8})
    rerun = CaseSearch.objects.get(rerun_of=search)
    assert deeper["Location"] == f"/cases/{case.pk}/searches/{rerun.pk}/" and rerun.k == 8
    page = browser.get(deeper["Location"]).content.decode()
    assert "4 kept · <strong>4 new</strong>" in page and page.count('<span class="new-badge">new</span>') == 4
    assert "Search deeper: 16 hits" in page
    everything = browser.post(f"/cases/{case.pk}/searches/{rerun.pk}/rerun", {"k": 16})
    page = browser.get(everything["Location"]).content.decode()
    assert page.count('class="card judge-card') == 12 and 'id="search-deeper"' not in page  # the corpus's 12: no more
    settings.RETRIEVAL_MAX_K = 8
    page = browser.get(f"/cases/{case.pk}/searches/{search.pk}/").content.decode()
    assert "Search deeper: 8 hits" in page  # twice 4, within the limit
    assert 'id="search-deeper"' not in browser.get(deeper["Location"]).content.decode()  # at the limit already
    refused = browser.post(f"/cases/{case.pk}/searches/{search.pk}/rerun", {"k": 9})
    assert refused.status_code == 400 and alert_lines(refused) == ["Results: at most 8."]
    assert CaseSearch.objects.filter(rerun_of=search).count() == 1


def test_the_composer_s_class_focus_box_is_logged_and_the_search_page_says_what_it_voted(browser, case, focus_corpus):
    from tests.drawings import FOCUS_QUERY_SEED

    box = 'name="class_focus" value="true" id="class-focus-input"'
    assert f"{box} checked>" in browser.get(f"/cases/{case.pk}/").content.decode()
    query = png_bytes(drawing(FOCUS_QUERY_SEED))
    ticked = browser.post(f"/cases/{case.pk}/search", {
        "images": [upload(query)], "text": "", "k": "12", "class_focus": ["false", "true"]})
    on = CaseSearch.objects.get()
    assert ticked.status_code == 302 and on.class_focus_on and on.class_focus["classes"][0]["label"] == "D21"
    page = browser.get(ticked["Location"]).content.decode()
    assert "Class focus: US D21 (100 %) · Locarno 21-01 (100 %) — from the best 3 patents" in page
    d21 = on.hits.filter(figure__patent__us_class_main="D21").count()
    assert d21 == 6 and page.count("focus-mark") == d21  # each figure of a voted class is marked

    unticked = browser.post(f"/cases/{case.pk}/search", {"images": [upload(query)], "text": "", "k": "12",
                                                          "class_focus": "false"})
    off = CaseSearch.objects.get(number=2)
    assert unticked.status_code == 302 and not off.class_focus_on and off.class_focus is None
    page = browser.get(unticked["Location"]).content.decode()
    assert "Class focus off: ranked by score alone." in page and "Class focus: US" not in page
    assert "focus-mark" not in page
    scores = list(off.hits.order_by("rank").values_list("score", flat=True))
    assert scores == sorted(scores, reverse=True)
    log = browser.get(f"/cases/{case.pk}/").content.decode()
    assert log.count("· class focus off</span>") == 1  # the log marks search 2, not search 1

    seed = off.hits.order_by("rank").last().figure_id  # "more like this" from a search keeps its focus
    browser.post(f"/cases/{case.pk}/searches/{off.pk}/like", {"figure": seed})
    assert CaseSearch.objects.get(origin="like_figure").class_focus_on is False
    rejected = browser.post(f"/cases/{case.pk}/search", {"images": [upload(query)], "class_focus": "false",
                                                         "crops": "not json"})
    html = rejected.content.decode()  # the composer shows the box as it was sent
    assert rejected.status_code == 400 and f"{box}>" in html and f"{box} checked>" not in html


def _panel(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end)]


def test_the_case_page_pages_flagged_prior_art_and_notes_each_under_its_own_parameter(browser, case, examiner,
                                                                                      monkeypatch):
    import csv
    import io
    import re

    from cases import views
    from cases.services.judgments import judgment_set
    from tests.retrieval.factories import FigureFactory, PatentFactory

    monkeypatch.setattr(views, "CITATIONS_PER_PAGE", 3)
    monkeypatch.setattr(views, "NOTES_PER_PAGE", 2)
    # 5 cited patents; USD900005's strongest figure is X. Order: X, Y, A, then by patent number.
    cited = [("USD900001", "A"), ("USD900002", "X"), ("USD900003", "Y"), ("USD900004", "X"), ("USD900005", "A"),
             ("USD900005", "X")]
    patents = {pid: PatentFactory(patent_id=pid) for pid in dict(cited)}
    for n, (pid, category) in enumerate(cited):
        figure = FigureFactory(patent=patents[pid])
        judgment_set(case=case, figure_id=figure.pk, user=examiner, category=category,
                     **({"note": f"note-{n}"} if n % 2 == 0 else {}))  # notes 0, 2, 4: 3 notes
    judgment_set(case=case, figure_id=FigureFactory().pk, user=examiner, grade=1)  # judged, neither cited nor noted

    def shown(html: str) -> tuple[list[str], list[str]]:
        citations = _panel(html, 'id="citations"', 'id="notes"')
        notes = _panel(html, 'id="notes"', 'name="notes"')
        return re.findall(r">(USD9\d+)</a></td>", citations), re.findall(r": (note-\d) <span", notes)

    first = browser.get(f"/cases/{case.pk}/").content.decode()
    assert shown(first) == (["USD900002", "USD900004", "USD900005"], ["note-4", "note-2"])
    assert 'id="citation-count">5 citations<' in first and 'id="note-count">3 notes<' in first
    assert first.count("page 1 of 2 · 5 in all") == 1 and first.count("page 1 of 2 · 3 in all") == 1
    assert 'href="?citations_page=2#citations" rel="next"' in first and 'href="?notes_page=2#notes" rel="next"' in first

    # following one list's link keeps the other list's page (and any other parameter)
    notes_two = browser.get(f"/cases/{case.pk}/?notes_page=2&x=1").content.decode()
    assert shown(notes_two) == (["USD900002", "USD900004", "USD900005"], ["note-0"])
    assert 'href="?notes_page=2&amp;x=1&amp;citations_page=2#citations" rel="next"' in notes_two
    both = browser.get(f"/cases/{case.pk}/?notes_page=2&x=1&citations_page=2").content.decode()
    assert shown(both) == (["USD900003", "USD900001"], ["note-0"])
    assert 'href="?notes_page=2&amp;x=1&amp;citations_page=1#citations" rel="prev"' in both
    assert 'href="?notes_page=1&amp;x=1&amp;citations_page=2#notes" rel="prev"' in both

    # a bad page parameter is a page that exists: not a number -> the first, out of range -> the last
    for value, page in [("abc", 1), ("%00", 1), ("%ff", 1), ("9" * 5000, 1), ("1.5", 1), ("-1", 2), ("0", 2),
                        ("99999", 2), (str(10**30), 2)]:
        response = browser.get(f"/cases/{case.pk}/?citations_page={value}&notes_page={value}")
        assert response.status_code == 200, value
        html = response.content.decode()
        assert html.count(f"page {page} of 2 ·") == 2, value
        assert shown(html) == ((["USD900002", "USD900004", "USD900005"], ["note-4", "note-2"]) if page == 1
                               else (["USD900003", "USD900001"], ["note-0"])), value

    # the printable citation page and the CSV export stay complete
    printable = browser.get(f"/cases/{case.pk}/citations/").content.decode()
    assert re.findall(r"<td>(USD9\d+)</td>", printable) == ["USD900002", "USD900004", "USD900005", "USD900003",
                                                           "USD900001"]
    export = b"".join(browser.get(f"/api/v1/cases/{case.pk}/citations.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(export)))
    assert [row["patent_id"] for row in rows] == ["USD900002", "USD900004", "USD900005", "USD900003", "USD900001"]


def test_citations_granted_on_or_after_the_cutoff_are_marked(browser, case, encoded_corpus, examiner):
    """A search may move or drop the cutoff; what it let through and was cited is not prior art by
    the date, and the case page and the printable list say so beside its grant date."""
    import datetime as dt

    from cases.services.cases import case_update
    from cases.services.judgments import judgment_set
    from retrieval.models import Figure

    for patent_id, category in (("USD800001", "X"), ("USD800003", "Y")):
        figure = Figure.objects.filter(patent__patent_id=patent_id).order_by("pk").first()
        judgment_set(case=case, figure_id=figure.pk, user=examiner, category=category)
    late = Figure.objects.filter(patent__patent_id="USD800003").first().patent.grant_date
    case_update(case=case, cutoff_date=late)  # granted on the cutoff day: not before it
    for url in (f"/cases/{case.pk}/", f"/cases/{case.pk}/citations/"):
        html = browser.get(url).content.decode()
        rows = {m: html[html.index(f">{m}<"):].split("</tr>")[0] for m in ("USD800001", "USD800003")}
        assert "after cutoff" not in rows["USD800001"] and "⚠ after cutoff" in rows["USD800003"], url
        assert "or the cutoff changed after it was cited" in rows["USD800003"], url
        assert '<span class="visually-hidden">: granted on or after' in rows["USD800003"], url  # not in a tooltip only
    case_update(case=case, cutoff_date=late + dt.timedelta(days=1))
    assert "after cutoff" not in browser.get(f"/cases/{case.pk}/citations/").content.decode()


def test_the_case_forms_name_a_field_by_its_label_and_the_api_by_its_key(browser, examiner_api, case):
    """A new case and the case's edit form: the page says what its form says; the API keeps its keys."""
    sent = {"application_number": "29/2", "title": "Lamp", "cutoff_date": "2015-01-01", "us_class": "D" * 40}
    created = browser.post("/cases/", sent)
    assert created.status_code == 400
    assert alert_lines(created) == ["US class: Ensure this field has no more than 32 characters."]
    assert examiner_api.post("/api/v1/cases/", sent, format="json").json() == {
        "message": "us_class: Ensure this field has no more than 32 characters.",
        "extra": {"fields": {"us_class": ["Ensure this field has no more than 32 characters."]}}}
    edited = browser.post(f"/cases/{case.pk}/", {"action": "update", "cutoff_date": "0001-01-01"})
    assert edited.status_code == 400 and alert_lines(edited) == ["Cutoff: A cutoff date is 1790-01-01 or later."]
    assert examiner_api.patch(f"/api/v1/cases/{case.pk}/", {"cutoff_date": "0001-01-01"}, format="json").json() == {
        "message": "cutoff_date: A cutoff date is 1790-01-01 or later.",
        "extra": {"fields": {"cutoff_date": ["A cutoff date is 1790-01-01 or later."]}}}
    assert Case.objects.count() == 1


@pytest.mark.parametrize(("fields", "shown", "api_message"), [
    ({"text": "lamp", "grant_date_from": "2020-01-01", "grant_date_to": "2010-01-01"},
     "The “Granted from” date is after the “to” date.", "grant_date_from is after grant_date_to."),
    ({"text": "lamp", "us_class_main": "D" * 101},
     "US class: item 1: Ensure this field has no more than 100 characters.",
     "us_class_main: 0: Ensure this field has no more than 100 characters."),
    ({"text": "lamp", "cutoff": "0001-01-01"}, "Cutoff for this search: A cutoff date is 1790-01-01 or later.",
     "cutoff: A cutoff date is 1790-01-01 or later."),
    ({"text": "lamp", "crops": json.dumps([None, None])}, "Crop boxes: 2 crop boxes for 0 drawings.",
     "crops: 2 crop boxes for 0 drawings."),
    ({"images": [b"minutes of the meeting"]}, "Drawings: drawing 1 (view.png): The file cannot be used: not an image",
     "images: drawing 1 (view.png): The file cannot be used: not an image"),
    ({"text": "lamp", "k": "abc"}, "Results: A valid integer is required.", "k: A valid integer is required."),
])
def test_the_composer_names_a_field_by_its_label_and_the_api_by_its_key(
    browser, examiner_api, case, fields, shown, api_message
):
    def form() -> dict:  # fresh uploads for each request
        return {key: [upload(data) for data in value] if key == "images" else value for key, value in fields.items()}

    page = browser.post(f"/cases/{case.pk}/search", form())
    assert page.status_code == 400
    lines = alert_lines(page)
    assert len(lines) == 1 and lines[0].startswith(shown), lines
    api = examiner_api.post(f"/api/v1/cases/{case.pk}/searches/", form(), format="multipart")
    assert api.status_code == 400
    body = api.json()
    assert body["message"].startswith(api_message), body
    key = api_message.split(":")[0] if ": " in api_message else "non_field_errors"
    assert set(body) == {"message", "extra"} and list(body["extra"]["fields"]) == [key]
    assert CaseSearch.objects.count() == 0
