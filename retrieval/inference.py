"""The only bridge from Django into retrieval.ml: loads encoders (cached per process) and embeds.

Model rows name a checkpoint folder or an open_clip hub name; the ML library does the loading.
Errors of the library become the app's own errors here.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from django.conf import settings
from numpy.typing import NDArray
from PIL import Image

from retrieval.exceptions import ModelRegistrationError
from retrieval.ml.encoders.base import Encoder
from retrieval.ml.errors import ModelLoadError

_cache: dict[tuple[str, str], Encoder] = {}
_lock = threading.Lock()


def load_encoder(spec: str) -> Encoder:
    """Load (once per process) the encoder of a checkpoint folder or hub name."""
    key = (spec, settings.RETRIEVAL_DEVICE)
    with _lock:
        if key not in _cache:
            _cache[key] = _load(spec)
        return _cache[key]


def _load(spec: str) -> Encoder:
    from retrieval.ml.encoders.factory import load_encoder as ml_load_encoder

    try:
        return ml_load_encoder(spec, device=settings.RETRIEVAL_DEVICE)
    except (ModelLoadError, ValueError, OSError) as exc:
        raise ModelRegistrationError(f"Model {spec!r} could not be loaded: {exc}") from exc


def embed_images(spec: str, images: Sequence[Image.Image]) -> NDArray[np.float32]:
    """(N, dim) unit vectors for the images."""
    return load_encoder(spec).embed_images(images)


def embed_texts(spec: str, texts: Sequence[str]) -> NDArray[np.float32]:
    """(N, dim) unit vectors for the texts."""
    return load_encoder(spec).embed_texts(texts)


def make_random_checkpoint(out_dir: Path, *, architecture: str, seed: int, name: str) -> Path:
    """A seeded random-init checkpoint folder (the placeholder until a trained model exists)."""
    from retrieval.ml.encoders.factory import init_checkpoint

    if (out_dir / "model.json").exists():
        return out_dir
    return init_checkpoint(architecture, out_dir, seed=seed, name=name)


def make_sample_corpus(out_dir: Path, *, patents: int, seed: int) -> str:
    """Generate a synthetic design-patent corpus folder; returns a one-line summary."""
    from retrieval.ml.samples import generate_corpus

    summary = generate_corpus(out_dir, patents=patents, seed=seed)
    return (
        f"{summary.patents} patents, {summary.figures} figures, {len(summary.categories)} categories "
        f"in {summary.out_dir} ({summary.elapsed_seconds:.1f} s)"
    )
