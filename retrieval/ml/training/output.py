"""What a training run leaves in its folder besides ``last.pt``: the checkpoint with its
``model.json`` and the per-epoch ``train_log.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import open_clip  # type: ignore[import-untyped,unused-ignore]
import torch

from retrieval.ml.config import ModelConfig, read_model_json
from retrieval.ml.encoders.factory import save_checkpoint
from retrieval.ml.training.start import hardware
from retrieval.ml.training.state import Position

if TYPE_CHECKING:
    from retrieval.ml.training.loop import Run

__all__ = [
    "LOG_FILE",
    "RECIPE_NAME",
    "append_log",
    "epoch_line",
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


def training_record(run: Run, position: Position, *, completed: bool) -> dict[str, Any]:
    """The ``training`` object of ``model.json``: the recipe and what came of it."""
    options, data = run.options, run.data
    return {
        "recipe": RECIPE_NAME,
        "init": run.start.origin,
        "seed": options.seed,
        "options": options.recipe(),
        "completed": completed,
        "epochs": position.epoch,
        "steps": position.step,
        "wall_seconds": round(position.seconds, 1),
        "hardware": hardware(run.device),
        "torch": torch.__version__,
        "open_clip": open_clip.__version__,
        "loss_weights": run.objective.weighting.weights(),
        "loss_log_variances": run.objective.weighting.log_variances(),
        "images": len(data),
        "patents": int(data.groups.max()) + 1,
        "classes": len(data.class_names),
        "images_with_descriptions": 0 if run.texts is None else run.texts.with_descriptions,
    }


def write_checkpoint(run: Run, position: Position, *, completed: bool) -> ModelConfig:
    """Save the model (float16) and its ``model.json`` into the run's folder.

    Returns:
        The configuration written (weights file and digest filled in).
    """
    options = run.options
    config = ModelConfig(
        name=options.name or options.out.resolve().name,
        architecture=run.start.architecture,
        embed_dim=run.start.embed_dim,
        preprocess=run.start.preprocess,
        training=training_record(run, position, completed=completed),
        data_digest=run.digest,
        metrics={"train_loss": final_losses(position)},
    )
    model = run.start.model.eval()
    save_checkpoint(model, config, options.out, overwrite=True)
    model.train()
    return read_model_json(options.out)
