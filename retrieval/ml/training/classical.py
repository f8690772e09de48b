"""Fitting the classical baseline (architecture ``"hog-pca"``): no network, no real data.

The PCA whitening of :mod:`retrieval.ml.encoders.classical` is fitted on drawings the project
generates itself (:func:`retrieval.ml.samples.generate_corpus`, fixed seed), so the model ships
without anything learned from real patents. The encoder module reads and writes the model
folder; this module is the only one that fits it (``python -m retrieval.ml fit-classical``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retrieval.ml.config import MODEL_JSON, ModelConfig
from retrieval.ml.data import read_corpus
from retrieval.ml.encoders.base import batches
from retrieval.ml.encoders.classical import (
    ARCHITECTURE,
    HogSettings,
    Pca,
    classical_preprocess,
    write_classical,
)
from retrieval.ml.encoders.hog import describe_files
from retrieval.ml.samples import generate_corpus

DEFAULT_DIM = 256
DEFAULT_FIT_PATENTS = 120
DEFAULT_FIT_SEED = 0
WHITEN_SHRINK = 1.0  # whitening divides by sqrt(eigenvalue + WHITEN_SHRINK * mean eigenvalue)

__all__ = [
    "DEFAULT_DIM",
    "DEFAULT_FIT_PATENTS",
    "DEFAULT_FIT_SEED",
    "WHITEN_SHRINK",
    "fit_classical",
    "fit_pca",
]


def fit_pca(raw: NDArray[np.float32], dim: int) -> Pca:
    """Fit a shrunk PCA whitening to raw descriptors.

    The whitening divides each axis by ``sqrt(eigenvalue + WHITEN_SHRINK * mean eigenvalue)``:
    full whitening would blow up the noise of the smallest kept axes.

    Args:
        raw: ``(M, F)`` raw descriptors, ``M > dim``.
        dim: output dimension ``D``, at most ``min(M - 1, F)``.

    Returns:
        The PCA (float32), with the sign of each axis fixed (largest loading positive) so the
        same data always gives the same file.

    Raises:
        ValueError: ``dim`` out of range.
    """
    samples, features = raw.shape
    if not 1 <= dim <= min(samples - 1, features):
        raise ValueError(f"dim must be in 1..{min(samples - 1, features)}, got {dim}")
    data = raw.astype(np.float64)
    mean = data.mean(axis=0)
    _, singular, vt = np.linalg.svd(data - mean, full_matrices=False)
    components = vt[:dim]
    signs = np.sign(components[np.arange(dim), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    eigen = singular[:dim] ** 2 / (samples - 1)
    whiten = 1.0 / np.sqrt(eigen + WHITEN_SHRINK * eigen.mean())
    return Pca(mean.astype(np.float32), components.astype(np.float32), whiten.astype(np.float32))


def fit_classical(
    out_dir: str | Path,
    *,
    patents: int = DEFAULT_FIT_PATENTS,
    seed: int = DEFAULT_FIT_SEED,
    dim: int = DEFAULT_DIM,
    name: str = "classical-hog-pca",
    overwrite: bool = False,
) -> Path:
    """Fit the classical model on a generated corpus and write its folder.

    Generates ``patents`` synthetic patents (about 7 drawings each) with ``seed`` in a
    temporary folder, describes every drawing and fits the PCA whitening to them.

    Args:
        out_dir: the model folder to write (``model.json`` + ``pca.npz``).
        patents: patents of the generated fitting corpus.
        seed: seed of the generated fitting corpus.
        dim: embedding dimension.
        name: model name for ``model.json``.
        overwrite: replace an existing model in ``out_dir``.

    Returns:
        The model folder.

    Raises:
        FileExistsError: ``out_dir`` holds a model and ``overwrite`` is off.
        ValueError: ``dim`` larger than the fitting corpus allows.
    """
    out = Path(out_dir)
    if (out / MODEL_JSON).exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a model; pass overwrite=True to replace it")
    hog = HogSettings()
    preprocess = classical_preprocess(hog)
    with tempfile.TemporaryDirectory(prefix="hog-pca-fit-") as tmp:
        generate_corpus(Path(tmp), patents=patents, seed=seed)
        paths = [r.image_path for r in read_corpus(tmp) if not r.is_front_page]
        raw = np.concatenate(
            [describe_files(batch, hog, preprocess) for batch in batches(paths, 64)]
        )
    pca = fit_pca(raw, dim)
    training = {
        "recipe": ARCHITECTURE,
        "fit_corpus": f"generated seed {seed}, {patents} patents",
        "fit_images": int(raw.shape[0]),
        "raw_dim": int(raw.shape[1]),
        "whiten_shrink": WHITEN_SHRINK,
    }
    config = ModelConfig(
        name=name,
        architecture=ARCHITECTURE,
        embed_dim=dim,
        preprocess=preprocess,
        training=training,
    )
    return write_classical(out, config, hog, pca)
