"""Probes of issue 8's open targets: cheap variants measured over cached vectors, no app needed.

``python -m retrieval.ml.evaluation.probes drawing --corpus DEV_CORPUS`` asks whether a
training-free change gets more same-design signal out of the frozen backbone or the shipped head:
the pooling of the last feature map (average, GeM p = 3, max), adding the mirrored drawing's
vector (left and right views of a design are often mirror images), and standardising or
PCA-whitening the features with statistics of the training patents. Same-patent mAP over the
full ranking, each split's drawings against that split (the protocol of ``python -m
retrieval.ml evaluate --relevance patent``).

``python -m retrieval.ml.evaluation.probes classes --corpus DEV_CORPUS`` asks the same of
class-level search with the title (``evaluate_search --relevance us_class|locarno
--exclude-same-patent --patent-level --query-text title``, replicated over vectors: each drawing
plus its patent's title is a query, the other patents are ranked by their best figure): the
shipped joint channel (as fused, before the search service's class focus re-ranks it, which
lives in the app and is measured through ``evaluate_search``) against the references (random,
titles against titles, the sentence channel) and three changes to it: a names term (the title's cosine to each candidate's names),
pseudo-relevance feedback (the query moved towards the best three patents' figures) and a
patent-mean term (the cosine to the mean of a patent's sentence vectors). Besides the splits of
the dev protocol it measures galleries of the multi-view patents only (those with two or more
drawings): every one has a Locarno class, as on the unseen set, whereas the dev protocol's
2007 patents have none and count as misses in every Locarno ranking.

The figures' sentence vectors come from :mod:`retrieval.ml.sentence_composition` (the app's
composition) and the locked sentence model; drawing vectors from the shipped model through
:func:`~retrieval.ml.encoders.factory.load_encoder`. All are cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image, ImageOps

from retrieval.ml.data import Record, patent_side, read_corpus
from retrieval.ml.encoders.backbones import MobileNetV2, backbone_preprocess, load_backbone
from retrieval.ml.encoders.base import batches
from retrieval.ml.encoders.factory import load_encoder
from retrieval.ml.evaluation.metrics import query_results, ranked_query_results, summarise
from retrieval.ml.evaluation.run import write_report
from retrieval.ml.preprocessing import load_image, preprocess_batch
from retrieval.ml.sentence_composition import (
    DESCRIPTION,
    GENERATED_CAPTION,
    figure_texts,
    sentence_vector,
)
from retrieval.ml.training.features import images_key, text_embeddings

Vectors = NDArray[np.float32]
POOLS = ("avg", "gem3", "max")
#: The joint channel's drawing share α and the sentence vector's names share, as shipped
#: (RETRIEVAL_JOINT_DRAWING_WEIGHT, RETRIEVAL_SENTENCE_NAMES_SHARE).
JOINT_ALPHA, NAMES_SHARE = 0.3, 0.2
#: Patents per ranked list, as ``evaluate_search --k 100``.
DEPTH = 100


def drawing_records(corpus: Path) -> list[Record]:
    """The corpus's drawings without the front-page copies (as ``evaluate`` and ``evaluate_search``)."""
    return [r for r in read_corpus(corpus) if not r.is_front_page]


def sides(records: Sequence[Record], *, val_fraction: float) -> NDArray[np.str_]:
    """Each record's side of the fixed patent split (train / val / test)."""
    return np.asarray([patent_side(r.patent_id, val_fraction=val_fraction) for r in records])


# --- the drawing probe -------------------------------------------------------------------------


def pooled_features(
    records: Sequence[Record], *, image_size: int, mirrored: bool, cache: Path | None
) -> dict[str, Vectors]:
    """``{pool: (N, 1280)}``: MobileNetV2's last feature map (ImageNet weights of the shipped
    backbone) pooled each way, of each drawing or of its mirror image."""
    path = _cache_file(cache, "pools", image_size, mirrored, records)
    if path is not None and path.is_file():
        with np.load(path) as stored:
            return {pool: stored[pool] for pool in POOLS}
    network = load_backbone("mobilenetv2-imagenet")
    if not isinstance(network, MobileNetV2):
        raise TypeError("the drawing probe reads MobileNetV2's feature map")
    preprocess = backbone_preprocess("mobilenetv2-imagenet", image_size)
    parts: dict[str, list[Vectors]] = {pool: [] for pool in POOLS}
    for chunk in batches(list(records), 16):
        with torch.inference_mode():
            maps = network.features(preprocess_batch(_images(chunk, mirrored), preprocess))
            parts["avg"].append(maps.mean(dim=(2, 3)).numpy())
            parts["gem3"].append(maps.clamp(min=1e-6).pow(3).mean(dim=(2, 3)).pow(1 / 3).numpy())
            parts["max"].append(maps.amax(dim=(2, 3)).numpy())
    features = {pool: np.concatenate(rows).astype(np.float32) for pool, rows in parts.items()}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **features)  # type: ignore[arg-type]  # numpy's stub wants positional arrays
    return features


def model_vectors(records: Sequence[Record], model: str, *, mirrored: bool, cache: Path | None) -> Vectors:
    """``(N, D)`` unit vectors of the drawings (or their mirror images) by a model."""
    encoder = load_encoder(model)
    path = _cache_file(cache, f"model-{encoder.version}", 0, mirrored, records)
    if path is not None and path.is_file():
        stored: Vectors = np.load(path)
        return stored
    rows = [encoder.embed_images(_images(chunk, mirrored)) for chunk in batches(list(records), 32)]
    vectors = np.concatenate(rows).astype(np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def same_patent_map(vectors: Vectors, records: Sequence[Record], rows: NDArray[np.bool_]) -> tuple[float, int]:
    """Same-patent mAP (full ranking) of ``rows`` against themselves, and the number of queries."""
    chosen = np.flatnonzero(rows)
    labels = [records[int(i)].patent_id for i in chosen]
    results = query_results(unit(vectors[chosen]), labels)
    return summarise(results)["mAP"], int(results.query_index.size)


def drawing_probe(records: Sequence[Record], side: NDArray[np.str_], *, model: str, image_size: int,
                  cache: Path | None) -> dict[str, dict[str, Any]]:
    """Same-patent mAP on val and test of each variant (statistics fitted on the train side)."""
    train = side == "train"
    variants: dict[str, Vectors] = {}
    plain = pooled_features(records, image_size=image_size, mirrored=False, cache=cache)
    mirror = pooled_features(records, image_size=image_size, mirrored=True, cache=cache)
    for pool in POOLS:
        a, b = plain[pool], mirror[pool]
        for name, fit in (("", None), (" standardised", standardiser(a[train])),
                          (" PCA-whitened 256", whitener(a[train], 256))):
            fa, fb = (a, b) if fit is None else (fit(a), fit(b))
            variants[f"frozen {pool}{name}"] = fa
            variants[f"frozen {pool}{name} + mirrored"] = unit(fa) + unit(fb)
    rng = np.random.default_rng(0)
    variants["random vectors (reference)"] = rng.standard_normal((len(records), 384)).astype(np.float32)
    variants["classical: HOG (training-free reference)"] = model_vectors(records, "classical", mirrored=False, cache=cache)
    head, head_mirrored = (model_vectors(records, model, mirrored=m, cache=cache) for m in (False, True))
    variants[f"{model}"] = head
    variants[f"{model} + mirrored"] = unit(head) + unit(head_mirrored)
    report: dict[str, dict[str, Any]] = {}
    for name, vectors in variants.items():
        report[name] = {}
        for split in ("val", "test"):
            value, queries = same_patent_map(vectors, records, side == split)
            report[name][split] = {"mAP": round(value, 4), "queries": queries}
    return report


def standardiser(fit: Vectors) -> Callable[[Vectors], Vectors]:
    """Per-dimension standardisation with the statistics of ``fit``."""
    mean, std = fit.mean(axis=0), fit.std(axis=0) + 1e-6
    return lambda x: ((x - mean) / std).astype(np.float32)


def whitener(fit: Vectors, dim: int) -> Callable[[Vectors], Vectors]:
    """PCA whitening to ``dim`` components with the statistics of ``fit``."""
    mean = fit.mean(axis=0)
    _, singular, basis = np.linalg.svd(fit - mean, full_matrices=False)
    scale = singular[:dim] / np.sqrt(len(fit)) + 1e-6
    return lambda x: (((x - mean) @ basis[:dim].T) / scale).astype(np.float32)


# --- the class-level probe ---------------------------------------------------------------------


def sentence_vectors(records: Sequence[Record], *, names_share: float, cache: Path | None) -> tuple[Vectors, Vectors]:
    """Each figure's sentence vector (the app's composition) and its names vector (title and
    object name), with the locked sentence model."""
    pieces = [_texts(r) for r in records]
    names = [[text for kind, text in row if kind == "name"] or [_title(r)] for r, row in zip(records, pieces, strict=True)]
    texts = sorted({text for row in pieces for _, text in row} | {text for row in names for text in row})
    table = dict(zip(texts, text_embeddings(texts, cache_dir=cache), strict=True))
    composed, named = [], []
    for row, row_names in zip(pieces, names, strict=True):
        vector = sentence_vector([kind for kind, _ in row], np.stack([table[t] for _, t in row]), names_share=names_share)
        composed.append(vector if vector is not None else np.zeros(len(next(iter(table.values()))), np.float32))
        named.append(unit(np.stack([table[t] for t in row_names]).sum(axis=0, keepdims=True))[0])
    return np.stack(composed), np.stack(named)


def title_vectors(records: Sequence[Record], cache: Path | None) -> Vectors:
    """The query text of each record (its patent's title, else object name), embedded."""
    titles = [_title(r) for r in records]
    distinct = sorted(set(titles))
    table = dict(zip(distinct, text_embeddings(distinct, cache_dir=cache), strict=True))
    return np.stack([table[t] for t in titles])


Scorer = Callable[[int, NDArray[np.int64]], NDArray[np.float32]]


def class_probe(records: Sequence[Record], side: NDArray[np.str_], *, model: str, cache: Path | None,
                galleries: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Patent-level class mAP of drawing + title queries for each method and gallery."""
    sentence, names = sentence_vectors(records, names_share=NAMES_SHARE, cache=cache)
    titles = title_vectors(records, cache)
    drawings = model_vectors(records, model, mirrored=False, cache=cache)
    patent = np.asarray([r.patent_id for r in records])

    def joint(i: int) -> Vectors:
        return f32(unit((titles[i] + JOINT_ALPHA * drawings[i])[None, :])[0])

    def shipped(i: int, g: NDArray[np.int64]) -> NDArray[np.float32]:
        return f32(sentence[g] @ joint(i))

    def with_names(i: int, g: NDArray[np.int64]) -> NDArray[np.float32]:
        return f32(sentence[g] @ joint(i) + 0.5 * (names[g] @ titles[i]))

    def feedback(base: Scorer) -> Scorer:
        def scorer(i: int, g: NDArray[np.int64]) -> NDArray[np.float32]:
            first, query = base(i, g), joint(i)
            best = _best_rows(first, patent[g], own=patent[i], m=3)
            moved = unit((query + 0.5 * sentence[g][best].mean(axis=0))[None, :])[0]
            return f32(first + sentence[g] @ (moved - query))  # the sentence part asked with the moved query
        return scorer

    def patent_mean(i: int, g: NDArray[np.int64]) -> NDArray[np.float32]:
        scores = f32(sentence[g] @ joint(i))
        for p in np.unique(patent[g]):
            rows = patent[g] == p
            scores[rows] += float(unit(sentence[g][rows].mean(axis=0, keepdims=True))[0] @ joint(i))
        return scores

    methods: dict[str, Scorer] = {
        "random ranking (reference)": lambda i, g: np.asarray(
            random.Random(f"0:{records[i].image_file}").sample(range(len(g)), len(g)), np.float32),
        "titles against titles, once per patent (reference)": lambda i, g: f32(titles[g] @ titles[i]),
        "titles against titles, per figure (reference)": lambda i, g: f32(titles[g] @ titles[i]),
        "title against the sentence vectors (reference)": lambda i, g: f32(sentence[g] @ titles[i]),
        "drawing + title, joint channel (shipped, before the class focus)": shipped,
        "joint + 0.5 x names cosine": with_names,
        "joint + feedback from the best 3 patents (0.5)": feedback(shipped),
        "joint + names + feedback": feedback(with_names),
        "joint + patent-mean sentence cosine": patent_mean,
    }
    report: dict[str, dict[str, Any]] = {}
    for gallery in galleries:
        rows = gallery_rows(records, side, gallery)
        report[gallery] = {"patents": len(set(patent[rows])), "figures": int(rows.size)}
        for relevance in ("us_class", "locarno"):
            labels = [_class(r, relevance) for r in records]
            for name, scorer in methods.items():
                value, queries = patent_level_map(scorer, rows, labels, patent, once_per_patent="once" in name)
                report[gallery].setdefault(name, {})[relevance] = {"mAP": round(value, 4), "queries": queries}
    return report


def gallery_rows(records: Sequence[Record], side: NDArray[np.str_], gallery: str) -> NDArray[np.int64]:
    """The rows of a gallery: ``SIDE[+SIDE…]``, optionally ``…:multiview`` (patents with two or
    more drawings only)."""
    spec, _, only = gallery.partition(":")
    rows = np.flatnonzero(np.isin(side, spec.split("+")))
    if only == "multiview":
        count = Counter(records[int(i)].patent_id for i in rows)
        rows = np.asarray([i for i in rows if count[records[int(i)].patent_id] >= 2], dtype=np.int64)
    elif only:
        raise ValueError(f"unknown gallery option {only!r} (known: multiview)")
    return rows


def patent_level_map(scorer: Scorer, rows: NDArray[np.int64], labels: Sequence[str],
                     patent: NDArray[np.str_], *, once_per_patent: bool = False) -> tuple[float, int]:
    """Mean AP over the labelled queries in ``rows``: other patents ranked by their best figure,
    a patent relevant when it has the query's label (unlabelled patents count as misses).
    ``once_per_patent``: only each patent's first row asks (a text-only query)."""
    label_of = {patent[i]: labels[i] for i in rows}
    per_label = Counter(v for v in label_of.values() if v)
    relevant, totals, queries = [], [], []
    asked: set[str] = set()
    for i in rows:
        label = labels[i]
        if not label or per_label[label] < 2 or (once_per_patent and patent[i] in asked):
            continue
        asked.add(patent[i])
        scores = scorer(int(i), rows)
        best: dict[str, float] = {}
        for p, s in zip(patent[rows], scores, strict=True):
            if p != patent[i] and s > best.get(p, -np.inf):
                best[p] = float(s)
        ranked = sorted(best, key=lambda p: -best[p])[:DEPTH]
        relevant.append([label_of[p] == label for p in ranked])
        totals.append(per_label[label] - 1)
        queries.append(int(i))
    if not queries:
        return float("nan"), 0
    return summarise(ranked_query_results(relevant, totals, queries))["mAP"], len(queries)


# --- helpers -----------------------------------------------------------------------------------


def unit(x: Vectors) -> Vectors:
    out: Vectors = (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    return out


def f32(x: Any) -> NDArray[np.float32]:
    """``x`` as a float32 array (scores)."""
    out: NDArray[np.float32] = np.asarray(x, dtype=np.float32)
    return out


def _best_rows(scores: NDArray[np.float32], patents: NDArray[np.str_], *, own: str, m: int) -> list[int]:
    chosen: list[int] = []
    seen = {own}
    for row in np.argsort(-scores):
        if patents[row] not in seen:
            seen.add(patents[row])
            chosen.append(int(row))
            if len(chosen) == m:
                break
    return chosen


def _texts(record: Record) -> list[tuple[str, str]]:
    extra = [(DESCRIPTION, d) for d in record.descriptions]
    if record.generated_caption:
        extra.append((GENERATED_CAPTION, record.generated_caption))
    return figure_texts(title=record.title, object_name=record.object_name, viewpoint=record.viewpoint,
                        caption=record.caption, texts=extra)


def _title(record: Record) -> str:
    return record.title.strip() or record.object_name.strip()


def _class(record: Record, relevance: str) -> str:
    return record.us_class_main.upper() if relevance == "us_class" else record.locarno_class


def _images(records: Sequence[Record], mirrored: bool) -> list[Image.Image]:
    images = [load_image(r.image_path) for r in records]
    return [ImageOps.mirror(img.convert("L")) for img in images] if mirrored else images


def _cache_file(cache: Path | None, kind: str, size: int, mirrored: bool, records: Sequence[Record]) -> Path | None:
    if cache is None:
        return None
    key = images_key(records, kind, str(size), str(mirrored))
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in kind)[:60]
    return cache / f"probe-{safe}-{key}.{'npz' if kind == 'pools' else 'npy'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=("drawing", "classes"))
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--model", default="default", help="the head whose drawing vectors are probed")
    parser.add_argument("--image-size", type=int, default=320)
    parser.add_argument("--val-fraction", type=float, default=0.15)
    parser.add_argument("--galleries", default="val,train+val:multiview,test,test:multiview",
                        help="classes probe: SIDE[+SIDE][:multiview], comma-separated")
    parser.add_argument("--cache", type=Path, default=Path("var/features"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    records = drawing_records(args.corpus)
    side = sides(records, val_fraction=args.val_fraction)
    if args.probe == "drawing":
        report = drawing_probe(records, side, model=args.model, image_size=args.image_size, cache=args.cache)
    else:
        report = class_probe(records, side, model=args.model, cache=args.cache,
                             galleries=[g for g in args.galleries.split(",") if g])
    print(json.dumps(report, indent=1))
    if args.json:
        write_report(args.json, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
