"""Errors of the studies app; each carries a message a user can act on."""

from patentsearch.exceptions import ApplicationError


class StudyDefinitionError(ApplicationError):
    """A study definition was refused as a whole; nothing was written."""


class StudyInputError(ApplicationError):
    """A participant's action cannot be accepted (wrong hit, grade out of range, task over)."""


class StudyNotReadyError(ApplicationError):
    """The vectors a task needs are still being computed; try again shortly."""
