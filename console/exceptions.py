"""Errors of the console; each carries a message an admin can act on."""

from patentsearch.exceptions import ApplicationError


class ConsoleInputError(ApplicationError):
    """An upload, folder, job action or model action was refused; nothing changed."""


class JobCancelledError(Exception):
    """Raised inside a running job when an admin cancelled it (the job unwinds, writing nothing)."""
