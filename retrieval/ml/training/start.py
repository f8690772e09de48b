"""The pieces a run starts from: the model (new or from a checkpoint), optimiser and schedule."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import open_clip  # type: ignore[import-untyped,unused-ignore]
import torch
from torch import nn

from retrieval.ml.config import PreprocessConfig
from retrieval.ml.encoders.factory import (
    create_model,
    default_preprocess,
    load_model,
    register_model_configs,
)
from retrieval.ml.training.texts import Tokenizer

__all__ = [
    "StartingModel",
    "build_optimizer",
    "build_scheduler",
    "hardware",
    "start_model",
    "text_parameters",
]


@dataclass(frozen=True, slots=True)
class StartingModel:
    """A model to train with what is needed to train and save it.

    Attributes:
        model: the open_clip model (float32, CPU).
        tokenizer: its tokenizer.
        architecture: its open_clip architecture name.
        embed_dim: embedding dimension.
        preprocess: the image preprocessing it reads (kept from a checkpoint, else the
            architecture's default).
        origin: ``"random-init"`` or the checkpoint / name it was loaded from.
    """

    model: nn.Module
    tokenizer: Tokenizer
    architecture: str
    embed_dim: int
    preprocess: PreprocessConfig
    origin: str


def start_model(arch: str, init: str | None, *, seed: int) -> StartingModel:
    """A seeded random-init model of ``arch``, or the model ``init`` names (checkpoint folder
    or open_clip name, see :func:`~retrieval.ml.encoders.factory.load_model`)."""
    if init is not None:
        loaded = load_model(init)
        return StartingModel(
            loaded.model,
            loaded.tokenizer,
            loaded.config.architecture,
            loaded.config.embed_dim,
            loaded.config.preprocess,
            str(Path(init)) if Path(init).exists() else init,
        )
    model = create_model(arch, seed=seed)
    register_model_configs()
    embed_dim = int(open_clip.get_model_config(arch)["embed_dim"])
    tokenizer: Tokenizer = open_clip.get_tokenizer(arch)
    return StartingModel(model, tokenizer, arch, embed_dim, default_preprocess(arch), "random-init")


def text_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The text tower's parameters: all but the image tower's (``visual.*``) and the logit
    scale and bias."""
    return [
        p
        for name, p in model.named_parameters()
        if not name.startswith("visual.") and name not in {"logit_scale", "logit_bias"}
    ]


def build_optimizer(
    model: nn.Module, objective: nn.Module, *, lr: float, weight_decay: float, objective_lr: float
) -> torch.optim.AdamW:
    """AdamW over the trainable parameters of ``model`` and ``objective`` (the loss weights).

    No weight decay on gains, biases and the logit scale (tensors of fewer than two
    dimensions), as in CLIP, nor on the loss weights, which learn at their own rate
    ``objective_lr`` (at the model's rate they would hardly move in a short run).
    """
    decay: list[nn.Parameter] = []
    plain: list[nn.Parameter] = []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else plain).append(param)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": plain, "weight_decay": 0.0},
        {
            "params": [p for p in objective.parameters() if p.requires_grad],
            "weight_decay": 0.0,
            "lr": objective_lr,
        },
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98), eps=1e-6)


def build_scheduler(
    optimizer: torch.optim.Optimizer, *, total_steps: int, warmup: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over ``warmup`` (a fraction) of ``total_steps``, then cosine decay to 0."""
    warmup_steps = int(round(warmup * total_steps))

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def hardware(device: torch.device) -> str:
    """A one-line description of what trains: GPU name, or CPU model, cores and torch threads."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {_cpu_name()} ({os.cpu_count()} cores, {torch.get_num_threads()} torch threads)"


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
