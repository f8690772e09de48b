"""The template the chat backends share: ask a chat model until its answer parses.

:class:`ChatBackend` is the base of the backends that talk to a language model (``openai``,
``transformers``): its :meth:`~ChatBackend.describe` builds the prompt, sends it, and re-asks
with what was wrong until the answer holds ``n`` valid descriptions (:func:`ask_until_valid`).
A backend writes only how one conversation is sent (``_complete``), how it names itself in
errors (``_who``) and, when its transport can fail for a while, how it waits (``_wait``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping

from retrieval.ml.describe.errors import (
    BackendUnavailableError,
    DescriptionError,
    DescriptionFormatError,
)
from retrieval.ml.describe.parse import parse_descriptions
from retrieval.ml.describe.prompt import Message, build_messages, repair_messages

__all__ = ["ChatBackend", "ask_until_valid"]


class ChatBackend(ABC):
    """A :class:`~retrieval.ml.describe.backend.DescriptionBackend` that asks a chat model.

    Attributes:
        name: the backend kind (``"openai"``, ``"transformers"``).
        model: which model writes; part of cache keys and provenance.
        max_attempts: requests per figure at most, counting transport retries and re-asks.
    """

    name: str
    model: str
    max_attempts: int

    def describe(self, metadata: Mapping[str, str], n: int) -> list[str]:
        """See :class:`retrieval.ml.describe.backend.DescriptionBackend`."""
        return ask_until_valid(
            self._complete,
            build_messages(metadata, n),
            n,
            max_attempts=self.max_attempts,
            who=self._who(),
            wait=self._wait,
        )

    @abstractmethod
    def _complete(self, messages: list[Message]) -> str:
        """Send the conversation; return the model's text.

        Raises:
            BackendUnavailableError: a transient transport failure (retried).
            DescriptionFormatError: an answer with no usable text (re-asked).
        """

    @abstractmethod
    def _who(self) -> str:
        """The backend and model for error messages, e.g. ``"openai model 'x' at URL"``."""

    def _wait(self, attempt: int, error: BackendUnavailableError) -> None:
        """Called before retrying a transport failure; the default retries at once."""
        return None


def ask_until_valid(
    complete: Callable[[list[Message]], str],
    messages: list[Message],
    n: int,
    *,
    max_attempts: int,
    who: str,
    wait: Callable[[int, BackendUnavailableError], None] | None = None,
) -> list[str]:
    """Ask until the answer parses, at most ``max_attempts`` requests in all.

    An unusable answer is sent back with what was wrong and a request to fix it; a transient
    transport failure (:class:`BackendUnavailableError`) is retried after ``wait(attempt,
    error)``. Any other error is raised at once.

    Args:
        complete: sends the conversation, returns the model's text.
        messages: the conversation to start with.
        n: how many descriptions the answer must hold.
        max_attempts: requests at most (>= 1).
        who: names the backend and model in the final error, e.g. "openai model 'x' at URL".
        wait: called before retrying a transport failure (e.g. to sleep with backoff).

    Raises:
        DescriptionFormatError / BackendUnavailableError: the last problem, after
            ``max_attempts`` requests, naming ``who`` and the number of attempts.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    problem: DescriptionError | None = None
    for attempt in range(1, max_attempts + 1):
        output: str | None = None
        try:
            output = complete(messages)
            return parse_descriptions(output, n)
        except BackendUnavailableError as exc:
            problem = exc
            if wait is not None and attempt < max_attempts:
                wait(attempt, exc)
        except DescriptionFormatError as exc:
            problem = exc
            if output is not None:
                messages = repair_messages(messages, output, str(exc), n)
    summary = (
        f"{who} gave no valid descriptions in {max_attempts} attempt(s); last problem: {problem}"
    )
    if isinstance(problem, BackendUnavailableError):
        raise BackendUnavailableError(summary, problem.retry_after) from problem
    raise DescriptionFormatError(summary) from problem
