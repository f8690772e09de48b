"""The encoder protocol: what search, indexing and evaluation need from a model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from retrieval.ml.config import ModelConfig


@runtime_checkable
class Encoder(Protocol):
    """Maps drawings and texts into one embedding space of unit vectors.

    Implementations batch internally, run in eval mode under ``torch.inference_mode`` and are
    deterministic: the same input gives the same vector on the same machine.
    """

    @property
    def name(self) -> str:
        """Human name of the model, e.g. ``"ps-tiny-seed0"``."""
        ...

    @property
    def dim(self) -> int:
        """Embedding dimension ``D``."""
        ...

    @property
    def version(self) -> str:
        """Architecture plus weights digest, e.g. ``"ps-tiny@3f9a0c1b2d4e"``: equal versions
        give equal vectors, so stored embeddings stay comparable."""
        ...

    def embed_images(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """Embed drawings.

        Args:
            images: PIL images, any mode and size.

        Returns:
            ``(N, D)`` float32, rows of unit L2 norm.
        """
        ...

    def embed_texts(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed texts (descriptions, queries) into the same space as the images.

        Args:
            texts: strings.

        Returns:
            ``(N, D)`` float32, rows of unit L2 norm.
        """
        ...


class ConfiguredEncoder:
    """The :class:`Encoder` properties an encoder reads from its ``model.json``.

    Subclasses set ``_config`` and ``_version`` in their ``__init__``.
    """

    _config: ModelConfig
    _version: str

    @property
    def name(self) -> str:
        """Human name of the model."""
        return self._config.name

    @property
    def dim(self) -> int:
        """Embedding dimension ``D``."""
        return self._config.embed_dim

    @property
    def version(self) -> str:
        """Architecture plus weights digest (see :attr:`Encoder.version`)."""
        return self._version

    @property
    def config(self) -> ModelConfig:
        """The model configuration (preprocessing, architecture, metrics, ...)."""
        return self._config
