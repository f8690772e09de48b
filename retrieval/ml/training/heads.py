"""Training a ``pretrained-head`` model on cached frozen features (LiT on a CPU).

The backbone and the sentence model stay frozen, so each drawing's pooled features (plain and
mirrored) and each description's sentence vector are computed once
(:mod:`retrieval.ml.training.features`); the head is then trained on those arrays, full
epochs in seconds. The losses are the method's, from :mod:`retrieval.ml.training.losses`:

- ``patent``: multi-positive loss over the images of a patent (and the mirrored view);
- ``image-text``: symmetric InfoNCE between the drawing and one of its LLM descriptions
  (drawn each step) in the locked sentence space: the head learns to meet it (LiT);
- ``class``: class-level supervised contrastive loss on ``us_class_main`` with class-balanced
  anchor weights (``n_c ** -beta``) and class-aware P x K batches;

combined by learned uncertainty weights when there are several. A model trained without
``image-text`` has no text tower (its space is not the sentence space).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from retrieval.ml.config import ModelConfig
from retrieval.ml.data import Record, data_digest, read_corpus, select_split
from retrieval.ml.encoders.backbones import backbone_preprocess, backbone_spec
from retrieval.ml.encoders.checkpoint import save_checkpoint
from retrieval.ml.encoders.pretrained_head import ARCHITECTURE, HEAD_FILE, ProjectionHead
from retrieval.ml.encoders.sentence import DIM as SENTENCE_DIM
from retrieval.ml.encoders.sentence import NAME as SENTENCE_NAME
from retrieval.ml.training.features import image_features, text_embeddings
from retrieval.ml.training.losses import (
    ClassContrastiveLoss,
    MultiPositiveLoss,
    UncertaintyWeighting,
    clip_loss,
)
from retrieval.ml.training.sampler import ClassAwareBatches, RandomBatches

LOSSES = ("patent", "image-text", "class")


@dataclass(frozen=True, slots=True)
class HeadRecipe:
    """Everything that decides a trained head (stored in ``model.json`` as ``training``)."""

    backbone: str = "mobilenetv2-imagenet"
    image_size: int = 320
    losses: tuple[str, ...] = ("patent",)
    hidden: int = 0
    epochs: int = 60
    batch_size: int = 128
    lr: float = 3e-4
    weight_decay: float = 1e-4
    temperature: float = 0.1
    balance_beta: float = 0.5
    sampler: str = "random"
    seed: int = 0
    split_seed: int = 0
    test_fraction: float = 0.3
    val_fraction: float = 0.15

    def __post_init__(self) -> None:
        unknown = set(self.losses) - set(LOSSES)
        if not self.losses or unknown:
            raise ValueError(f"losses must be a non-empty subset of {LOSSES}, got {self.losses}")
        if self.sampler not in {"random", "class-aware"}:
            raise ValueError(f"sampler must be random or class-aware, got {self.sampler!r}")
        backbone_spec(self.backbone)


def train_head(
    corpus: Path, out: Path, recipe: HeadRecipe, *, name: str, cache_dir: Path | None,
    overwrite: bool = False, log: Any = print,
) -> Path:
    """Train a head on the recipe's train split of ``corpus`` and write the model folder.

    Returns:
        The model folder (``model.json`` + ``head.safetensors`` + ``train_log.jsonl``).
    """
    started = time.perf_counter()
    every = read_corpus(corpus)
    records = select_split(
        every, "train", test_fraction=recipe.test_fraction, seed=recipe.split_seed,
        val_fraction=recipe.val_fraction,
    )
    preprocess = backbone_preprocess(recipe.backbone, recipe.image_size)
    # Features of the whole corpus (one cache entry whatever the split), then the train rows.
    cached = image_features(every, recipe.backbone, preprocess, cache_dir=cache_dir)
    row = {r.image_file: i for i, r in enumerate(every)}
    features = torch.from_numpy(cached[:, [row[r.image_file] for r in records]])
    feature_seconds = time.perf_counter() - started
    texts = _description_table(records) if "image-text" in recipe.losses else None
    head, history = fit_head(features, records, recipe, texts=texts, cache_dir=cache_dir, log=log)
    training = {
        **{k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(recipe).items()},
        "recipe": "pretrained-head",
        "backbone_source": backbone_spec(recipe.backbone).source(),
        "text_tower": SENTENCE_NAME if "image-text" in recipe.losses else None,
        "train_images": len(records),
        "train_patents": len({r.patent_id for r in records}),
        "feature_seconds": round(feature_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "final": history[-1] if history else {},
    }
    if training["text_tower"]:
        from retrieval.ml.encoders.wheel_weights import WHEEL_FILES

        training["text_tower_source"] = WHEEL_FILES[SENTENCE_NAME].source()
    config = ModelConfig(
        name=name, architecture=ARCHITECTURE, embed_dim=SENTENCE_DIM, preprocess=preprocess,
        training=training, data_digest=data_digest(records),
    )
    folder = save_checkpoint(head, config, out, overwrite=overwrite)
    # save_checkpoint names the file after the format; the head's folder uses HEAD_FILE.
    written = json.loads((folder / "model.json").read_text())
    (folder / written["weights"]).replace(folder / HEAD_FILE)
    written["weights"] = HEAD_FILE
    (folder / "model.json").write_text(json.dumps(written, indent=2) + "\n")
    (folder / "train_log.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    return folder


def _description_table(records: Sequence[Record]) -> list[list[str]]:
    """Per record, its LLM descriptions (else its title / object name, so every image has one)."""
    table = []
    for r in records:
        texts = [t for t in r.descriptions if t.strip()]
        table.append(texts or [r.title or r.object_name or r.caption or "a design patent drawing"])
    return table


def fit_head(
    features: torch.Tensor, records: Sequence[Record], recipe: HeadRecipe, *,
    texts: list[list[str]] | None, cache_dir: Path | None, log: Any = print,
) -> tuple[ProjectionHead, list[dict[str, float]]]:
    """Train a head on ``(views, N, F)`` features of ``records``; returns it and the epoch log."""
    torch.manual_seed(recipe.seed)
    views, n, dim = features.shape
    head = ProjectionHead(dim, SENTENCE_DIM, recipe.hidden)
    head.set_standardisation(features.reshape(-1, dim))
    patents = {p: i for i, p in enumerate(sorted({r.patent_id for r in records}))}
    groups = torch.tensor([patents[r.patent_id] for r in records])
    classes = sorted({r.us_class_main for r in records if r.us_class_main})
    class_ids = torch.tensor([classes.index(r.us_class_main) if r.us_class_main else -1 for r in records])
    terms: dict[str, torch.nn.Module] = {}
    if "patent" in recipe.losses:
        terms["patent"] = MultiPositiveLoss(recipe.temperature)
    if "class" in recipe.losses:
        counts = torch.bincount(class_ids[class_ids >= 0], minlength=len(classes)).clamp(min=1)
        terms["class"] = ClassContrastiveLoss(counts, temperature=recipe.temperature, beta=recipe.balance_beta)
    text_vectors, text_owner = None, None
    if texts is not None:
        unique = sorted({t for row in texts for t in row})
        position = {t: i for i, t in enumerate(unique)}
        text_vectors = torch.from_numpy(text_embeddings(unique, cache_dir=cache_dir))
        text_owner = [[position[t] for t in row] for row in texts]
    logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    names = [{"image-text": "image_text"}.get(k, k) for k in recipe.losses]
    weighting = UncertaintyWeighting(names, learn=len(names) > 1)
    params = [*head.parameters(), logit_scale, *weighting.parameters()]
    optimiser = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    if recipe.sampler == "class-aware":
        sampler: Any = ClassAwareBatches([r.us_class_main for r in records], [r.patent_id for r in records],
                                         recipe.batch_size, seed=recipe.seed)
    else:
        sampler = RandomBatches(n, recipe.batch_size, seed=recipe.seed)
    total_steps = recipe.epochs * len(sampler)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / total_steps)))
    generator = torch.Generator().manual_seed(recipe.seed)
    history: list[dict[str, float]] = []
    head.train()
    for epoch in range(recipe.epochs):
        sums: dict[str, float] = {}
        steps = 0
        for batch in sampler.batches(epoch):
            index = torch.tensor(batch)
            view = torch.randint(0, views, (len(batch),), generator=generator)
            emb_a = head(features[view, index])
            values: dict[str, torch.Tensor] = {}
            if "patent" in terms:
                other = head(features[(view + 1) % views, index])
                values["patent"] = terms["patent"](torch.cat([emb_a, other]), torch.cat([groups[index], groups[index]]))
            if "class" in terms:
                values["class"] = terms["class"](emb_a, class_ids[index])
            if text_vectors is not None and text_owner is not None:
                pick = [text_owner[i][int(torch.randint(len(text_owner[i]), (1,), generator=generator))] for i in batch]
                values["image_text"] = clip_loss(emb_a, text_vectors[pick], logit_scale)
            loss = weighting(values)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            steps += 1
            for key, value in values.items():
                sums[key] = sums.get(key, 0.0) + float(value.detach())
        row = {"epoch": epoch + 1, **{k: round(v / max(steps, 1), 4) for k, v in sums.items()}}
        history.append(row)
        if (epoch + 1) % 10 == 0 or epoch == 0:
            log(json.dumps(row))
    head.eval()
    return head, history


def embed_features(head: ProjectionHead, features: np.ndarray) -> np.ndarray:
    """Unit embeddings of ``(N, F)`` cached features through a trained head."""
    with torch.inference_mode():
        return F.normalize(head(torch.from_numpy(features)), dim=-1).numpy()
