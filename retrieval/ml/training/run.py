"""The live pieces of one training run and how they are built from :class:`TrainOptions`.

:func:`build_run` reads the corpus (the training side of the patent split), builds or loads the
model, decodes every drawing once into a grey-level cache on the device, and makes the losses,
the batch sampler, the optimiser and the learning-rate schedule. The loop
(:mod:`retrieval.ml.training.loop`) steps a :class:`Run`; nothing here trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from retrieval.ml.data import data_digest, read_corpus, select_split
from retrieval.ml.training.dataset import TrainingSet
from retrieval.ml.training.objective import Objective, ObjectiveConfig, term_name
from retrieval.ml.training.options import TrainOptions
from retrieval.ml.training.sampler import ClassAwareBatches, RandomBatches
from retrieval.ml.training.start import (
    StartingModel,
    build_optimizer,
    build_scheduler,
    start_model,
    text_parameters,
)
from retrieval.ml.training.texts import TextBank

__all__ = ["Run", "build_run"]


@dataclass
class Run:
    """The live pieces of a training run."""

    options: TrainOptions
    device: torch.device
    start: StartingModel
    data: TrainingSet
    pixels: torch.Tensor
    texts: TextBank | None
    objective: Objective
    sampler: RandomBatches | ClassAwareBatches
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    digest: str


def build_run(options: TrainOptions) -> Run:
    """Read the data, build the model, losses, sampler, optimiser and schedule."""
    records = read_corpus(options.corpus)
    records = select_split(
        records, options.split, test_fraction=options.test_fraction, seed=options.split_seed,
        val_fraction=options.val_fraction,
    )
    start = start_model(options.arch, options.init, seed=options.seed)
    data = TrainingSet.build(
        records, start.preprocess, class_label=options.class_label, threads=options.load_threads
    )
    objective = _objective(options, data)
    texts = None
    if objective.needs_text:
        texts = TextBank(records, start.tokenizer, descriptions=options.descriptions)
    device = torch.device(options.device)
    _place_model(start.model, device, train_text=texts is not None and not options.freeze_text)
    objective.to(device)
    sampler = data.batch_sampler(
        options.sampler, options.batch_size, seed=options.seed, per_patent=options.per_patent,
        per_class=options.per_class,
    )
    optimizer = build_optimizer(
        start.model,
        objective,
        lr=options.lr,
        weight_decay=options.weight_decay,
        objective_lr=options.loss_weight_lr,
    )
    total_steps = options.epochs * len(sampler)
    scheduler = build_scheduler(optimizer, total_steps=total_steps, warmup=options.warmup)
    pixels = data.pixels.to(device)
    return Run(
        options, device, start, data, pixels, texts, objective, sampler, optimizer, scheduler,
        data_digest(records),
    )  # fmt: skip


def _objective(options: TrainOptions, data: TrainingSet) -> Objective:
    terms = tuple(term_name(name) for name in options.losses)
    cfg = ObjectiveConfig(
        terms,
        temperature=options.temperature,
        balance_beta=options.balance_beta,
        logit_adjust=options.logit_adjust,
        uncertainty=options.uncertainty,
    )
    return Objective(cfg, data.class_counts if "class" in terms else ())


def _place_model(model: torch.nn.Module, device: torch.device, *, train_text: bool) -> None:
    """Move to ``device`` in training mode (channels_last on CUDA); freeze the text tower
    unless ``train_text``."""
    model.to(device).train()
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    if not train_text:
        for param in text_parameters(model):
            param.requires_grad_(False)
