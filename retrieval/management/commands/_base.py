"""Shared behaviour of our commands: readable errors."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from patentsearch.exceptions import ApplicationError


class AppCommand(BaseCommand):
    """A command that turns application errors into CommandError (manage.py has migrated the
    embedded database before any command runs: patentsearch.embedded.prepare)."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except ApplicationError as exc:
            raise CommandError(_describe(exc)) from exc


def _describe(exc: ApplicationError) -> str:
    problems = exc.extra.get("problems") or []
    lines = [exc.message]
    lines += [f"  {p['where']}: {p['reason']}" for p in problems]
    return "\n".join(lines)
