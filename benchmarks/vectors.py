"""Vectors with the structure of real ones, at any catalogue size.

Uniform random unit vectors are the worst case for graph indexes and unlike any embedding a
model produces (real ones cluster: views of one design, designs of one class, and within a
cluster they vary along few directions). The benchmarks therefore start from real embeddings:
the active model encodes generated drawings (the sample corpus generator, several views of
each of many articles) and the shared dev corpus when present. To reach sizes no CPU could
encode here (100k, 1M), each further vector is drawn around a real one:

    synthetic = normalise(seed + noise)

where ``seed`` is a real vector chosen at random and ``noise`` is Gaussian with the covariance
of the real local variation: the differences between each real vector and its nearest real
neighbour (``local_variation``). The noise is scaled so that a synthetic vector lies as far
from its seed as a real vector lies from its nearest real neighbour (the median, measured).
So synthetic vectors vary in the directions, and by the amounts, in which real neighbouring
drawings differ; the result keeps the cluster structure and the local density of the real
vectors. It says nothing about clusters the real data would add at that size.

``isotropic=True`` draws the noise from the same distance but in every direction alike (the
harness's first generator): each cluster is then a 256-dimensional ball whose points are
almost equidistant from any query, a harder case than real data for any approximate index
(docs/scaling.md gives the recall measured on it).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Noise:
    """How synthetic vectors leave their seed: ``z @ transform`` for standard normal ``z``."""

    transform: NDArray[np.float32]  # (dim, dim)

    @classmethod
    def isotropic(cls, real: NDArray[np.float32]) -> Noise:
        return cls(np.eye(real.shape[1], dtype=np.float32) * noise_scale(real))

    @classmethod
    def local(cls, real: NDArray[np.float32]) -> Noise:
        """Gaussian noise with the covariance of the real nearest-neighbour differences, scaled to
        the same expected length as the isotropic noise (so the same distance from the seed)."""
        diffs = local_variation(real)
        cov = diffs.T @ diffs / len(diffs)
        values, vectors = np.linalg.eigh(cov.astype(np.float64))
        values = np.clip(values, 0.0, None)
        target = noise_scale(real) ** 2 * real.shape[1]  # expected |e|^2 of the isotropic noise
        scale = np.sqrt(target / max(float(values.sum()), 1e-12))
        return cls((np.sqrt(values)[:, None] * vectors.T * scale).astype(np.float32))

    def effective_dimensions(self) -> float:
        """Participation ratio of the noise's variances: how many directions it really uses."""
        var = (self.transform.astype(np.float64) ** 2).sum(axis=1)
        return float(var.sum() ** 2 / max((var**2).sum(), 1e-30))


def local_variation(real: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each real vector minus its nearest real neighbour (exact duplicates left out)."""
    sims = real @ real.T
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.argmax(axis=1)
    diffs = real - real[nearest]
    keep = np.linalg.norm(diffs, axis=1) > 1e-4
    return diffs[keep] if keep.any() else diffs


def around(seeds: NDArray[np.float32], n: int, noise: Noise, *, seed: int) -> NDArray[np.float32]:
    """``n`` unit vectors, each a random seed vector plus the noise."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, seeds.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(start + 100_000, n)
        noisy = seeds[rng.integers(0, len(seeds), stop - start)]
        noisy = noisy + rng.standard_normal(noisy.shape, dtype=np.float32) @ noise.transform
        out[start:stop] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return out


def normalised(real: NDArray[np.float32]) -> NDArray[np.float32]:
    return (real / np.linalg.norm(real, axis=1, keepdims=True)).astype(np.float32)


def extend(real: NDArray[np.float32], n: int, *, seed: int = 0, isotropic: bool = False) -> NDArray[np.float32]:
    """``n`` unit vectors: the real ones first, then synthetic ones drawn around them."""
    real = normalised(real)
    if n <= len(real):
        return real[:n]
    noise = Noise.isotropic(real) if isotropic else Noise.local(real)
    return np.concatenate([real, around(real, n - len(real), noise, seed=seed)])


def uniform(n: int, dim: int, *, seed: int = 0) -> NDArray[np.float32]:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)
