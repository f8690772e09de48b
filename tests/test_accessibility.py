"""Every page an examiner or an admin works in passes axe-core's checks (WCAG 2 A and AA and
Deque's best practices), its dialogs open too: names for every control, contrast, roles that
fit their elements, landmarks. axe-core is the copy that ships inside the pinned
``axe-playwright-python`` wheel (nothing is downloaded); Chromium renders each page as a user
would see it, so contrast is judged on the colours really drawn.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources

import pytest
from axes.models import AccessAttempt

from accounts.models import User
from cases.services.cases import case_create
from tests.cases.test_browser import PASSWORD, _searched_case, log_in
from tests.studies.conftest import make_study, participants, study_corpus, two_models  # noqa: F401 - fixtures
from tests.test_browser import browser_page  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = importlib.resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def violations(page, where: str) -> list[str]:
    """axe-core's violations on the page as it is now, a line each (rule, impact, first elements)."""
    page.add_script_tag(content=AXE)
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
        .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`)""")
    return [f"{where}: {line}" for line in found]


def test_the_examiner_s_and_the_admin_s_pages_pass_axe(live_server, browser_page, tmp_path, active_model):  # noqa: F811
    page, base = browser_page, live_server.url
    case, search = _searched_case(tmp_path, active_model, patents=3, views=2, k=4)
    patent = search.hits.order_by("rank").first().figure.patent.patent_id
    found: list[str] = []
    page.goto(base + "/accounts/login/")
    found += violations(page, "/accounts/login/")
    log_in(page, base, "ada")
    page.goto(base + "/no-such-page/")
    found += violations(page, "a 404 page")
    for url in ("/", "/cases/", f"/cases/{case.pk}/", f"/cases/{case.pk}/citations/", "/studies/",
                f"/cases/{case.pk}/patents/{patent}/?search={search.pk}", "/accounts/", "/accounts/password/"):
        page.goto(base + url)
        found += violations(page, url)
    page.goto(base + "/")
    page.fill("textarea[name=text]", "widget -lid")
    page.click("#search-button")
    page.wait_for_selector(".card")
    found += violations(page, "/ (results)")
    page.locator(".card").first.click()
    found += violations(page, "/ (viewer)")
    review = f"/cases/{case.pk}/searches/{search.pk}/"
    page.goto(base + review)
    found += violations(page, review)
    for keys, what in ((["j", "c", "s"], "compare, a hit kept"), (["Escape", "?"], "keys"), (["Escape", "n"], "note")):
        for key in keys:
            page.keyboard.press(key)
        page.wait_for_selector("dialog[open]")
        found += violations(page, f"{review} ({what})")

    User.objects.create_user("root2", password=PASSWORD, role=User.Role.ADMIN)
    # the users page with every mark and form a row can have: a leaver with an open case to give,
    # a name locked out, a one-time password not yet replaced
    leaver = User.objects.create_user("leaver", password=PASSWORD, role=User.Role.EXAMINER, is_active=False)
    case_create(examiner=leaver, application_number="29/9", title="Chair", cutoff_date=dt.date(2030, 1, 1))
    AccessAttempt.objects.create(username="ada", ip_address="10.0.0.1", user_agent="x", get_data="", post_data="",
                                 http_accept="", path_info="/accounts/login/", failures_since_start=99)
    User.objects.create_user("newcomer", password=PASSWORD, password_change_required=True)
    page.context.clear_cookies()
    log_in(page, base, "root2")
    for url in ("/console/", "/console/upload/", "/console/models/", "/console/evaluation/", "/studies/new/",
                "/console/users/"):
        page.goto(base + url)
        found += violations(page, url)
    html = page.content()  # the users page, as axe just judged it
    assert "locked out until" in html and "Give 1 open case" in html and "one-time password</span>" in html
    page.fill("#id_username", "grace")
    page.click("#add-user-button")
    one_time = page.inner_text("#one-time-password")
    found += violations(page, "/console/users/ (a one-time password)")
    page.goto(base + "/console/users/")
    page.fill("#id_users", "pia\npaul")
    page.click("#add-users-button")
    page.wait_for_selector("#one-time-passwords")
    found += violations(page, "/console/users/batch (one-time passwords)")
    page.goto(base + "/accounts/")
    page.click("#token-button")
    page.wait_for_selector("#new-token")
    found += violations(page, "/accounts/ (a new token)")
    page.context.clear_cookies()
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", "grace")
    page.fill("input[name=password]", one_time)
    page.click("section.login button[type=submit]")
    page.wait_for_url("**/accounts/password/**")
    found += violations(page, "/accounts/password/ (after a one-time password)")
    assert found == []


def test_a_study_s_pages_pass_axe(live_server, browser_page, study_corpus, participants):  # noqa: F811
    from studies.models import Study

    study = Study.objects.get(pk=make_study("axe-study", study_corpus, tasks=1, k=6).study_id)
    page, base = browser_page, live_server.url
    found: list[str] = []
    page.goto(f"{base}/accounts/login/?next=/studies/run/")
    page.fill("input[name=username]", "pia")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#ready-view:not([hidden])")
    found += violations(page, "/studies/run/ (ready)")
    page.keyboard.press("Enter")
    page.wait_for_selector("#task-view:not([hidden]) .study-card")
    found += violations(page, "/studies/run/ (task)")
    User.objects.create_user("root3", password=PASSWORD, role=User.Role.ADMIN)
    page.context.clear_cookies()
    log_in(page, base, "root3")
    for url in ("/studies/", f"/studies/{study.pk}/"):
        page.goto(base + url)
        found += violations(page, url)
    assert found == []
