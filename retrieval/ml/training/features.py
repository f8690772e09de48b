"""Frozen-backbone features and locked-text embeddings of a corpus, computed once and cached.

Training a head on a frozen backbone (and a locked text tower) needs each drawing's pooled
features and each text's sentence vector only once: they are computed here and kept in a cache
folder (``var/features`` by default) keyed by a digest of the backbone, the preprocessing and
the files, so a second training run or a recipe sweep costs seconds, not the CPU-minutes of
the backbone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import ImageOps

from retrieval.ml.config import PreprocessConfig
from retrieval.ml.data import Record
from retrieval.ml.encoders.backbones import load_backbone
from retrieval.ml.encoders.base import batches
from retrieval.ml.encoders.sentence import sentence_encoder
from retrieval.ml.preprocessing import load_image, preprocess_batch

#: View 0 is the drawing as it is; view 1 its mirror image (a free augmentation for the head).
VIEWS = ("plain", "hflip")


def image_features(
    records: Sequence[Record],
    backbone: str,
    preprocess: PreprocessConfig,
    *,
    cache_dir: Path | None,
    views: int = 2,
    batch_size: int = 32,
) -> NDArray[np.float32]:
    """``(views, N, F)`` pooled backbone features of the records' drawings (view 1: mirrored)."""
    key = images_key(records, backbone, json.dumps(preprocess.to_dict(), sort_keys=True), str(views))
    path = None if cache_dir is None else Path(cache_dir) / f"img-{backbone}-{preprocess.image_size}-{key}.npy"
    if path is not None and path.is_file():
        cached: NDArray[np.float32] = np.load(path)  # written float32 below
        return cached
    model = load_backbone(backbone)
    out = []
    for view in range(views):
        rows = []
        for chunk in batches(list(records), batch_size):
            images = [load_image(r.image_path) for r in chunk]
            if view == 1:
                images = [ImageOps.mirror(img.convert("L")) for img in images]
            with torch.inference_mode():
                rows.append(model(preprocess_batch(images, preprocess)).numpy())
        out.append(np.concatenate(rows))
    features = np.stack(out).astype(np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, features)
    return features


def text_embeddings(texts: Sequence[str], *, cache_dir: Path | None) -> NDArray[np.float32]:
    """``(N, 384)`` locked sentence vectors of ``texts`` (cached by a digest of the texts)."""
    encoder = sentence_encoder()
    key = _digest(encoder.version, *texts)
    path = None if cache_dir is None else Path(cache_dir) / f"txt-{key}.npy"
    if path is not None and path.is_file():
        cached: NDArray[np.float32] = np.load(path)  # written float32 below
        return cached
    vectors = encoder.embed(list(texts))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def images_key(records: Sequence[Record], *parts: str) -> str:
    """A cache key of ``parts`` and the records' image files (path, size, modification time), so a
    changed or replaced drawing is computed again."""
    return _digest(*parts, *(
        f"{r.image_path}|{r.image_path.stat().st_size}|{r.image_path.stat().st_mtime_ns}" for r in records))


def _digest(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
