"""Everything a training run is told, as one validated, JSON-ready value."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.ml.training.augment import AugmentConfig
from retrieval.ml.training.dataset import CLASS_LABELS
from retrieval.ml.training.objective import LOSS_NAMES

__all__ = ["RUNTIME_FIELDS", "TrainOptions"]

#: Options that may change between a run and its resumption (they do not change the result,
#: or only say when to stop).
RUNTIME_FIELDS = frozenset(
    {
        "resume",
        "threads",
        "load_threads",
        "progress",
        "max_minutes",
        "max_steps",
        "overwrite",
        "keep_state",
    }
)


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """A training run (see ``python -m retrieval.ml train --help`` for each option).

    Attributes:
        corpus: corpus folder (``metadata.csv`` + images [+ ``descriptions.jsonl``]).
        out: checkpoint folder to write (also holds ``train_log.jsonl`` and ``last.pt``).
        arch: architecture of a randomly initialised model (ignored with ``init``).
        init: start from this model instead: checkpoint folder or open_clip name.
        split, split_seed, test_fraction, val_fraction: which images to train on (see
            :func:`retrieval.ml.data.select_split`); test patents are never seen with ``train``.
        epochs, batch_size, lr, weight_decay, warmup: optimisation (AdamW, linear warmup over
            the fraction ``warmup`` of the steps, then cosine decay to 0).
        seed: seed of initialisation, sampling, augmentation and text choice.
        losses: command-line loss names, any of ``image-text``, ``patent``, ``class``.
        class_label: the class of the class loss: ``us_class``, ``locarno`` or ``object``.
        balance_beta, logit_adjust: long-tail options of the class loss (0 = off).
        uncertainty: learn the loss weights (else equal weights).
        loss_weight_lr: learning rate of the learned loss weights.
        temperature: temperature of the image-image losses.
        sampler: ``class-aware`` or ``random``.
        per_patent: images of one patent drawn together by the class-aware sampler.
        per_class: images of one class per batch with the class-aware sampler.
        descriptions: pair images with their LLM descriptions where present.
        two_views: two augmented views per image, positives of each other.
        augment: augmentation settings (``AugmentConfig.off()`` for none).
        freeze_text: keep the text tower fixed.
        device: ``cpu`` or ``cuda`` (bf16 autocast, channels_last).
        threads: torch CPU threads (None = torch's default).
        load_threads: threads decoding images into the cache.
        resume: continue from ``out/last.pt``.
        name: model name in ``model.json`` (default: the folder name).
        max_minutes, max_steps: stop early (resumable) after this much time or these many steps.
        overwrite: replace a checkpoint already in ``out``.
        keep_state: keep ``last.pt`` after a complete run (it is kept anyway after an early stop).
        progress: show a progress bar.
    """

    corpus: Path
    out: Path
    arch: str = "ps-tiny"
    init: str | None = None
    split: str = "train"
    split_seed: int = 0
    test_fraction: float = 0.3
    val_fraction: float = 0.0
    epochs: int = 10
    batch_size: int = 64
    lr: float = 5e-4
    weight_decay: float = 0.1
    warmup: float = 0.05
    seed: int = 0
    losses: tuple[str, ...] = ("image-text", "patent", "class")
    class_label: str = "us_class"
    balance_beta: float = 0.0
    logit_adjust: float = 0.0
    uncertainty: bool = True
    loss_weight_lr: float = 1e-2
    temperature: float = 0.1
    sampler: str = "class-aware"
    per_patent: int = 4
    per_class: int = 8
    descriptions: bool = False
    two_views: bool = False
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    freeze_text: bool = False
    device: str = "cpu"
    threads: int | None = None
    load_threads: int = 2
    resume: bool = False
    name: str | None = None
    max_minutes: float | None = None
    max_steps: int | None = None
    overwrite: bool = False
    keep_state: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        _positive_ints(self, "epochs", "batch_size", "per_patent", "per_class", "load_threads")
        _check_choices(self)
        if (
            self.lr <= 0
            or self.loss_weight_lr <= 0
            or self.weight_decay < 0
            or not 0 <= self.warmup < 1
        ):
            raise ValueError(
                "lr and loss_weight_lr must be > 0, weight_decay >= 0 and warmup in [0, 1)"
            )
        if self.balance_beta < 0 or self.logit_adjust < 0 or self.temperature <= 0:
            raise ValueError("balance_beta and logit_adjust must be >= 0, temperature > 0")
        for name in ("threads", "max_steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.freeze_text and "image-text" not in self.losses:
            raise ValueError("freeze_text only makes sense with the image-text loss")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of all options (paths as strings)."""
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, AugmentConfig):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    def recipe(self) -> dict[str, Any]:
        """The options that determine the trained model (runtime options left out)."""
        return {k: v for k, v in self.to_dict().items() if k not in RUNTIME_FIELDS}


def _check_choices(options: TrainOptions) -> None:
    if options.split not in {"train", "all"}:
        raise ValueError(f"split must be train or all, got {options.split!r}")
    if not options.losses or any(name not in LOSS_NAMES for name in options.losses):
        raise ValueError(
            f"losses must be a non-empty subset of {', '.join(LOSS_NAMES)}, got {options.losses!r}"
        )
    if options.class_label not in CLASS_LABELS:
        raise ValueError(f"class_label must be one of {', '.join(CLASS_LABELS)}")
    if options.sampler not in {"random", "class-aware"}:
        raise ValueError(f"sampler must be random or class-aware, got {options.sampler!r}")
    if options.device not in {"cpu", "cuda"} and not options.device.startswith("cuda:"):
        raise ValueError(f"device must be cpu or cuda, got {options.device!r}")


def _positive_ints(options: TrainOptions, *names: str) -> None:
    for name in names:
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
