"""The encoder protocol: what search, indexing and evaluation need from a model."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image

from retrieval.ml.config import ModelConfig
from retrieval.ml.preprocessing import preprocess_batch, preprocess_image

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


@dataclass
class LoadedEmbeddings:
    """What :meth:`ConfiguredEncoder.embed_loaded` made of a list of image loaders.

    Attributes:
        vectors: ``(len(ok), D)`` float32 unit rows, in the order of ``ok``.
        ok: the positions (in the loaders' list) of the images that loaded.
        errors: position -> the exception its loader raised (nothing was embedded for it).
    """

    vectors: NDArray[np.float32]
    ok: list[int] = field(default_factory=list)
    errors: dict[int, Exception] = field(default_factory=dict)


class ConfiguredEncoder:
    """What every encoder shares: the :class:`Encoder` properties read from its ``model.json``,
    the batching of :meth:`embed_images` and the decode-while-encoding of :meth:`embed_loaded`.

    Subclasses set ``_config``, ``_version`` and ``batch_size`` in their ``__init__`` and
    implement ``_embed_pixels`` (one preprocessed batch -> unit vectors).
    """

    _config: ModelConfig
    _version: str
    batch_size: int

    #: Drawings per forward pass in :meth:`embed_loaded` (the CPU path of a subclass may prefer
    #: small batches that stay in the processor's caches).
    @property
    def stream_batch(self) -> int:
        return self.batch_size

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

    def embed_loaded(
        self, loaders: Sequence[Callable[[], Image.Image]], *, threads: int = 2
    ) -> LoadedEmbeddings:
        """Embed the images that ``loaders`` read and decode, decoding and preprocessing the next
        images in ``threads`` threads while the model runs on the ones before (image decoding,
        resizing and numpy release the GIL). The vectors are those of :meth:`embed_images`.

        Args:
            loaders: one callable per image; each returns the decoded image or raises.
            threads: decoding and preprocessing threads.

        Returns:
            The vectors of the images that loaded and, for each loader that raised, its
            exception (a loader's failure costs only its own image).
        """
        out = LoadedEmbeddings(np.zeros((0, self.dim), dtype=np.float32))
        cfg = self._config.preprocess

        def load(i: int) -> torch.Tensor | Exception:
            try:
                image = loaders[i]()
            except Exception as exc:  # noqa: BLE001 - the caller's loader; handed back to the caller
                return exc
            return preprocess_image(image, cfg)

        chunks: list[NDArray[np.float32]] = []
        pending: list[torch.Tensor] = []
        with ThreadPoolExecutor(max_workers=max(1, int(threads)), thread_name_prefix="preprocess") as pool:
            for i, result in enumerate(pool.map(load, range(len(loaders)))):
                if isinstance(result, Exception):
                    out.errors[i] = result
                    continue
                out.ok.append(i)
                pending.append(result)
                if len(pending) >= self.stream_batch:
                    chunks.append(self._embed_pixels(torch.stack(pending)))
                    pending = []
        if pending:
            chunks.append(self._embed_pixels(torch.stack(pending)))
        out.vectors = self._concat(chunks)
        return out

    def _embed_image_batch(self, images: Sequence[Image.Image]) -> NDArray[np.float32]:
        return self._embed_pixels(preprocess_batch(images, self._config.preprocess))

    def _embed_pixels(self, pixels: torch.Tensor) -> NDArray[np.float32]:
        """``(N, C, S, S)`` preprocessed pixels -> ``(N, D)`` unit rows."""
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
