"""Vectors with the structure of real ones, at any catalogue size.

Uniform random unit vectors are the worst case for graph indexes and unlike any embedding a
model produces (real ones cluster: views of one design, designs of one class). The benchmarks
therefore start from real embeddings: the active model encodes generated drawings (the sample
corpus generator, several views of each of many articles). To reach sizes no CPU could encode
here (100k, 1M), each further vector is drawn around a real one: a real vector chosen at random,
plus isotropic Gaussian noise scaled so that a synthetic vector lies as far from its seed as a
real vector lies from its nearest real neighbour (the median, measured), then normalised. The
result keeps the cluster structure and the local density of the real vectors; it says nothing
about clusters the real data would add at that size.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def nearest_neighbour_cosines(real: NDArray[np.float32]) -> NDArray[np.float32]:
    sims = real @ real.T
    np.fill_diagonal(sims, -np.inf)
    return sims.max(axis=1)


def noise_scale(real: NDArray[np.float32]) -> float:
    """Per-dimension noise that puts a drawn vector as far from its seed as a real vector is from
    its nearest real neighbour (median cosine c): |v + e| normalised has cosine about
    1/sqrt(1 + dim * sigma^2) with v, so sigma = sqrt((1/c^2 - 1) / dim)."""
    cos = float(np.median(nearest_neighbour_cosines(real)))
    return float(np.sqrt(max(1.0 / max(cos, 1e-3) ** 2 - 1.0, 1e-6) / real.shape[1]))


def around(seeds: NDArray[np.float32], n: int, sigma: float, *, seed: int) -> NDArray[np.float32]:
    """``n`` unit vectors, each a random seed vector plus Gaussian noise of scale sigma."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, seeds.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(start + 100_000, n)
        noisy = seeds[rng.integers(0, len(seeds), stop - start)]
        noisy = noisy + rng.normal(0.0, sigma, noisy.shape).astype(np.float32)
        out[start:stop] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return out


def extend(real: NDArray[np.float32], n: int, *, seed: int = 0) -> NDArray[np.float32]:
    """``n`` unit vectors: the real ones first, then synthetic ones drawn around them."""
    real = (real / np.linalg.norm(real, axis=1, keepdims=True)).astype(np.float32)
    if n <= len(real):
        return real[:n]
    return np.concatenate([real, around(real, n - len(real), noise_scale(real), seed=seed)])


def uniform(n: int, dim: int, *, seed: int = 0) -> NDArray[np.float32]:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)
