"""In Chromium: an admin adds a user on the console's users page and copies the one-time
password; the user signs in with it, is held on the password page until they choose their own,
and goes on to the page they asked for. A deactivation asks first, and a dismissed question
changes nothing."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.test_browser import browser_page  # noqa: F401 - the Chromium page fixture

pytestmark = [pytest.mark.browser]


def _login(page, url: str, username: str, password: str, next_path: str = "/") -> None:  # noqa: ANN001
    page.goto(f"{url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("section.login button[type=submit]")


def test_a_new_user_from_the_console_chooses_a_password_at_the_first_sign_in(live_server, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    User.objects.create_user("boss", password="pw-for-tests-only", role=User.Role.ADMIN)
    page = browser_page
    _login(page, live_server.url, "boss", "pw-for-tests-only", "/console/")
    page.wait_for_url("**/console/")
    page.keyboard.press("a")  # the console's users page
    page.wait_for_url("**/console/users/")
    page.fill("#id_username", "grace")
    page.select_option("#id_role", "examiner")
    page.click("#add-user-button")
    expect(page.locator("h2")).to_have_text("grace is added")
    password = page.locator("#one-time-password").inner_text()
    page.click("button[data-copy]")  # copied, or selected where the page may not use the clipboard
    expect(page.locator("button[data-copy]")).to_have_text("Copied" if page.evaluate("window.isSecureContext")
                                                            else "Selected: press Ctrl+C")
    page.click("#back-to-users")
    row = page.locator("tr[data-user='grace']")
    expect(row).to_contain_text("one-time password")

    page.once("dialog", lambda dialog: dialog.dismiss())  # asked, and no
    row.get_by_role("button", name="Deactivate grace").click()
    expect(row).to_contain_text("one-time password")
    assert User.objects.get(username="grace").is_active

    page.context.clear_cookies()
    _login(page, live_server.url, "grace", password, "/cases/")
    page.wait_for_url("**/accounts/password/?next=%2Fcases%2F")
    expect(page.locator("h1")).to_have_text("Choose your password")
    page.goto(f"{live_server.url}/")  # any other page leads back here
    page.wait_for_url("**/accounts/password/?next=%2F")
    page.goto(f"{live_server.url}/accounts/password/?next=%2Fcases%2F")
    page.fill("#id_new_password1", "grace")
    page.fill("#id_new_password2", "grace")
    page.click("#password-form button[type=submit]")
    expect(page.locator("[role=alert]")).to_be_focused()  # the refusal is read out
    expect(page.locator("[role=alert]")).to_contain_text("too similar to the username")
    page.fill("#id_new_password1", "a fresh passphrase 42")
    page.fill("#id_new_password2", "a fresh passphrase 42")
    page.click("#password-form button[type=submit]")
    page.wait_for_url("**/cases/")
    expect(page.locator(".notice")).to_have_text("Your password is changed. Your other sessions are signed out.")
    assert not User.objects.get(username="grace").password_change_required


def test_several_participants_at_once_and_their_passwords_downloaded_as_csv(live_server, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    User.objects.create_user("boss", password="pw-for-tests-only", role=User.Role.ADMIN)
    page = browser_page
    _login(page, live_server.url, "boss", "pw-for-tests-only", "/console/users/")
    page.wait_for_url("**/console/users/")
    page.fill("#id_users", "pia, pia@lab.example\n=cmd\npaul")
    page.click("#add-users-button")
    expect(page.locator("[role=alert]")).to_be_focused()
    expect(page.locator("[role=alert]")).to_contain_text("Line 2: Username: Enter a valid username.")
    expect(page.locator("#id_users")).to_have_value("pia, pia@lab.example\n=cmd\npaul")
    page.fill("#id_users", "pia, pia@lab.example\n\npaul")
    page.click("#add-users-button")
    expect(page.locator("h2")).to_have_text("2 users added")
    with page.expect_download() as download:
        page.click("button[data-download]")
    assert download.value.suggested_filename == "one-time-passwords.csv"
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()  # noqa: SIM115, PTH123
    shown = page.locator("#one-time-passwords code").all_inner_texts()
    assert lines == ["username,email,role,one_time_password", f"pia,pia@lab.example,participant,{shown[0]}",
                     f"paul,,participant,{shown[1]}"]
    assert all(User.objects.get(username=n).check_password(p) for n, p in zip(("pia", "paul"), shown, strict=True))
