"""LLM-written figure descriptions: the language-informed step of Lo et al. 2024.

Each figure gets several descriptions that name the object specifically, with aliases, the
product category, the view and visible design features, written from the figure's metadata by
a backend: ``openai`` (any chat-completions endpoint), ``transformers`` (a local model folder)
or ``offline`` (deterministic templates, no model). Django-free; the app reaches it through
``retrieval/inference.py``.
"""

from retrieval.ml.describe.backend import BACKENDS, DescriptionBackend, make_backend
from retrieval.ml.describe.cache import DescriptionCache, cache_key, describe_cached
from retrieval.ml.describe.corpus import CorpusDescription, RowFailure, describe_corpus
from retrieval.ml.describe.errors import (
    BackendUnavailableError,
    DescriptionBackendError,
    DescriptionError,
    DescriptionFormatError,
)
from retrieval.ml.describe.parse import parse_descriptions
from retrieval.ml.describe.prompt import FIELD_NAMES, PROMPT_VERSION, build_messages

__all__ = [
    "BACKENDS",
    "FIELD_NAMES",
    "PROMPT_VERSION",
    "BackendUnavailableError",
    "CorpusDescription",
    "DescriptionBackend",
    "DescriptionBackendError",
    "DescriptionCache",
    "DescriptionError",
    "DescriptionFormatError",
    "RowFailure",
    "build_messages",
    "cache_key",
    "describe_cached",
    "describe_corpus",
    "make_backend",
    "parse_descriptions",
]
