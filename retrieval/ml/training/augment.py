"""Augmentations of patent line drawings, applied per step to batches of cached drawings.

They work in *ink* space: ``(N, 1, S, S)`` float tensors with 0 = white paper and 1 = black ink
(``ink = 1 - grey / 255``). Zero padding is then white paper, so rotations and crops never bring
black borders in, and dilating or eroding the strokes is a max or min pooling of the ink.

Random parameters are drawn on the CPU from a ``torch.Generator`` (the same generator state gives
the same augmentations on any device); the image operations run on the batch's device.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F

__all__ = [
    "AugmentConfig",
    "augment_batch",
    "flips",
    "gray_to_ink",
    "grid_mask",
    "ink_to_gray",
    "random_erase",
    "random_geometry",
    "stroke_width",
]


@dataclass(frozen=True, slots=True)
class AugmentConfig:
    """Probabilities and ranges of the augmentations (a probability of 0 turns one off).

    Attributes:
        hflip: probability of a left-right mirror.
        vflip: probability of an upside-down mirror.
        crop: probability of a random resized crop.
        crop_scale: range of the crop's area as a fraction of the image.
        crop_ratio: range of the crop's aspect ratio (width / height).
        rotate: probability of a rotation.
        max_degrees: rotations are uniform in ``[-max_degrees, max_degrees]``.
        erase: probability of erasing (whitening) one random rectangle.
        erase_scale: range of the erased area as a fraction of the image.
        grid_mask: probability of GridMask (whitening a regular grid of squares).
        grid_ratio: side of each masked square as a fraction of the grid period.
        grid_period: range of the grid period as a fraction of the image side.
        dilate: probability of thickening the strokes (3x3 max pooling of the ink).
        erode: probability of thinning the strokes (3x3 min pooling of the ink; one-pixel
            strokes fade, hence a low default).
    """

    hflip: float = 0.5
    vflip: float = 0.0
    crop: float = 0.5
    crop_scale: tuple[float, float] = (0.6, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    rotate: float = 0.3
    max_degrees: float = 10.0
    erase: float = 0.25
    erase_scale: tuple[float, float] = (0.02, 0.15)
    grid_mask: float = 0.1
    grid_ratio: float = 0.3
    grid_period: tuple[float, float] = (0.15, 0.35)
    dilate: float = 0.2
    erode: float = 0.05

    def __post_init__(self) -> None:
        for name in ("hflip", "vflip", "crop", "rotate", "erase", "grid_mask", "dilate", "erode"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
        if self.dilate + self.erode > 1.0:
            raise ValueError("dilate + erode must be at most 1")
        for name in ("crop_scale", "crop_ratio", "erase_scale", "grid_period"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"{name} must be a range 0 < low <= high, got {(low, high)}")
        if self.crop_scale[1] > 1.0 or not 0 < self.grid_ratio < 1:
            raise ValueError("crop_scale must be within (0, 1] and grid_ratio within (0, 1)")

    @classmethod
    def off(cls) -> AugmentConfig:
        """A configuration that changes nothing."""
        return cls(hflip=0, vflip=0, crop=0, rotate=0, erase=0, grid_mask=0, dilate=0, erode=0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ranges become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def gray_to_ink(gray: torch.Tensor) -> torch.Tensor:
    """uint8 grey levels (255 = paper) -> float ink in [0, 1] (0 = paper), same shape."""
    return 1.0 - gray.float() / 255.0


def ink_to_gray(ink: torch.Tensor) -> torch.Tensor:
    """Float ink in [0, 1] -> float grey levels in [0, 1] (1 = paper), same shape."""
    return 1.0 - ink.clamp(0.0, 1.0)


def augment_batch(
    ink: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator
) -> torch.Tensor:
    """Apply all augmentations of ``cfg`` to a batch, each image with its own random draws.

    Args:
        ink: ``(N, 1, S, S)`` float ink (0 = paper, 1 = ink).
        cfg: probabilities and ranges.
        generator: CPU generator; the same state gives the same output.

    Returns:
        ``(N, 1, S, S)`` float ink in [0, 1]; blank paper stays blank.
    """
    _check_batch(ink)
    out = random_geometry(ink, cfg, generator)
    out = stroke_width(out, generator, dilate=cfg.dilate, erode=cfg.erode)
    out = random_erase(out, generator, p=cfg.erase, scale=cfg.erase_scale)
    out = grid_mask(out, generator, p=cfg.grid_mask, ratio=cfg.grid_ratio, period=cfg.grid_period)
    return out.clamp(0.0, 1.0)


def flips(
    ink: torch.Tensor, generator: torch.Generator, *, horizontal: float, vertical: float
) -> torch.Tensor:
    """Mirror each image left-right with probability ``horizontal``, upside-down with
    ``vertical``."""
    _check_batch(ink)
    h = _coin(ink.shape[0], horizontal, generator).to(ink.device).view(-1, 1, 1, 1)
    v = _coin(ink.shape[0], vertical, generator).to(ink.device).view(-1, 1, 1, 1)
    out = torch.where(h, ink.flip(-1), ink)
    return torch.where(v, out.flip(-2), out)


def random_geometry(
    ink: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator
) -> torch.Tensor:
    """Flips, random resized crop and rotation of each image in one bilinear resampling.

    Images drawn for none of them are returned unchanged (not resampled).
    """
    _check_batch(ink)
    n = ink.shape[0]
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.where(_coin(n, cfg.hflip, generator), -1.0, 1.0)
    theta[:, 1, 1] = torch.where(_coin(n, cfg.vflip, generator), -1.0, 1.0)
    cropped = _coin(n, cfg.crop, generator)
    scale_x, scale_y, shift_x, shift_y = _crop_boxes(n, cfg, generator)
    rotated = _coin(n, cfg.rotate, generator)
    angle = _uniform(n, -cfg.max_degrees, cfg.max_degrees, generator) * math.pi / 180
    angle = torch.where(rotated, angle, 0.0)
    cos, sin = angle.cos(), angle.sin()
    sx, sy = torch.where(cropped, scale_x, 1.0), torch.where(cropped, scale_y, 1.0)
    # output point p -> input point crop(rotate(flip(p))): x_in = sx * (R F p) + shift.
    rotation = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)
    linear = torch.diag_embed(torch.stack([sx, sy], 1)) @ rotation @ theta[:, :, :2]
    theta = torch.cat(
        [linear, torch.stack([shift_x, shift_y], 1).mul(cropped[:, None]).unsqueeze(2)], 2
    )
    changed = (theta - _identity(n)).abs().amax(dim=(1, 2)) > 0
    if not bool(changed.any()):
        return ink
    moved = changed.to(ink.device)
    picked = ink[moved]
    grid = F.affine_grid(theta[changed].to(ink), list(picked.shape), align_corners=False)
    out = ink.clone()
    out[moved] = F.grid_sample(picked, grid, align_corners=False)
    return out


def stroke_width(
    ink: torch.Tensor, generator: torch.Generator, *, dilate: float, erode: float
) -> torch.Tensor:
    """Thicken (3x3 max pooling of the ink) or thin (3x3 min pooling) the strokes of each image
    with probabilities ``dilate`` and ``erode`` (exclusive)."""
    _check_batch(ink)
    draw = torch.rand(ink.shape[0], generator=generator)
    thick = (draw < dilate).to(ink.device).view(-1, 1, 1, 1)
    thin = ((draw >= dilate) & (draw < dilate + erode)).to(ink.device).view(-1, 1, 1, 1)
    out = ink
    if bool(thick.any()):
        out = torch.where(thick, F.max_pool2d(ink, 3, stride=1, padding=1), out)
    if bool(thin.any()):
        out = torch.where(thin, -F.max_pool2d(-ink, 3, stride=1, padding=1), out)
    return out


def random_erase(
    ink: torch.Tensor, generator: torch.Generator, *, p: float, scale: tuple[float, float]
) -> torch.Tensor:
    """Whiten one random rectangle (area fraction in ``scale``, aspect ratio 1/3-3) of each image
    with probability ``p`` (random erasing, Zhong et al. 2020, filled with paper)."""
    _check_batch(ink)
    n, side = ink.shape[0], ink.shape[-1]
    chosen = _coin(n, p, generator)
    area = _uniform(n, *scale, generator)
    log_ratio = _uniform(n, math.log(1 / 3), math.log(3), generator)
    width = (area * log_ratio.exp()).sqrt().clamp(max=1.0)
    height = (area / log_ratio.exp()).sqrt().clamp(max=1.0)
    left, top = (
        torch.rand(n, generator=generator) * (1 - width),
        torch.rand(n, generator=generator) * (1 - height),
    )
    coords = (torch.arange(side) + 0.5) / side
    cols = (coords[None, :] >= left[:, None]) & (coords[None, :] < (left + width)[:, None])
    rows = (coords[None, :] >= top[:, None]) & (coords[None, :] < (top + height)[:, None])
    mask = rows[:, :, None] & cols[:, None, :] & chosen[:, None, None]
    return ink.masked_fill(mask.unsqueeze(1).to(ink.device), 0.0)


def grid_mask(
    ink: torch.Tensor,
    generator: torch.Generator,
    *,
    p: float,
    ratio: float,
    period: tuple[float, float],
) -> torch.Tensor:
    """Whiten a regular grid of squares of each image with probability ``p`` (GridMask, Chen et al.
    2020): period drawn from ``period`` (fraction of the side), squares of ``ratio`` of the period,
    random offset."""
    _check_batch(ink)
    n, side = ink.shape[0], ink.shape[-1]
    chosen = _coin(n, p, generator)
    step = (_uniform(n, *period, generator) * side).clamp(min=2.0)
    offset_x, offset_y = (
        torch.rand(n, generator=generator) * step,
        torch.rand(n, generator=generator) * step,
    )
    coords = torch.arange(side, dtype=torch.float32)
    in_x = (
        torch.remainder(coords[None, :] - offset_x[:, None], step[:, None])
        < (ratio * step)[:, None]
    )
    in_y = (
        torch.remainder(coords[None, :] - offset_y[:, None], step[:, None])
        < (ratio * step)[:, None]
    )
    mask = in_y[:, :, None] & in_x[:, None, :] & chosen[:, None, None]
    return ink.masked_fill(mask.unsqueeze(1).to(ink.device), 0.0)


def _crop_boxes(
    n: int, cfg: AugmentConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Relative crop sizes and centres (in [-1, 1] grid units) of random resized crops."""
    area = _uniform(n, *cfg.crop_scale, generator)
    log_ratio = _uniform(n, math.log(cfg.crop_ratio[0]), math.log(cfg.crop_ratio[1]), generator)
    width = (area * log_ratio.exp()).sqrt().clamp(max=1.0)
    height = (area / log_ratio.exp()).sqrt().clamp(max=1.0)
    shift_x = (torch.rand(n, generator=generator) * 2 - 1) * (1 - width)
    shift_y = (torch.rand(n, generator=generator) * 2 - 1) * (1 - height)
    return width, height, shift_x, shift_y


def _identity(n: int) -> torch.Tensor:
    return torch.eye(2, 3).expand(n, 2, 3)


def _coin(n: int, p: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) < p


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def _check_batch(ink: torch.Tensor) -> None:
    if ink.ndim != 4 or ink.shape[1] != 1 or ink.shape[2] != ink.shape[3]:
        raise ValueError(f"expected an (N, 1, S, S) ink batch, got {tuple(ink.shape)}")
    if not ink.is_floating_point():
        raise TypeError("ink must be a float tensor (use gray_to_ink on uint8 grey levels)")
