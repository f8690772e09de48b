"""Shared behaviour of our commands: embedded schema upkeep and readable errors."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from patentsearch.embedded import apply_migrations_if_embedded
from patentsearch.exceptions import ApplicationError


class AppCommand(BaseCommand):
    """A command that needs the schema and turns application errors into CommandError."""

    def execute(self, *args: Any, **options: Any) -> str | None:
        apply_migrations_if_embedded()
        try:
            return super().execute(*args, **options)
        except ApplicationError as exc:
            raise CommandError(_describe(exc)) from exc


def _describe(exc: ApplicationError) -> str:
    problems = exc.extra.get("problems") or []
    lines = [exc.message]
    lines += [f"  {p['where']}: {p['reason']}" for p in problems]
    return "\n".join(lines)
