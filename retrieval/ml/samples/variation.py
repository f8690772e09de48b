"""Small helpers for random proportions in shape templates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def u(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A uniform draw in [lo, hi)."""
    return float(rng.uniform(lo, hi))


def chance(rng: np.random.Generator, p: float) -> bool:
    """True with probability p."""
    return bool(rng.random() < p)


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One of the options, uniformly."""
    return options[int(rng.integers(len(options)))]


def count(rng: np.random.Generator, lo: int, hi: int) -> int:
    """An integer in [lo, hi], both included."""
    return int(rng.integers(lo, hi + 1))


def smooth_profile(
    radii: Sequence[float] | np.ndarray, heights: Sequence[float] | np.ndarray, n: int = 24
) -> np.ndarray:
    """(radius, y) points of a smooth curve through the control values (Catmull-Rom in radius,
    heights spaced evenly in between)."""
    r = np.asarray(radii, dtype=float)
    y = np.asarray(heights, dtype=float)
    padded = np.concatenate([[2 * r[0] - r[1]], r, [2 * r[-1] - r[-2]]])
    t = np.linspace(0.0, len(r) - 1, n)
    i = np.minimum(np.floor(t).astype(int), len(r) - 2)
    f = t - i
    p0, p1, p2, p3 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3]
    radius = 0.5 * (2 * p1 + (p2 - p0) * f + (2 * p0 - 5 * p1 + 4 * p2 - p3) * f ** 2
                    + (3 * p1 - p0 - 3 * p2 + p3) * f ** 3)
    height = y[i] + (y[i + 1] - y[i]) * f
    return np.stack([np.maximum(radius, 0.01), height], 1)
