"""``last.pt``: the full training state, written after every epoch and on an early stop.

It holds the model, the loss weights, the optimiser and scheduler, where in which epoch training
stands, the random generators of that epoch and the global RNG states, plus the recipe and data
digest so that a resumption with other settings or other data fails instead of mixing runs.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from retrieval.ml.config import atomic_write_bytes

__all__ = [
    "STATE_FILE",
    "Position",
    "check_compatible",
    "load_state",
    "rng_states",
    "save_state",
    "set_rng_states",
]

STATE_FILE = "last.pt"
#: Recipe keys that may differ on resumption: where the files are, not what is trained.
_LOCATION_KEYS = frozenset({"corpus", "out"})


@dataclass
class Position:
    """Where training stands.

    Attributes:
        epoch: the current epoch (0-based).
        batch: batches of that epoch already done.
        step: optimiser steps done in all.
        seconds: training time spent so far (all runs).
        generators: states of the epoch's generators (name -> ByteTensor), for a mid-epoch stop.
        sums: sums of the loss terms over the batches done in the current epoch.
        history: the per-epoch log entries so far.
    """

    epoch: int = 0
    batch: int = 0
    step: int = 0
    seconds: float = 0.0
    generators: dict[str, torch.Tensor] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def term_means(self) -> dict[str, float]:
        """Mean of each loss term over the batches done in the current epoch."""
        return {k: v / max(1, self.batch) for k, v in self.sums.items()}


def rng_states() -> dict[str, Any]:
    """The global RNG states of torch (CPU and CUDA), numpy and Python's random."""
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what :func:`rng_states` returned."""
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_state(out: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` (plain dicts of tensors and numbers) to ``out/last.pt`` atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = out / STATE_FILE
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_state(out: Path) -> dict[str, Any]:
    """Read ``out/last.pt``.

    Raises:
        FileNotFoundError: there is none.
    """
    path = out / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"cannot resume: {path} does not exist")
    # Our own file; it holds numpy and Python RNG states, which weights_only refuses.
    state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    return state


def check_compatible(state: dict[str, Any], recipe: dict[str, Any], digest: str) -> None:
    """Fail unless ``state`` was written by a run with the same recipe on the same data.

    Raises:
        ValueError: naming the options that differ, or the data digests.
    """
    saved = {k: v for k, v in state["recipe"].items() if k not in _LOCATION_KEYS}
    wanted = {k: v for k, v in recipe.items() if k not in _LOCATION_KEYS}
    differ = sorted(k for k in saved.keys() | wanted.keys() if saved.get(k) != wanted.get(k))
    if differ:
        details = ", ".join(f"{k}: {saved.get(k)!r} -> {wanted.get(k)!r}" for k in differ)
        raise ValueError(f"cannot resume with other options than the saved run ({details})")
    if state["data_digest"] != digest:
        raise ValueError(
            f"cannot resume on other data: the saved run trained on {state['data_digest']}, "
            f"this corpus and split give {digest}"
        )
