"""A catalogue of N figures with structured vectors: rows, vector loading, index build, sizes."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from numpy.typing import NDArray

from benchmarks.common import report
from benchmarks.vectors import extend
from retrieval import index
from retrieval.models import Corpus, Figure, FigureEmbedding, Patent, RetrievalModel

FIGURES_PER_PATENT = 5
# Filter classes given to a fixed share of the synthetic patents (selectivity of a filtered search).
# Every 1000th patent: 0.1 %; every 100th: 1 % (0.9 % after those); every 25th: 3 % after both
# (above RETRIEVAL_EXACT_SEARCH_MAX_ROWS at 1M figures, so searched through the HNSW index).
RARE_CLASSES = {"D01": 100, "D02": 1000, "D03": 25}
#: The corpus of the synthetic figures.
CORPUS = "bench-catalogue"


@dataclass
class Catalogue:
    model: RetrievalModel
    ids: NDArray[np.int64]
    vectors: NDArray[np.float32]
    classes: NDArray[np.str_]
    real: NDArray[np.float32]


def real_vectors(model: RetrievalModel) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Every vector the model has made of the ingested drawings, and their figure ids."""
    ids = list(FigureEmbedding.objects.filter(model=model).order_by("figure_id").values_list("figure_id", flat=True))
    stored = index.embeddings_for(model, ids)
    return np.array(ids, dtype=np.int64), np.stack([stored[i] for i in ids]).astype(np.float32)


def build(model: RetrievalModel, n: int, results: dict[str, object]) -> Catalogue:
    """Add synthetic figures until the model's catalogue has n vectors; measure the loading."""
    real_ids, real = real_vectors(model)
    print(f"Catalogue of {n:,} figures ({len(real):,} real vectors of the model, dim {model.dim}, "
          "the rest drawn around them: benchmarks/vectors.py)", flush=True)
    existing = len(real_ids)
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
    report(f"HNSW index build ({index.STORAGE}, m={settings.RETRIEVAL_HNSW_M}, "
           f"ef_construction={settings.RETRIEVAL_HNSW_EF_CONSTRUCTION})", build_s, "s")
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
        "index_build_s": round(build_s, 2), "index_storage": index.STORAGE, **sizes,
    })
    # The exact reference: the real vectors as stored, the synthetic ones as drawn (float32, so
    # recall counts what half-precision storage loses). Search leaves front-page copies out by
    # default, so the reference must too.
    all_ids = np.concatenate([real_ids, ids])
    all_vectors = np.concatenate([real, vectors])
    real_classes = dict(Figure.objects.filter(pk__in=real_ids.tolist()).values_list("pk", "patent__us_class_main"))
    all_classes = np.array([real_classes[int(i)] for i in real_ids] + classes.tolist())
    front = set(Figure.objects.filter(is_front_page=True).values_list("pk", flat=True))
    keep = np.array([int(i) not in front for i in all_ids], dtype=bool)
    return Catalogue(model=model, ids=all_ids[keep], vectors=all_vectors[keep], classes=all_classes[keep],
                     real=real)


def _figure_rows(n: int) -> tuple[NDArray[np.int64], NDArray[np.str_]]:  # ids, classes
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=str)
    corpus, _ = Corpus.objects.get_or_create(name=CORPUS)
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


def _sizes(model: RetrievalModel) -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_total_relation_size('{index.TABLE}'), pg_relation_size('{index.TABLE}')")
        total, heap = cursor.fetchone()
        cursor.execute("SELECT pg_relation_size(%s::regclass)", [index.index_name(model)])
        hnsw = cursor.fetchone()[0]
    return {"table_mb": round(heap / 1024**2, 1), "hnsw_index_mb": round(hnsw / 1024**2, 1),
            "table_and_indexes_mb": round(total / 1024**2, 1)}
