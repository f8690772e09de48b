"""python manage.py create_user: the account-making contract that operators and checks script."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("PATENTSEARCH_PASSWORD", "a long enough passphrase 7")
    call_command("create_user", "ada", "--role", "examiner")
    user = User.objects.get(username="ada")
    assert user.role == User.Role.EXAMINER
    assert user.check_password("a long enough passphrase 7")


def test_every_role_can_be_made(monkeypatch):
    monkeypatch.setenv("PATENTSEARCH_PASSWORD", "a long enough passphrase 7")
    for role in ("examiner", "admin", "participant"):
        call_command("create_user", f"user-{role}", "--role", role)
        assert User.objects.get(username=f"user-{role}").role == role


def test_no_password_and_no_terminal_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("PATENTSEARCH_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="PATENTSEARCH_PASSWORD"):
        call_command("create_user", "bob", "--role", "examiner")
    assert not User.objects.filter(username="bob").exists()


def test_existing_name_and_weak_password_are_refused(monkeypatch):
    monkeypatch.setenv("PATENTSEARCH_PASSWORD", "a long enough passphrase 7")
    call_command("create_user", "ada", "--role", "examiner")
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_user", "ada", "--role", "admin")
    monkeypatch.setenv("PATENTSEARCH_PASSWORD", "123")
    with pytest.raises(CommandError):
        call_command("create_user", "cy", "--role", "examiner")
    assert not User.objects.filter(username="cy").exists()


def test_unknown_role_is_refused():
    with pytest.raises(CommandError):
        call_command("create_user", "dee", "--role", "wizard")


def test_drf_create_token_gives_a_token_the_api_accepts(monkeypatch):
    """The check's recipe: create_user NAME --role admin, then drf_create_token NAME, then the
    console API with that token (an examiner's token is refused there)."""
    import io

    from rest_framework.test import APIClient

    monkeypatch.setenv("PATENTSEARCH_PASSWORD", "a long enough passphrase 7")
    call_command("create_user", "boss", "--role", "admin")
    call_command("create_user", "ada", "--role", "examiner")
    tokens = {}
    for name in ("boss", "ada"):
        out = io.StringIO()
        call_command("drf_create_token", name, stdout=out)
        tokens[name] = out.getvalue().split()[2]  # "Generated token KEY for user NAME"
        assert len(tokens[name]) == 40, out.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['boss']}")
    assert client.get("/api/v1/jobs/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['ada']}")
    assert client.get("/api/v1/jobs/").status_code == 403
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/jobs/").status_code in (401, 403)


def test_one_time_prints_a_password_the_user_must_replace(capsys):
    call_command("create_user", "otto", "--role", "participant", "--one-time")
    printed = capsys.readouterr().out
    password = printed.split("one-time password ")[1].split(" ")[0]
    otto = User.objects.get(username="otto")
    assert otto.check_password(password) and otto.password_change_required
    assert "shown only now" in printed
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_user", "OTTO", "--role", "examiner", "--one-time")
