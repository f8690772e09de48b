"""The encoder protocol: what search, indexing and evaluation need from a model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from retrieval.ml.config import ModelConfig

_T = TypeVar("_T")


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
    """What every encoder shares: the :class:`Encoder` properties read from its ``model.json``
    and the batching of :meth:`embed_images`.

    Subclasses set ``_config``, ``_version`` and ``batch_size`` in their ``__init__`` and
    implement ``_embed_image_batch`` (one batch of images -> unit vectors).
    """

    _config: ModelConfig
    _version: str
    batch_size: int

    def embed_images(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        """Embed drawings.

        Args:
            images: PIL images, any mode and size.

        Returns:
            ``(N, D)`` float32, rows of unit L2 norm.

        Raises:
            TypeError: ``images`` is a single image or holds something else than images.
        """
        if isinstance(images, Image.Image):
            raise TypeError("images must be a sequence of PIL images, not a single image")
        return self._concat([self._embed_image_batch(b) for b in batches(images, self.batch_size)])

    def _embed_image_batch(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        raise NotImplementedError

    def _concat(self, chunks: list[NDArray[np.float32]]) -> NDArray[np.float32]:
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.concatenate(chunks, axis=0)
        if out.shape[1] != self.dim:
            raise ValueError(
                f"model produced {out.shape[1]}-dim vectors but its config says {self.dim}"
            )
        return out

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


def batches(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
