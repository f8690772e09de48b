"""The classical baseline: a training-free drawing descriptor (architecture ``"hog-pca"``).

A drawing is preprocessed like the networks' input (grey levels, margins trimmed, thin lines
kept while shrinking, padded to a square), described by histograms of oriented gradients
(HOG) at several grid sizes, power-normalised (signed square root, then L2) and projected by a
PCA whitening to ``dim`` dimensions. The PCA is fitted on drawings the project generates
itself, never on real data, so the model ships without anything learned from real patents; the
fitting lives with the training code (:mod:`retrieval.ml.training.classical`), this module reads,
writes and runs the fitted folder.

The HOG descriptor itself (and the preprocessing it expects) lives in
:mod:`retrieval.ml.encoders.hog`; its public names are re-exported here.

Folder form::

    model.json   {"architecture": "hog-pca", "embed_dim": 256, "weights": "pca.npz", ...,
                  "training": {"recipe": "hog-pca", "fit_corpus": "generated seed 0, 120 patents"}}
    pca.npz      mean, components, whiten (the PCA) and scales, cell, bins, block_strides (HOG)
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from retrieval.ml.config import (
    MODEL_JSON,
    ModelConfig,
    atomic_write_bytes,
    read_model_json,
    write_model_json,
)
from retrieval.ml.encoders.base import ConfiguredEncoder
from retrieval.ml.encoders.hog import (
    DEFAULT_BLOCK_STRIDES,
    DEFAULT_SCALES,
    HYS_CLIP,
    HogSettings,
    classical_preprocess,
    hog_features,
    raw_descriptors,
)
from retrieval.ml.encoders.open_clip_encoder import parse_device
from retrieval.ml.errors import MLError, ModelLoadError

ARCHITECTURE = "hog-pca"
PCA_FILE = "pca.npz"

__all__ = [
    "ARCHITECTURE",
    "DEFAULT_BLOCK_STRIDES",
    "DEFAULT_SCALES",
    "HYS_CLIP",
    "ClassicalEncoder",
    "HogSettings",
    "NotSupportedError",
    "Pca",
    "classical_preprocess",
    "hog_features",
    "is_classical_folder",
    "load_classical_encoder",
    "raw_descriptors",
    "write_classical",
]


class NotSupportedError(MLError, ValueError):
    """The model cannot do what was asked (the classical model embeds no texts)."""


@dataclass(frozen=True, slots=True)
class Pca:
    """A PCA whitening: ``y = ((x - mean) @ components.T) * whiten``.

    Attributes:
        mean: ``(F,)`` float32 mean of the raw descriptors.
        components: ``(D, F)`` float32 principal axes, largest variance first.
        whiten: ``(D,)`` float32 scale of each axis.
    """

    mean: NDArray[np.float32]
    components: NDArray[np.float32]
    whiten: NDArray[np.float32]


class ClassicalEncoder(ConfiguredEncoder):
    """The ``Encoder`` of a ``hog-pca`` model folder: embeds drawings only.

    Args:
        config: the folder's ``model.json`` (preprocessing, name, ``embed_dim``).
        hog: descriptor settings.
        pca: the whitening projection (``embed_dim`` components).
        version: ``"hog-pca@<first 12 hex digits of the SHA-256 of pca.npz>"``.
        device: ``"cpu"`` or ``"cuda"``.
        batch_size: drawings per batch.

    Raises:
        ValueError: bad device or batch size, or a PCA that does not fit the settings.
    """

    def __init__(
        self,
        config: ModelConfig,
        hog: HogSettings,
        pca: Pca,
        *,
        version: str,
        device: str = "cpu",
        batch_size: int = 32,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if pca.components.shape[0] != config.embed_dim:
            raise ValueError(
                f"the PCA has {pca.components.shape[0]} components "
                f"but embed_dim is {config.embed_dim}"
            )
        self._device = parse_device(device)
        self._config, self._hog, self._version = config, hog, version
        self.batch_size = batch_size
        self._mean = torch.from_numpy(pca.mean).to(self._device)
        self._components = torch.from_numpy(pca.components).to(self._device)
        self._whiten = torch.from_numpy(pca.whiten).to(self._device)

    def embed_texts(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Not supported: the classical model embeds drawings only.

        Raises:
            NotSupportedError: always.
        """
        raise NotSupportedError(
            f"the classical model {self.name!r} embeds drawings only: it cannot embed texts"
        )

    def _embed_pixels(self, pixels: torch.Tensor) -> NDArray[np.float32]:
        pixels = pixels.to(self._device)
        with torch.inference_mode():
            raw = raw_descriptors(pixels, self._hog)
            projected = ((raw - self._mean) @ self._components.T) * self._whiten
            unit = F.normalize(projected, dim=1)
        out: NDArray[np.float32] = unit.cpu().numpy().astype(np.float32, copy=False)
        return out

    def __repr__(self) -> str:
        return f"ClassicalEncoder(name={self.name!r}, version={self.version!r})"


def write_classical(out_dir: Path, config: ModelConfig, hog: HogSettings, pca: Pca) -> Path:
    """Write ``pca.npz`` and ``model.json`` (with the file's digest) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        mean=pca.mean,
        components=pca.components.astype(np.float16),
        whiten=pca.whiten,
        scales=np.asarray(hog.scales, dtype=np.int64),
        block_strides=np.asarray(hog.block_strides, dtype=np.int64),
        cell=np.int64(hog.cell),
        bins=np.int64(hog.bins),
    )
    data = buffer.getvalue()
    atomic_write_bytes(out_dir / PCA_FILE, data)
    digest = hashlib.sha256(data).hexdigest()
    config = dataclasses.replace(config, weights=PCA_FILE, weights_sha256=digest)
    write_model_json(config, out_dir)
    return out_dir


def is_classical_folder(path: Path) -> bool:
    """Whether ``path`` (a folder, or a file in it) holds a ``hog-pca`` model.json."""
    folder = path.parent if path.is_file() else path
    config_path = folder / MODEL_JSON
    if not config_path.is_file():
        return False
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return False  # the regular loader reports a corrupt model.json
    return isinstance(data, dict) and data.get("architecture") == ARCHITECTURE


def load_classical_encoder(
    path: Path, *, device: str = "cpu", batch_size: int = 32
) -> ClassicalEncoder:
    """Load the classical model of a folder (or of a file in it).

    Raises:
        ModelLoadError: missing or corrupt ``model.json`` or ``pca.npz``, digest mismatch, or
            arrays that do not fit each other.
    """
    folder = path.parent if path.is_file() else path
    try:
        config = read_model_json(folder)
    except ValueError as exc:
        raise ModelLoadError(f"corrupt {MODEL_JSON}: {exc}") from exc
    pca_path = folder / (config.weights or PCA_FILE)
    data, digest = _read_pca_file(pca_path, config.weights_sha256)
    hog, pca = _unpack(data, pca_path)
    if pca.components.shape[0] != config.embed_dim:
        raise ModelLoadError(
            f"{folder}: {PCA_FILE} has {pca.components.shape[0]} components but "
            f"{MODEL_JSON} says embed_dim {config.embed_dim}"
        )
    version = f"{ARCHITECTURE}@{digest[:12]}"
    return ClassicalEncoder(config, hog, pca, version=version, device=device, batch_size=batch_size)


def _read_pca_file(path: Path, expected_sha256: str | None) -> tuple[bytes, str]:
    """The file's bytes and their sha256, checked against the expected digest if there is one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"cannot read the PCA file {path}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise ModelLoadError(
            f"{path} does not match the sha256 in {MODEL_JSON} (corrupt or replaced)"
        )
    return data, digest


def _unpack(data: bytes, path: Path) -> tuple[HogSettings, Pca]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            hog = HogSettings(
                scales=tuple(int(s) for s in arrays["scales"]),
                block_strides=tuple(int(s) for s in arrays["block_strides"]),
                cell=int(arrays["cell"]),
                bins=int(arrays["bins"]),
            )
            pca = Pca(
                arrays["mean"].astype(np.float32),
                arrays["components"].astype(np.float32),
                arrays["whiten"].astype(np.float32),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not a valid hog-pca file: {exc}") from exc
    if pca.components.shape[1:] != pca.mean.shape or pca.whiten.shape != pca.components.shape[:1]:
        raise ModelLoadError(f"{path}: mean, components and whiten have shapes that do not fit")
    return hog, pca


