"""The one error base of the project: a message for people, plus structured details."""

from typing import Any


class ApplicationError(Exception):
    """An error a user caused and can fix; its message is shown as it is."""

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class UnavailableError(ApplicationError):
    """The request is fine but cannot be answered yet (work under way); the API answers 503 with
    ``Retry-After: retry_after_s``."""

    retry_after_s = 60
