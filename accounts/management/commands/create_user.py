"""python manage.py create_user NAME --role examiner|admin|participant [--email E] [--one-time]

The password comes from PATENTSEARCH_PASSWORD, or is asked for twice on a terminal; with
--one-time the command makes a one-time password, prints it once, and the user chooses their own
at the first sign-in (as for a user added on the console's users page).
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.timezone import localtime

from accounts.models import User
from accounts.services import user_create, user_invite
from patentsearch.exceptions import ApplicationError

PASSWORD_VARIABLE = "PATENTSEARCH_PASSWORD"


class Command(BaseCommand):
    help = f"Create a user with a role; the password comes from {PASSWORD_VARIABLE} or the terminal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[choice for choice, _ in User.Role.choices])
        parser.add_argument("--email", default="")
        parser.add_argument("--one-time", action="store_true",
                            help="Make a one-time password and print it; the user replaces it at the first sign-in.")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} exists already.")
        if options["one_time"]:
            try:
                user, password = user_invite(username=username, role=options["role"], email=options["email"], by=None)
            except (ValidationError, ApplicationError) as exc:
                raise CommandError(getattr(exc, "message", None) or "; ".join(exc.messages)) from exc
            until = localtime(user.one_time_password_expires_at)
            self.stdout.write(f"Created {user.username} ({user.get_role_display()}) with the one-time password "
                              f"{password} (shown only now; it works until {until:%Y-%m-%d %H:%M}, and they "
                              "choose their own at the first sign-in).")
            return
        password = _password()
        try:
            user = user_create(username=username, password=password, role=options["role"], email=options["email"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Created {user.username} ({user.get_role_display()}).")


def _password() -> str:
    password = os.environ.get(PASSWORD_VARIABLE, "")
    if password:
        return password
    if not sys.stdin.isatty():
        raise CommandError(f"Set {PASSWORD_VARIABLE}, or run this command on a terminal to type the password.")
    first = getpass.getpass("Password: ")
    if not first:
        raise CommandError("The password is empty.")
    if getpass.getpass("Password (again): ") != first:
        raise CommandError("The two passwords differ.")
    return first
