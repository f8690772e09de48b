"""The one error base of the project: a message for people, plus structured details."""

from typing import Any


class ApplicationError(Exception):
    """An error a user caused and can fix; its message is shown as it is."""

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
