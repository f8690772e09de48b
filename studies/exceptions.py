"""Errors of the studies app; each carries a message a user can act on."""

from patentsearch.exceptions import ApplicationError, UnavailableError


class StudyDefinitionError(ApplicationError):
    """A study definition was refused as a whole; nothing was written."""


class StudyInputError(ApplicationError):
    """A participant's action cannot be accepted (wrong hit, grade out of range, task over)."""


class StudyNotReadyError(UnavailableError):
    """The vectors a task needs are still being computed; try again shortly (503)."""

    retry_after_s = 30


class PrefetchRefusedError(UnavailableError):
    """A browser's prefetch asked for the next study task, whose first GET starts its clock (503,
    retry at once: the participant's own request is answered)."""

    retry_after_s = 0
