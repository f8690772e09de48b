"""Errors of the description backends.

Three kinds, because callers react differently to each:

- :class:`DescriptionFormatError`: the model answered, but not with what was asked (not JSON,
  wrong key, wrong count...). About one figure; asking again may help.
- :class:`BackendUnavailableError`: the backend could not be reached or was overloaded (network
  error, timeout, HTTP 5xx or 429) even after retries. Transient: try again later.
- :class:`DescriptionBackendError` (the base of the previous one): the backend is unusable as
  configured (no URL or model, missing package, HTTP 401/404, a reply that is not the
  chat-completions protocol). Retrying does not help; the configuration must change.
"""

from __future__ import annotations

from retrieval.ml.errors import MLError


class DescriptionError(MLError):
    """Base class of the errors raised while writing figure descriptions."""


class DescriptionFormatError(DescriptionError):
    """The model's output is not a valid ``{"descriptions": [...]}`` answer; says what was wrong."""


class DescriptionBackendError(DescriptionError):
    """A description backend cannot work as configured."""


class BackendUnavailableError(DescriptionBackendError):
    """A description backend could not be reached or was overloaded, even after retries.

    Attributes:
        retry_after: seconds the server asked to wait (HTTP Retry-After), or None.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
