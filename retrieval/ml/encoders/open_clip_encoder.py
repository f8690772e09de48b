"""``OpenClipEncoder``: the ``Encoder`` protocol implemented around an open_clip model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from retrieval.ml.config import ModelConfig
from retrieval.ml.encoders.base import ConfiguredEncoder, batches

Tokenizer = Callable[[list[str]], torch.Tensor]
Encode = Callable[[torch.Tensor], torch.Tensor]


class OpenClipEncoder(ConfiguredEncoder):
    """Embeds drawings and texts with an open_clip CLIP-style model.

    On CPU the model runs in exact float32. On CUDA it runs under bfloat16 autocast with
    channels-last memory (faster; vectors differ from CPU ones in the third decimal or so).

    Args:
        model: an open_clip model with ``encode_image`` and ``encode_text``.
        tokenizer: maps a list of strings to a ``(N, context_length)`` int64 token tensor.
        config: the model's configuration (preprocessing and ``embed_dim`` are used).
        version: architecture plus weights digest (see ``Encoder.version``).
        device: ``"cpu"`` or ``"cuda"`` (``"cuda:N"``).
        batch_size: images or texts per forward pass.

    Raises:
        ValueError: unknown device, CUDA not available, or ``batch_size`` < 1.
        TypeError: ``model`` lacks ``encode_image`` / ``encode_text``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Tokenizer,
        config: ModelConfig,
        *,
        version: str,
        device: str = "cpu",
        batch_size: int = 32,
    ) -> None:
        self._device = parse_device(device)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self._config = config
        self._version = version
        self._tokenizer = tokenizer
        self.batch_size = batch_size
        for method in ("encode_image", "encode_text"):
            if not callable(getattr(model, method, None)):
                raise TypeError(f"model has no {method}() method; expected an open_clip model")
        model = model.to(self._device).eval()
        if self._device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        self._model = model
        self._encode_image = cast(Encode, model.encode_image)
        self._encode_text = cast(Encode, model.encode_text)

    @property
    def device(self) -> torch.device:
        """The device the model runs on."""
        return self._device

    @property
    def model(self) -> torch.nn.Module:
        """The wrapped open_clip model (in eval mode)."""
        return self._model

    def _embed_pixels(self, pixels: torch.Tensor) -> NDArray[np.float32]:
        return self.embed_pixels(pixels)

    def embed_pixels(self, pixels: torch.Tensor) -> NDArray[np.float32]:
        """Embed already preprocessed pixels (see ``preprocessing.preprocess_batch``).

        Args:
            pixels: ``(N, C, S, S)`` float32 tensor, as made by the model's preprocessing.

        Returns:
            ``(N, D)`` float32, rows of unit L2 norm.

        Raises:
            ValueError: ``pixels`` is not a 4-D tensor.
        """
        if not isinstance(pixels, torch.Tensor) or pixels.ndim != 4:
            raise ValueError("pixels must be a (N, C, S, S) tensor")
        chunks = []
        for start in range(0, pixels.shape[0], self.batch_size):
            batch = pixels[start : start + self.batch_size].to(self._device)
            if self._device.type == "cuda":
                batch = batch.contiguous(memory_format=torch.channels_last)
            chunks.append(self._forward(self._encode_image, batch))
        return self._concat(chunks)

    def embed_texts(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed texts into the image embedding space.

        Args:
            texts: strings (longer ones are truncated to the model's context length).

        Returns:
            ``(N, D)`` float32, rows of unit L2 norm.

        Raises:
            TypeError: ``texts`` is a single string or holds non-strings.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a sequence of strings (not a single string)")
        chunks = [
            self._forward(self._encode_text, self._tokenizer(list(batch)).to(self._device))
            for batch in batches(texts, self.batch_size)
        ]
        return self._concat(chunks)

    def _forward(self, encode: Encode, batch: torch.Tensor) -> NDArray[np.float32]:
        with torch.inference_mode(), self._autocast():
            features = encode(batch)
        unit = F.normalize(features.float(), dim=-1)
        out: NDArray[np.float32] = unit.cpu().numpy().astype(np.float32, copy=False)
        return out

    def _autocast(self) -> AbstractContextManager[object]:
        if self._device.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return nullcontext()

    def __repr__(self) -> str:
        return (
            f"OpenClipEncoder(name={self.name!r}, version={self.version!r}, device={self._device})"
        )


def parse_device(device: str) -> torch.device:
    """``"cpu"`` / ``"cuda"`` / ``"cuda:N"`` as a torch device.

    Raises:
        ValueError: another device type, an unparsable string, or CUDA not available.
    """
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r}; use 'cpu' or 'cuda'") from exc
    if parsed.type not in {"cpu", "cuda"}:
        raise ValueError(f"unsupported device {device!r}; use 'cpu' or 'cuda'")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available")
    return parsed
