"""Training of the retrieval model (Lo et al. 2024, "Large Language Model Informed Patent Image
Retrieval"): image-text, same-patent and class-level contrastive losses with learned weights, on
drawings augmented per step, batches drawn class-aware. Entry points: :func:`train` with
:class:`TrainOptions`, or ``python -m retrieval.ml train``.

The names below are imported on first use, so that importing :mod:`.cli` (which the command
line does for ``--help``) does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AugmentConfig": "augment",
    "augment_batch": "augment",
    "ClassContrastiveLoss": "losses",
    "MultiPositiveLoss": "losses",
    "UncertaintyWeighting": "losses",
    "clip_loss": "losses",
    "TrainResult": "loop",
    "train": "loop",
    "TrainOptions": "options",
    "ClassAwareBatches": "sampler",
    "RandomBatches": "sampler",
    "compose_description": "texts",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
