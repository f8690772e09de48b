"""The backend interface and the factory that picks one by name.

The chat backends share their ask-until-valid template through
:mod:`retrieval.ml.describe.chat_base`; this module only names them, and imports each lazily so
that an unused backend's dependencies are never loaded.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Protocol

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
