"""The backend interface, the factory that picks one by name, and the shared re-ask loop."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from retrieval.ml.describe.errors import (
    BackendUnavailableError,
    DescriptionError,
    DescriptionFormatError,
)
from retrieval.ml.describe.parse import parse_descriptions
from retrieval.ml.describe.prompt import Message, repair_messages

BACKENDS = ("openai", "transformers", "offline")


class DescriptionBackend(Protocol):
    """Writes descriptions of a figure from its metadata.

    Attributes:
        name: the backend kind: ``"openai"``, ``"transformers"`` or ``"offline"``.
        model: which model (or template set) writes; part of cache keys and provenance.
    """

    name: str
    model: str

    def describe(self, metadata: Mapping[str, str], n: int) -> list[str]:
        """``n`` distinct descriptions of the figure the metadata is about.

        Args:
            metadata: field name -> value; the fields of
                :data:`retrieval.ml.describe.prompt.FIELDS` are used, others ignored.
            n: how many descriptions.

        Raises:
            DescriptionFormatError: the model gave no valid answer in its attempts.
            BackendUnavailableError: the backend could not be reached (transient).
            DescriptionBackendError: the backend cannot work as configured.
            ValueError: n < 1 or no usable metadata.
        """
        ...


def make_backend(name: str, **options: Any) -> DescriptionBackend:
    """The backend called ``name``, built with ``options`` (None values mean "the default").

    Options per backend: ``openai``: base_url, model, api_key, timeout, max_attempts,
    temperature, max_tokens, json_mode; ``transformers``: model_path, device, max_new_tokens,
    temperature, max_attempts, seed; ``offline``: seed.

    Raises:
        ValueError: unknown backend, or an option the backend does not take.
        DescriptionBackendError: the backend is not configured well enough to work.
    """
    cls = _backend_class(name)
    given = {key: value for key, value in options.items() if value is not None}
    accepted = set(inspect.signature(cls).parameters)
    unknown = sorted(set(given) - accepted)
    if unknown:
        raise ValueError(
            f"backend {name!r} takes no option {', '.join(unknown)}; "
            f"it takes {', '.join(sorted(accepted))}"
        )
    backend: DescriptionBackend = cls(**given)
    return backend


def _backend_class(name: str) -> type:
    if name == "openai":
        from retrieval.ml.describe.openai_backend import OpenAIBackend

        return OpenAIBackend
    if name == "transformers":
        from retrieval.ml.describe.transformers_backend import TransformersBackend

        return TransformersBackend
    if name == "offline":
        from retrieval.ml.describe.offline import OfflineBackend

        return OfflineBackend
    raise ValueError(f"unknown description backend {name!r}: choose one of {', '.join(BACKENDS)}")


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
