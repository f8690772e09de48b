"""Frozen-feature comparison of the registered backbones on one side of the patent split.

``python -m retrieval.ml.evaluation.backbones --corpus DEV_CORPUS --split val --val-fraction 0.15``
embeds the split's drawings (front pages left out, as in ``evaluate``) with each backbone at
each side asked for, no training at all: pooled features, L2-normalised. It also measures the
concatenation of two cached feature sets (each part L2-normalised, then joined and normalised
again, so each part counts equally), which lets the parts keep their own sides (MobileNetV2 at
320 px, EfficientNet-Lite2 at 260 px) where the registered concatenation backbone shares one.
Metrics are those of ``python -m retrieval.ml evaluate`` (:func:`.run.relevance_report`):
same-patent mAP / R@10 and US-class mAP / R@10 with the query's own patent left out.

It also times each backbone's inference path (:func:`~retrieval.ml.encoders.backbones.
inference_backbone`, the one the app encodes with) at batch 16 on this machine: ms per drawing,
backbone only (decoding and preprocessing are the same for all), the fastest of a few batches
(on a shared machine the fastest batch is the one least slowed by other work).
Features are cached in ``--cache`` (the training cache format, so a ``train-head`` run on the
same corpus and backbone reuses whole-corpus features).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from retrieval.ml.data import Record
from retrieval.ml.encoders.backbones import backbone_preprocess, inference_backbone
from retrieval.ml.evaluation.run import (
    EvaluationRequest,
    load_records,
    relevance_report,
    write_report,
)
from retrieval.ml.training.features import image_features

DEFAULT_RUNS = (
    "mobilenetv2-imagenet@224",
    "mobilenetv2-imagenet@320",
    "efficientnet-lite2-imagenet@260",
    "efficientnet-lite2-imagenet@320",
    "mobilenetv2+efficientnet-lite2@320",
)
DEFAULT_JOINS = ("mobilenetv2-imagenet@320+efficientnet-lite2-imagenet@260",)


def frozen_features(records: Sequence[Record], run: str, cache_dir: Path | None) -> NDArray[np.float32]:
    """``(N, F)`` L2-normalised pooled features of ``run`` (``BACKBONE@SIDE``)."""
    name, _, side = run.partition("@")
    preprocess = backbone_preprocess(name, int(side) if side else None)
    features = image_features(records, name, preprocess, cache_dir=cache_dir, views=1)[0]
    return _unit(features)


def _unit(features: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    out: NDArray[np.float32] = (features / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def scores(embeddings: NDArray[np.float32], records: Sequence[Record]) -> dict[str, float]:
    """Same-patent mAP / R@10 and US-class mAP / R@10 (own patent excluded)."""
    patent = relevance_report(embeddings, records, "patent", False)
    us_class = relevance_report(embeddings, records, "us_class", True)
    return {
        "patent_mAP": round(patent["mAP"], 4), "patent_R@10": round(patent["recall@10"], 4),
        "us_class_mAP": round(us_class["mAP"], 4), "us_class_R@10": round(us_class["recall@10"], 4),
        "queries": patent["queries"],
    }


def encode_ms(run: str, batch: int = 16, repeats: int = 7) -> float:
    """Fastest ms per drawing, over ``repeats`` batches, of the backbone's inference path at ``batch``."""
    name, _, side = run.partition("@")
    size = int(side) if side else backbone_preprocess(name).image_size
    network = inference_backbone(name, size)
    pixels = torch.randn(batch, 3, size, size)
    times = []
    with torch.inference_mode():
        network(pixels)  # warm-up (oneDNN picks its kernels)
        for _ in range(repeats):
            started = time.perf_counter()
            network(pixels)
            times.append((time.perf_counter() - started) * 1000 / batch)
    return round(min(times), 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--split", choices=("train", "val", "test", "all"), default="val")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--test-fraction", type=float, default=0.3)
    parser.add_argument("--val-fraction", type=float, default=0.15)
    parser.add_argument("--runs", default=",".join(DEFAULT_RUNS), help="BACKBONE@SIDE, comma-separated")
    parser.add_argument("--joins", default=",".join(DEFAULT_JOINS), help="RUN+RUN, comma-separated")
    parser.add_argument("--cache", type=Path, default=Path("var/features"))
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.split == "test":
        print("note: choices are made on val; the test split is for the final measurement only")
    request = EvaluationRequest(
        corpus=args.corpus, model="frozen", split=args.split, split_seed=args.split_seed,
        test_fraction=args.test_fraction, val_fraction=args.val_fraction,
    )
    records, _ = load_records(request)
    rows: dict[str, dict[str, Any]] = {}
    cache: dict[str, NDArray[np.float32]] = {}
    runs = [r for r in args.runs.split(",") if r]
    joins = [j for j in args.joins.split(",") if j]
    for run in runs + [part for join in joins for part in join.split("+") if part not in runs]:
        started = time.perf_counter()
        cache[run] = frozen_features(records, run, args.cache)
        rows[run] = {**scores(cache[run], records), "dim": cache[run].shape[1],
                     "feature_seconds": round(time.perf_counter() - started, 1)}
        if not args.no_timing:
            rows[run]["ms_per_image_b16"] = encode_ms(run)
        print(run, json.dumps(rows[run]), flush=True)
    for join in joins:
        joined = _unit(np.concatenate([cache[part] for part in join.split("+")], axis=1))
        rows[join] = {**scores(joined, records), "dim": joined.shape[1]}
        print(join, json.dumps(rows[join]), flush=True)
    report = {"split": args.split, "val_fraction": args.val_fraction, "images": len(records),
              "load_average": os.getloadavg(), "rows": rows}
    if args.json:
        write_report(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
