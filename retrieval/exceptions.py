"""Errors of the retrieval app; each carries a message a user can act on."""

import re
from dataclasses import dataclass

from patentsearch.exceptions import ApplicationError, UnavailableError


class InvalidImageError(ApplicationError):
    """The bytes are not an image we accept, or not a safe one to decode."""


class InvalidArchiveError(ApplicationError):
    """A corpus archive is broken or unsafe."""


class NoActiveModelError(ApplicationError):
    """Search or encoding needs an active model and there is none."""


class ModelOutdatedError(UnavailableError):
    """The model's checkpoint loads as another version than the one its stored vectors are of
    (they are being encoded again)."""


class ModelRegistrationError(ApplicationError):
    """A model checkpoint or hub name could not be loaded or registered."""


class TextSearchNotSupportedError(ApplicationError):
    """The active model embeds drawings only (the classical descriptor), so text cannot be searched."""


@dataclass(frozen=True)
class CorpusProblem:
    """One reason a corpus was refused: where (file and row) and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"

    def location(self) -> tuple[str, int | None]:
        """``where`` as (file, line): the image file and its metadata.csv line for a bad image,
        the table and its line for a bad row, the file alone otherwise."""
        for pattern in _WHERE_PATTERNS:
            match = pattern.fullmatch(self.where)
            if match:
                return match["file"], int(match["line"])
        return self.where, None


# The shapes of CorpusProblem.where made by ingest: "FILE (metadata.csv line N)", "FILE line N".
_WHERE_PATTERNS = (
    re.compile(r"(?P<file>.+) \([^()]+ line (?P<line>\d+)\)"),
    re.compile(r"(?P<file>.+) line (?P<line>\d+)"),
)


class CorpusValidationError(ApplicationError):
    """A corpus was refused as a whole; nothing was written. Lists every problem found."""

    def __init__(self, problems: list[CorpusProblem]) -> None:
        count = len(problems)
        head = f"Corpus refused, nothing was imported: {count} problem{'s' if count != 1 else ''}"
        super().__init__(head, {"problems": [
            {"where": p.where, "file": p.location()[0], "line": p.location()[1], "reason": p.reason}
            for p in problems
        ]})
        self.problems = problems


class DescriberNotConfiguredError(ApplicationError):
    """The figure-description backend (RETRIEVAL_DESCRIBE_*) cannot work as configured."""


class DescriberUnavailableError(ApplicationError):
    """The figure-description backend could not be reached or was overloaded; try again later."""


class DescriptionFailedError(ApplicationError):
    """The language model gave no usable descriptions of one figure, even after re-asking."""
