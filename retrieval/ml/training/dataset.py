"""The training set in memory: drawings preprocessed once into a uint8 cache, with labels.

Decoding a 2,000-pixel patent sheet costs far more than a training step's share of the model on
a CPU, so every image is decoded, trimmed, padded and resized once (by the model's own
:func:`~retrieval.ml.preprocessing.preprocess_image`, without its normalisation) and kept as
grey levels; each step then augments and normalises a batch of them.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch

from retrieval.ml.config import PreprocessConfig
from retrieval.ml.data import Record, label
from retrieval.ml.preprocessing import load_image, preprocess_image
from retrieval.ml.training.sampler import ClassAwareBatches, RandomBatches

__all__ = ["CLASS_LABELS", "TrainingSet", "load_drawing", "load_drawings", "to_model_input"]

#: ``--class-label`` choices and the relevance kind of :func:`retrieval.ml.data.label` they use.
CLASS_LABELS = {"us_class": "us_class", "locarno": "locarno", "object": "object"}


def load_drawing(path: Path, cfg: PreprocessConfig) -> torch.Tensor:
    """Decode one drawing (first page or frame) and preprocess it to grey levels.

    Args:
        path: image file.
        cfg: the model's preprocessing; its ``mean``/``std``/``grayscale_to_rgb`` are not
            applied here (see :func:`to_model_input`).

    Returns:
        ``(S, S)`` uint8 grey levels, 255 = paper, ``S = cfg.image_size``.
    """
    plain = dataclasses.replace(cfg, mean=(0.0,), std=(1.0,), grayscale_to_rgb=False)
    pixels = preprocess_image(load_image(path), plain)
    return pixels[0].mul(255.0).round().clamp(0, 255).to(torch.uint8)


def load_drawings(
    paths: Sequence[Path], cfg: PreprocessConfig, *, threads: int = 1
) -> torch.Tensor:
    """:func:`load_drawing` for many files, on ``threads`` threads (Pillow releases the GIL).

    Returns:
        ``(N, S, S)`` uint8 grey levels.
    """
    if not paths:
        return torch.empty((0, cfg.image_size, cfg.image_size), dtype=torch.uint8)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return torch.stack(list(pool.map(lambda p: load_drawing(p, cfg), paths)))


def to_model_input(ink: torch.Tensor, cfg: PreprocessConfig) -> torch.Tensor:
    """Ink batch (0 = paper, 1 = ink) -> the normalised tensor the image tower reads.

    Args:
        ink: ``(N, 1, S, S)`` float ink.
        cfg: the model's preprocessing (channels, mean, std).

    Returns:
        ``(N, C, S, S)`` float: ``((1 - ink) - mean) / std`` per channel.
    """
    gray = 1.0 - ink.clamp(0.0, 1.0)
    gray = gray.expand(-1, cfg.channels, -1, -1)
    mean = torch.tensor(cfg.mean, dtype=gray.dtype, device=gray.device).view(1, -1, 1, 1)
    std = torch.tensor(cfg.std, dtype=gray.dtype, device=gray.device).view(1, -1, 1, 1)
    return (gray - mean) / std


@dataclass
class TrainingSet:
    """Everything a training step reads about the items.

    Attributes:
        records: the training records, in order.
        pixels: ``(N, S, S)`` uint8 grey levels.
        groups: ``(N,)`` int64 patent index of each item.
        labels: ``(N,)`` int64 class index of each item, -1 = no label.
        class_names: the class of each class index.
        class_counts: items per class index.
    """

    records: list[Record]
    pixels: torch.Tensor
    groups: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    class_counts: list[int]

    @classmethod
    def build(
        cls, records: Sequence[Record], cfg: PreprocessConfig, *, class_label: str, threads: int = 1
    ) -> TrainingSet:
        """Decode and preprocess all images of ``records`` and index their labels.

        Raises:
            ValueError: no records, or an unknown ``class_label``.
        """
        if not records:
            raise ValueError("no training images: the corpus (or its split) is empty")
        if class_label not in CLASS_LABELS:
            raise ValueError(
                f"unknown class label {class_label!r}: choose {', '.join(CLASS_LABELS)}"
            )
        names = [label(r, CLASS_LABELS[class_label]) for r in records]
        counts = Counter(n for n in names if n)
        class_names = sorted(counts)
        index = {name: i for i, name in enumerate(class_names)}
        patents = {p: i for i, p in enumerate(sorted({r.patent_id for r in records}))}
        return cls(
            records=list(records),
            pixels=load_drawings([r.image_path for r in records], cfg, threads=threads),
            groups=torch.tensor([patents[r.patent_id] for r in records]),
            labels=torch.tensor([index.get(n, -1) for n in names]),
            class_names=class_names,
            class_counts=[counts[n] for n in class_names],
        )

    def __len__(self) -> int:
        return len(self.records)

    def batch_sampler(
        self, kind: str, batch_size: int, *, seed: int, per_patent: int, per_class: int = 8
    ) -> RandomBatches | ClassAwareBatches:
        """``"random"`` or ``"class-aware"`` batches over this set (see :mod:`.sampler`)."""
        if kind == "random":
            return RandomBatches(len(self), batch_size, seed=seed)
        if kind == "class-aware":
            classes = [self.class_names[i] if i >= 0 else "" for i in self.labels.tolist()]
            groups = [r.patent_id for r in self.records]
            return ClassAwareBatches(
                classes, groups, batch_size, per_group=per_patent, per_class=per_class, seed=seed
            )
        raise ValueError(f"unknown sampler {kind!r}: choose random or class-aware")
