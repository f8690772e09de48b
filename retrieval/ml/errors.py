"""Errors raised by ``retrieval.ml``.

Bad arguments raise the built-in ``ValueError`` / ``TypeError``; the classes here cover failures
of the environment (a checkpoint folder that cannot be read, weights that cannot be fetched).
``retrieval/inference.py`` translates them into the project's application errors.
"""

from __future__ import annotations


class MLError(Exception):
    """Base class of the errors that ``retrieval.ml`` raises on purpose."""


class ModelLoadError(MLError):
    """A model could not be loaded: missing or corrupt checkpoint files, unknown architecture,
    weights that do not fit the architecture, or pretrained weights that could not be fetched."""


class WeightsUnavailableError(ModelLoadError):
    """Pretrained weights named by an open_clip hub name could not be fetched (no network, or
    not in the local cache)."""
