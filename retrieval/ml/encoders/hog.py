"""The HOG drawing descriptor of the classical model (architecture ``"hog-pca"``).

HOG is written out here in torch (Dalal & Triggs: central-difference gradients, unsigned
orientations voted into ``bins`` bins with linear interpolation between the two nearest,
cells of ``cell`` pixels, 2 x 2-cell blocks normalised with L2-Hys); this keeps the project
free of an image-processing dependency for forty lines of code and lets a batch run on the
encoder's device. :func:`raw_descriptors` combines several grid sizes and power-normalises
(signed square root, then L2); :mod:`retrieval.ml.encoders.classical` projects the result by
a PCA whitening.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from retrieval.ml.config import PreprocessConfig
from retrieval.ml.preprocessing import load_image, preprocess_batch

DEFAULT_SCALES: tuple[int, ...] = (64, 128)
DEFAULT_BLOCK_STRIDES: tuple[int, ...] = (1, 2)
HYS_CLIP = 0.2  # L2-Hys clipping value (Dalal & Triggs)
_EPS = 1e-6

__all__ = [
    "DEFAULT_BLOCK_STRIDES",
    "DEFAULT_SCALES",
    "HYS_CLIP",
    "HogSettings",
    "classical_preprocess",
    "describe_files",
    "hog_features",
    "raw_descriptors",
]


@dataclass(frozen=True, slots=True)
class HogSettings:
    """How raw descriptors are computed.

    Attributes:
        scales: grid sizes in pixels the drawing is described at (the largest is the
            preprocessing size).
        block_strides: per scale, the step between 2 x 2-cell blocks in cells (1 overlaps
            the blocks, 2 tiles them and keeps the descriptor small).
        cell: cell side in pixels.
        bins: orientation bins over 0-180 degrees.
    """

    scales: tuple[int, ...] = DEFAULT_SCALES
    block_strides: tuple[int, ...] = DEFAULT_BLOCK_STRIDES
    cell: int = 8
    bins: int = 9

    def __post_init__(self) -> None:
        if not self.scales or len(self.block_strides) != len(self.scales):
            raise ValueError("scales and block_strides must be non-empty and of equal length")
        for scale in self.scales:
            if scale % self.cell or scale < 2 * self.cell:
                raise ValueError(
                    f"scale {scale} must be a multiple of cell {self.cell}, >= 2 cells"
                )
        if self.bins < 2 or any(s not in (1, 2) for s in self.block_strides):
            raise ValueError("bins must be >= 2 and block strides 1 or 2")


def hog_features(pixels: torch.Tensor, *, cell: int, bins: int, block_stride: int) -> torch.Tensor:
    """HOG descriptors of a batch of one-channel square images.

    Args:
        pixels: ``(N, 1, S, S)`` float tensor, ``S`` a multiple of ``cell``, ``>= 2 * cell``.
            Only gradient directions and relative magnitudes count, not the sign or scale.
        cell: cell side in pixels.
        bins: orientation bins over 0-180 degrees.
        block_stride: step between blocks, in cells.

    Returns:
        ``(N, blocks * 4 * bins)`` float32; each block's values have unit L2 norm (all zero
        on a blank block).
    """
    padded = F.pad(pixels.float(), (1, 1, 1, 1), mode="replicate")
    gx = padded[:, :, 1:-1, 2:] - padded[:, :, 1:-1, :-2]
    gy = padded[:, :, 2:, 1:-1] - padded[:, :, :-2, 1:-1]
    magnitude = torch.sqrt(gx * gx + gy * gy)
    position = torch.remainder(torch.atan2(gy, gx), math.pi) / (math.pi / bins) - 0.5
    lower = torch.floor(position)
    upper_weight = position - lower
    votes = torch.zeros((pixels.shape[0], bins, *pixels.shape[2:]), device=pixels.device)
    votes.scatter_add_(1, torch.remainder(lower, bins).long(), magnitude * (1 - upper_weight))
    votes.scatter_add_(1, torch.remainder(lower + 1, bins).long(), magnitude * upper_weight)
    cells = F.avg_pool2d(votes, cell)
    blocks = F.unfold(cells, kernel_size=2, stride=block_stride).transpose(1, 2)
    blocks = blocks / (blocks.norm(dim=2, keepdim=True) + _EPS)
    blocks = blocks.clamp(max=HYS_CLIP)
    blocks = blocks / (blocks.norm(dim=2, keepdim=True) + _EPS)
    features: torch.Tensor = blocks.flatten(1)
    return features


def raw_descriptors(pixels: torch.Tensor, hog: HogSettings) -> torch.Tensor:
    """Raw descriptors: multi-scale HOG, each scale weighted equally, signed square root, L2.

    Args:
        pixels: ``(N, 1, S, S)`` preprocessed drawings, ``S = max(hog.scales)``.
        hog: the descriptor settings.

    Returns:
        ``(N, F)`` float32 rows of unit L2 norm (zero rows for blank drawings).
    """
    parts = []
    for scale, stride in zip(hog.scales, hog.block_strides, strict=True):
        scaled = (
            pixels if scale == pixels.shape[-1] else F.interpolate(pixels, size=scale, mode="area")
        )
        features = hog_features(scaled, cell=hog.cell, bins=hog.bins, block_stride=stride)
        blocks = features.shape[1] / (4 * hog.bins)
        parts.append(features / math.sqrt(blocks))
    raw = torch.cat(parts, dim=1)
    raw = torch.sign(raw) * torch.sqrt(raw.abs())
    return F.normalize(raw, dim=1)


def classical_preprocess(hog: HogSettings) -> PreprocessConfig:
    """Preprocessing of the classical model: one grey channel at the largest HOG scale, thin
    lines kept by halving (the preprocessing its reference rows were measured with); mean 1 and
    std 1 map paper to 0 and ink to -1."""
    return PreprocessConfig(
        image_size=max(hog.scales),
        grayscale_to_rgb=False,
        mean=(1.0,),
        std=(1.0,),
        thin_lines="halving",
    )


def describe_files(
    paths: Sequence[Path], hog: HogSettings, preprocess: PreprocessConfig
) -> NDArray[np.float32]:
    """Raw descriptors ``(N, F)`` float32 of the drawings in ``paths``."""
    images = [load_image(path) for path in paths]
    with torch.inference_mode():
        raw = raw_descriptors(preprocess_batch(images, preprocess), hog)
    out: NDArray[np.float32] = raw.numpy().astype(np.float32, copy=False)
    return out
