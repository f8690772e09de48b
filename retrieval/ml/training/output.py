"""What a training run leaves in its folder besides ``last.pt``: the checkpoint with its
``model.json`` and the per-epoch ``train_log.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import open_clip  # type: ignore[import-untyped,unused-ignore]
import torch
from torch import nn

from retrieval.ml.config import ModelConfig, read_model_json
from retrieval.ml.encoders.factory import save_checkpoint
from retrieval.ml.training.options import TrainOptions
from retrieval.ml.training.start import hardware
from retrieval.ml.training.state import Position

__all__ = [
    "LOG_FILE",
    "RECIPE_NAME",
    "append_log",
    "epoch_line",
    "final_losses",
    "training_record",
    "write_checkpoint",
]

LOG_FILE = "train_log.jsonl"
RECIPE_NAME = "patentsearch-contrastive"
_NOT_TERMS = {"epoch", "step", "lr", "weights", "seconds", "total_seconds"}


def append_log(out: Path, entry: dict[str, Any]) -> None:
    """Append one JSON line to ``out/train_log.jsonl``."""
    with open(out / LOG_FILE, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, allow_nan=False) + "\n")


def epoch_line(entry: dict[str, Any], epochs: int) -> str:
    """The one-line summary printed after an epoch."""
    terms = "  ".join(f"{k} {v:.4f}" for k, v in entry.items() if k not in _NOT_TERMS)
    weights = " ".join(f"{k}={v:.2f}" for k, v in entry["weights"].items())
    return (
        f"epoch {entry['epoch']}/{epochs}  {terms}  lr {entry['lr']:.2e}  weights {weights}  "
        f"{entry['seconds']:.1f}s"
    )


def final_losses(position: Position) -> dict[str, float]:
    """The loss terms of the last completed epoch (or of the batches of a partial one)."""
    if position.history:
        return {k: v for k, v in position.history[-1].items() if k not in _NOT_TERMS}
    return position.term_means()


def training_record(
    options: TrainOptions,
    position: Position,
    *,
    completed: bool,
    origin: str,
    device: torch.device,
    loss_weights: dict[str, float],
    loss_log_variances: dict[str, float],
    images: int,
    patents: int,
    classes: int,
    images_with_descriptions: int,
) -> dict[str, Any]:
    """The ``training`` object of ``model.json``: the recipe and what came of it.

    Args:
        options: the run's options (their recipe part is recorded).
        position: how far the run got.
        completed: whether it ran all its epochs.
        origin: ``"random-init"`` or the checkpoint / name it started from.
        device: where it trained.
        loss_weights, loss_log_variances: the learned loss weighting at the end.
        images, patents, classes: the size of the training set.
        images_with_descriptions: images paired with LLM descriptions (0 without texts).
    """
    return {
        "recipe": RECIPE_NAME,
        "init": origin,
        "seed": options.seed,
        "options": options.recipe(),
        "completed": completed,
        "epochs": position.epoch,
        "steps": position.step,
        "wall_seconds": round(position.seconds, 1),
        "hardware": hardware(device),
        "torch": torch.__version__,
        "open_clip": open_clip.__version__,
        "loss_weights": loss_weights,
        "loss_log_variances": loss_log_variances,
        "images": images,
        "patents": patents,
        "classes": classes,
        "images_with_descriptions": images_with_descriptions,
    }


def write_checkpoint(model: nn.Module, config: ModelConfig, out: Path) -> ModelConfig:
    """Save ``model`` (float16) and its ``model.json`` into ``out``, replacing what is there.

    The model is saved in eval mode and left in training mode.

    Returns:
        The configuration written (weights file and digest filled in).
    """
    model.eval()
    save_checkpoint(model, config, out, overwrite=True)
    model.train()
    return read_model_json(out)
