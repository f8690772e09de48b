"""Evaluate a model on a corpus: read the records, embed every image once, rank, measure.

The protocol is the one of docs/ARCHITECTURE.md: front-page copies (``is_front_page`` = 1)
are left out of queries and gallery; every other image is a query against all the others
(see :mod:`retrieval.ml.evaluation.metrics`). Several relevance kinds share one embedding
pass, and embeddings can be kept in a cache folder so that a later run with the same model
version, corpus and split does not embed again.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

from retrieval.ml.data import RELEVANCE_KINDS, Record, label, read_corpus, select_split
from retrieval.ml.encoders.base import Encoder, batches
from retrieval.ml.evaluation.metrics import KS, query_results, retrieval_metrics
from retrieval.ml.preprocessing import load_image

CLASS_RELEVANCE = ("object", "locarno", "us_class")


@dataclass(frozen=True, slots=True)
class EvaluationRequest:
    """What to evaluate and how.

    Attributes:
        corpus: corpus folder (``metadata.csv`` + images).
        model: model spec: checkpoint folder, shipped name, ``ARCH`` or ``ARCH/TAG``.
        relevances: relevance kinds to measure (``patent``, ``object``, ``locarno``,
            ``us_class``), all from one embedding pass; the first is the report's main one.
        exclude_same_patent: for class-level relevance, remove the query's own patent from
            its gallery (has no effect on ``patent`` relevance, where it would remove every
            relevant image).
        split: ``all``, ``train`` or ``test`` side of the patent-level split.
        split_seed: seed of the split.
        test_fraction: share of patents on the test side.
        device: ``cpu`` or ``cuda``.
        batch_size: images per embedding batch.
        cache_dir: folder for cached embeddings (``None``: no cache).
        progress: show a progress bar while embedding.
    """

    corpus: Path
    model: str
    relevances: tuple[str, ...] = ("patent",)
    exclude_same_patent: bool = False
    split: str = "all"
    split_seed: int = 0
    test_fraction: float = 0.3
    val_fraction: float = 0.0
    device: str = "cpu"
    batch_size: int = 32
    cache_dir: Path | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if not self.relevances:
            raise ValueError("give at least one relevance kind")
        for kind in self.relevances:
            if kind not in RELEVANCE_KINDS:
                raise ValueError(
                    f"unknown relevance {kind!r}: choose from {', '.join(RELEVANCE_KINDS)}"
                )


def evaluate(request: EvaluationRequest) -> dict[str, Any]:
    """Run one evaluation and return its report.

    Returns:
        JSON-ready dict: the metrics of the first relevance kind at the top level (``mAP``,
        ``recall@K``, ``recall_fraction@K``, ``mrr@K``, ``queries``, ``skipped``, ``bands``,
        ...), ``by_relevance`` with the same block for every kind requested, and ``model``,
        ``corpus``, ``split``, ``images``, ``front_pages_left_out``, ``embedding`` (seconds,
        cached or not).

    Raises:
        ModelLoadError: the model cannot be loaded; ValueError: a bad corpus or option;
        FileNotFoundError: no ``metadata.csv``.
    """
    from retrieval.ml.encoders.factory import load_encoder

    records, front_pages = load_records(request)
    if len(records) < 2:
        raise ValueError(
            f"{request.corpus} ({request.split} split) has fewer than 2 images to evaluate"
        )
    encoder = load_encoder(request.model, device=request.device, batch_size=request.batch_size)
    started = time.perf_counter()
    embeddings, cached = embed_records(
        encoder, records, cache_dir=request.cache_dir, progress=request.progress
    )
    embedding = {"seconds": round(time.perf_counter() - started, 3), "cached": cached}
    by_relevance = {
        kind: relevance_report(embeddings, records, kind, request.exclude_same_patent)
        for kind in request.relevances
    }
    header = {
        "model": {
            "spec": str(request.model),
            "name": encoder.name,
            "version": encoder.version,
            "dim": encoder.dim,
        },
        "corpus": str(Path(request.corpus).resolve()),
        "split": {
            "name": request.split,
            "seed": request.split_seed,
            "test_fraction": request.test_fraction,
            "val_fraction": request.val_fraction,
        },
        "images": len(records),
        "front_pages_left_out": front_pages,
        "embedding": embedding,
    }
    return {**header, **by_relevance[request.relevances[0]], "by_relevance": by_relevance}


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write an evaluation report as indented JSON (the ``--json FILE`` of the evaluation
    commands), making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def load_records(request: EvaluationRequest) -> tuple[list[Record], int]:
    """The records of the requested split without front-page copies, and how many copies
    were left out."""
    records = select_split(
        read_corpus(request.corpus, descriptions=False),
        request.split,
        test_fraction=request.test_fraction,
        seed=request.split_seed,
        val_fraction=request.val_fraction,
    )
    kept = [r for r in records if not r.is_front_page]
    return kept, len(records) - len(kept)


def relevance_report(
    embeddings: NDArray[np.float32],
    records: Sequence[Record],
    relevance: str,
    exclude_same_patent: bool,
) -> dict[str, Any]:
    """Metrics of one relevance kind (see :func:`.metrics.retrieval_metrics`).

    Frequency bands use the relevance label itself for class-level kinds and the query's US
    main class (``us_class_main``) for ``patent`` relevance.

    Returns:
        ``relevance``, ``exclude_same_patent`` (whether it was applied), ``band_label``, the
        metric keys, ``skipped`` counts, ``bands`` and ``seconds``.
    """
    started = time.perf_counter()
    exclude = exclude_same_patent and relevance in CLASS_RELEVANCE
    results = query_results(
        embeddings,
        [label(r, relevance) for r in records],
        groups=[r.patent_id for r in records],
        exclude_same_group=exclude,
        ks=KS,
    )
    band_kind = relevance if relevance in CLASS_RELEVANCE else "us_class"
    metrics = retrieval_metrics(results, [label(r, band_kind) for r in records])
    return {
        "relevance": relevance,
        "exclude_same_patent": exclude,
        "band_label": band_kind,
        **metrics,
        "seconds": round(time.perf_counter() - started, 3),
    }


def embed_records(
    encoder: Encoder,
    records: Sequence[Record],
    *,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> tuple[NDArray[np.float32], bool]:
    """Embed the images of ``records`` in batches, or read them from the cache.

    Args:
        encoder: the model (its ``batch_size`` attribute, when present, sets the batch).
        records: the images, in the order of the returned rows.
        cache_dir: cache folder; the file name holds a digest of the model version and of
            every image's path, size and modification time.
        progress: show a tqdm progress bar (on stderr).

    Returns:
        ``(N, D)`` float32 unit rows, and whether they came from the cache.

    Raises:
        ValueError: an image cannot be read (the message names it).
    """
    path = None if cache_dir is None else cache_path(Path(cache_dir), encoder, records)
    if path is not None and path.is_file():
        cached = np.load(path, allow_pickle=False)
        if cached.shape == (len(records), encoder.dim):
            return cached.astype(np.float32, copy=False), True
    batch = int(getattr(encoder, "batch_size", 32))
    chunks = []
    with tqdm(total=len(records), unit="img", desc="embedding", disable=not progress) as bar:
        for part in batches(records, batch):
            chunks.append(encoder.embed_images([load_image(r.image_path) for r in part]))
            bar.update(len(part))
    embeddings = np.concatenate(chunks).astype(np.float32, copy=False)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, embeddings)
    return embeddings, False


def cache_path(cache_dir: Path, encoder: Encoder, records: Sequence[Record]) -> Path:
    """The cache file of one (model version, set of images) pair."""
    digest = hashlib.sha256(encoder.version.encode())
    for record in records:
        stat = record.image_path.stat()
        entry = [str(record.image_path.resolve()), stat.st_size, stat.st_mtime_ns]
        digest.update(json.dumps(entry).encode())
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", encoder.version)[:60]
    return cache_dir / f"{name}-{digest.hexdigest()[:20]}.npy"
