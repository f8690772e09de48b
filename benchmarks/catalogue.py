"""A catalogue of N figures with structured vectors: rows, vector loading, index build, sizes."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction
from numpy.typing import NDArray

from benchmarks.common import report
from benchmarks.vectors import extend
from retrieval import index
from retrieval.models import Corpus, Figure, FigureEmbedding, Patent, RetrievalModel

FIGURES_PER_PATENT = 5
# Filter classes given to a fixed share of the synthetic patents (selectivity of a filtered search).
RARE_CLASSES = {"D01": 100, "D02": 1000}  # every 100th patent: 1 %, every 1000th: 0.1 %


@dataclass
class Catalogue:
    model: RetrievalModel
    ids: NDArray[np.int64]
    vectors: NDArray[np.float32]
    classes: NDArray[np.str_]
    real: NDArray[np.float32]


def real_vectors(model: RetrievalModel) -> NDArray[np.float32]:
    """Every vector the model has made of the ingested drawings."""
    ids = list(FigureEmbedding.objects.filter(model=model).values_list("figure_id", flat=True))
    stored = index.embeddings_for(model, ids)
    return np.stack([stored[i] for i in ids]).astype(np.float32)


def build(model: RetrievalModel, n: int, results: dict[str, object]) -> Catalogue:
    """Add synthetic figures until the model's catalogue has n vectors; measure the loading."""
    real = real_vectors(model)
    print(f"Catalogue of {n:,} figures ({len(real):,} real vectors of the model, dim {model.dim}, "
          "the rest drawn around them: benchmarks/vectors.py)", flush=True)
    existing = FigureEmbedding.objects.filter(model=model).count()
    extra = max(n - existing, 0)
    started = time.perf_counter()
    ids, classes = _figure_rows(extra)
    report(f"create {extra:,} figure rows", extra / max(time.perf_counter() - started, 1e-9), "rows/s")
    vectors = extend(real, existing + extra, seed=1)[existing:]

    sample = min(2_000, extra)  # incremental upserts into the live index, as encoding tasks do
    started = time.perf_counter()
    for start in range(0, sample, 32):
        index.upsert_embeddings(model, ids[start : start + 32].tolist(), vectors[start : start + 32])
    live = sample / max(time.perf_counter() - started, 1e-9)
    report("upsert into the live HNSW index (batches of 32)", live, "vectors/s")

    started = time.perf_counter()
    with transaction.atomic():
        index.drop_model_index(model)
        for start in range(0, extra, 50_000):
            index.upsert_embeddings(model, ids[start : start + 50_000].tolist(), vectors[start : start + 50_000])
    load_s = time.perf_counter() - started
    report(f"bulk upsert by binary COPY, no index ({extra:,} vectors)", extra / max(load_s, 1e-9), "vectors/s")
    started = time.perf_counter()
    index.build_model_index(model)
    build_s = time.perf_counter() - started
    report("HNSW index build (m=16, ef_construction=64)", build_s, "s")
    total = FigureEmbedding.objects.filter(model=model).count()
    rate = extra / max(load_s + build_s, 1e-9)
    report("bulk load rate, index build included", rate, "vectors/s")
    sizes = _sizes(model)
    for name, value in sizes.items():
        report(name.replace("_", " "), value, "MB")
    results.update({
        "figures": total, "upsert_live_index_vectors_per_s": round(live, 1),
        "upsert_vectors_per_s": round(extra / max(load_s, 1e-9), 1),
        "bulk_load_with_index_build_vectors_per_s": round(rate, 1),
        "index_build_s": round(build_s, 2), **sizes,
    })
    all_ids = np.array(list(FigureEmbedding.objects.filter(model=model).order_by("figure_id")
                            .values_list("figure_id", flat=True)))
    stored = _all_vectors(model, all_ids)
    # Search leaves front-page copies out by default, so the exact reference must too.
    attributes = {pk: (cls, front) for pk, cls, front in Figure.objects.values_list(
        "pk", "patent__us_class_main", "is_front_page").iterator(chunk_size=50_000)}
    keep = np.array([not attributes[int(i)][1] for i in all_ids], dtype=bool)
    all_ids, stored = all_ids[keep], stored[keep]
    all_classes = np.array([attributes[int(i)][0] for i in all_ids])
    return Catalogue(model=model, ids=all_ids, vectors=stored, classes=all_classes, real=real)


def _figure_rows(n: int) -> tuple[NDArray[np.int64], NDArray[np.str_]]:  # ids, classes
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=str)
    corpus, _ = Corpus.objects.get_or_create(name="bench-catalogue")
    start = Patent.objects.filter(corpus=corpus).count()
    n_patents = -(-n // FIGURES_PER_PATENT)
    patents = []
    for chunk in range(0, n_patents, 20_000):
        patents += Patent.objects.bulk_create(
            Patent(patent_id=f"BENCH{start + i}", corpus=corpus, us_class_main=_class(start + i),
                   title=f"Benchmark article {start + i}")
            for i in range(chunk, min(chunk + 20_000, n_patents))
        )
    ids: list[int] = []
    for chunk in range(0, n, 20_000):
        figures = Figure.objects.bulk_create(
            Figure(patent=patents[i // FIGURES_PER_PATENT], corpus=corpus, source_file=f"bench/{i}.png",
                   image=f"bench/{i}.png", sha256=f"{start * FIGURES_PER_PATENT + i:064x}", width=1, height=1)
            for i in range(chunk, min(chunk + 20_000, n))
        )
        ids += [f.pk for f in figures]
    classes = np.array([_class(start + i // FIGURES_PER_PATENT) for i in range(n)])
    return np.array(ids, dtype=np.int64), classes


def _class(patent_number: int) -> str:
    for name, every in sorted(RARE_CLASSES.items(), key=lambda item: -item[1]):
        if patent_number % every == 0:
            return name
    return "D14"


def _all_vectors(model: RetrievalModel, ids: NDArray[np.int64]) -> NDArray[np.float32]:
    out = np.empty((len(ids), model.dim), dtype=np.float32)
    position = {int(i): row for row, i in enumerate(ids)}
    for start in range(0, len(ids), 50_000):
        chunk = index.embeddings_for(model, ids[start : start + 50_000].tolist())
        for figure_id, vector in chunk.items():
            out[position[figure_id]] = vector
    return out


def _sizes(model: RetrievalModel) -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_total_relation_size('{index.TABLE}'), pg_relation_size('{index.TABLE}')")
        total, heap = cursor.fetchone()
        cursor.execute("SELECT pg_relation_size(%s::regclass)", [index.index_name(model)])
        hnsw = cursor.fetchone()[0]
    return {"table_mb": round(heap / 1024**2, 1), "hnsw_index_mb": round(hnsw / 1024**2, 1),
            "table_and_indexes_mb": round(total / 1024**2, 1)}
