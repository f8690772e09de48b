"""Preprocessing of patent line drawings into image-tower input tensors.

Steps, each switchable in :class:`~retrieval.ml.config.PreprocessConfig`: grey levels (any PIL
mode, transparency composited over white) -> trim white margins -> pad to a square with white ->
shrink keeping thin lines -> antialiased resize -> grey to three channels -> normalise.

Keeping thin lines (``thin_lines``): a patent sheet is scanned at 1,000-3,000 pixels with
strokes one or two pixels wide, and the network reads it at a few hundred. ``"min-pool"`` keeps
the darkest pixel of each block down to exactly twice the output side and then resizes by 2, so
a stroke comes out at the same weight whatever the sheet's resolution: a copy of a drawing
scanned 10 % smaller gives (nearly) the same tensor. ``"halving"`` (the models before stop 25)
halves by 2x2 blocks while over twice the output and resizes the rest, so the strokes' weight
jumps with the resolution (a sheet of 2,700 pixels is halved three times and comes out with dark
strokes, the same sheet at 2,400 pixels twice and comes out with grey ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image

from retrieval.ml.config import PreprocessConfig

WHITE = 255


def to_grayscale(img: Image.Image) -> NDArray[np.uint8]:
    """Grey levels of an image, white paper = 255.

    Handles modes 1, L, LA, P (with or without transparency), RGB, RGBA, CMYK, I, I;16*, F.
    Transparent pixels are composited over white, so a transparent background reads as paper.

    Args:
        img: any PIL image (for multi-frame images, the current frame).

    Returns:
        ``(H, W)`` uint8 array.

    Raises:
        TypeError: ``img`` is not a PIL image.
    """
    if not isinstance(img, Image.Image):
        raise TypeError(f"expected a PIL.Image.Image, got {type(img).__name__}")
    mode = img.mode
    if mode == "L":
        return np.asarray(img, dtype=np.uint8).copy()
    if mode.startswith("I") or mode == "F":
        return _wide_to_uint8(np.asarray(img), mode)
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
        mode = img.mode
    if mode in {"RGBA", "LA", "PA", "La", "RGBa"}:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (WHITE, WHITE, WHITE, WHITE))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("L"), dtype=np.uint8).copy()


def trim_margins(gray: NDArray[np.uint8], white_threshold: int) -> NDArray[np.uint8]:
    """Crop to the bounding box of the pixels darker than ``white_threshold``.

    Args:
        gray: ``(H, W)`` uint8 grey levels.
        white_threshold: grey level at or above which a pixel is background.

    Returns:
        ``(h, w)`` uint8 view of ``gray``; ``gray`` itself when the image is blank.
    """
    ink = gray < white_threshold
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return gray
    cols = np.flatnonzero(ink.any(axis=0))
    return gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def pad_to_square(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Pad the shorter side with white so the drawing is centred in a square.

    Args:
        gray: ``(H, W)`` uint8 grey levels.

    Returns:
        ``(S, S)`` uint8 array with ``S = max(H, W)``.
    """
    height, width = gray.shape
    side = max(height, width)
    if height == width:
        return gray
    out = np.full((side, side), WHITE, dtype=np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    out[top : top + height, left : left + width] = gray
    return out


def shrink_keeping_lines(gray: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """Halve the image (darkest pixel of each 2x2 block) while its longer side is over 2 * size.

    Plain area averaging turns a one-pixel stroke of a 2,000-pixel sheet into a faint grey
    smear at 128 pixels; taking the darkest pixel keeps it a visible line.

    Args:
        gray: ``(H, W)`` uint8 grey levels.
        size: the side the image will finally be resized to.

    Returns:
        ``(h, w)`` uint8 array with ``max(h, w) <= 2 * size`` (``gray`` itself when already so).
    """
    while max(gray.shape) > 2 * size:
        height, width = gray.shape
        if height % 2 or width % 2:
            gray = np.pad(gray, ((0, height % 2), (0, width % 2)), constant_values=WHITE)
        gray = np.minimum(
            np.minimum(gray[0::2, 0::2], gray[1::2, 0::2]),
            np.minimum(gray[0::2, 1::2], gray[1::2, 1::2]),
        )
    return gray


def min_pool_to(gray: NDArray[np.uint8], side: int) -> NDArray[np.uint8]:
    """Shrink each dimension over ``side`` to exactly ``side``, keeping the darkest pixel of each block.

    The blocks are the rows (columns) ``floor(i * H / side)`` up to ``floor((i + 1) * H / side)``,
    so a stroke of any width covers at least one output pixel at full darkness, whatever the
    ratio of the two sizes.

    Args:
        gray: ``(H, W)`` uint8 grey levels.
        side: the largest side to keep.

    Returns:
        ``(min(H, side), min(W, side))`` uint8 array (``gray`` itself when already small enough).
    """
    for axis in (0, 1):
        length = gray.shape[axis]
        if length > side:
            starts = (np.arange(side + 1, dtype=np.int64) * length) // side
            # Every block holds ``length // side`` or one more rows: the minimum of its first
            # that many rows and its last row. Whole-row gathers and minimums run about ten times
            # faster than np.minimum.reduceat over a 2,700-pixel sheet (2 ms against 27).
            pooled = np.take(gray, starts[1:] - 1, axis=axis)
            for offset in range(length // side):
                np.minimum(pooled, np.take(gray, starts[:-1] + offset, axis=axis), out=pooled)
            gray = pooled
    return gray


def load_image(path: Path) -> Image.Image:
    """Read an image file fully into memory (first frame of a multi-page file).

    Raises:
        ValueError: the file cannot be read as an image.
    """
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"cannot read image {path}: {exc}") from exc


def preprocess_image(img: Image.Image, cfg: PreprocessConfig) -> torch.Tensor:
    """Turn one drawing into a normalised pixel tensor.

    Args:
        img: any PIL image.
        cfg: the preprocessing configuration.

    Returns:
        ``(C, S, S)`` float32 tensor, ``C = cfg.channels`` (3 unless ``grayscale_to_rgb`` is
        off), ``S = cfg.image_size``; ``(pixel / 255 - mean) / std`` per channel.

    Raises:
        TypeError: ``img`` is not a PIL image or ``cfg`` not a PreprocessConfig.
    """
    if not isinstance(cfg, PreprocessConfig):
        raise TypeError(f"cfg must be a PreprocessConfig, got {type(cfg).__name__}")
    gray = to_grayscale(img)
    if cfg.trim_margins:
        gray = trim_margins(gray, cfg.white_threshold)
    if cfg.thin_lines == "halving":
        gray = shrink_keeping_lines(gray, cfg.image_size)
    if cfg.pad_to_square:
        gray = pad_to_square(gray)
    if cfg.thin_lines == "min-pool":
        gray = min_pool_to(gray, 2 * cfg.image_size)
    # reducing_gap: a box reduction first, then bicubic over the last factor of three; many
    # times faster on 2,000-pixel sheets and indistinguishable from a full bicubic resize.
    resized = Image.fromarray(np.ascontiguousarray(gray)).resize(
        (cfg.image_size, cfg.image_size), Image.Resampling.BICUBIC, reducing_gap=3.0
    )
    pixels = torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255.0)
    pixels = pixels.unsqueeze(0).expand(cfg.channels, -1, -1)
    mean = torch.tensor(cfg.mean, dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(cfg.std, dtype=torch.float32).view(-1, 1, 1)
    return ((pixels - mean) / std).contiguous()


def preprocess_batch(images: Sequence[Image.Image], cfg: PreprocessConfig) -> torch.Tensor:
    """Preprocess several drawings and stack them.

    Args:
        images: PIL images (any modes and sizes).
        cfg: the preprocessing configuration.

    Returns:
        ``(N, C, S, S)`` float32 tensor (``N = 0`` gives an empty tensor of that shape).

    Raises:
        TypeError: ``images`` is a single image instead of a sequence, or holds a non-image.
    """
    if isinstance(images, Image.Image):
        raise TypeError("images must be a sequence of PIL images, not a single image")
    if len(images) == 0:
        return torch.empty((0, cfg.channels, cfg.image_size, cfg.image_size), dtype=torch.float32)
    return torch.stack([preprocess_image(img, cfg) for img in images])


def _wide_to_uint8(values: NDArray[np.generic], mode: str) -> NDArray[np.uint8]:
    """Scale 16/32-bit integer or float grey levels to 0-255."""
    data = values.astype(np.float64)
    if mode == "F":
        peak = 1.0 if data.size == 0 or float(data.max()) <= 1.0 else 255.0
    elif mode.startswith("I;16") or (data.size and float(data.max()) > 255):
        peak = 65535.0
    else:
        peak = 255.0
    scaled = np.clip(np.rint(data * (255.0 / peak)), 0, 255)
    return scaled.astype(np.uint8)
