"""Search latency and HNSW recall against exact search on random unit vectors."""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import fresh_database, report
from retrieval import index
from retrieval.index import FigureFilters
from retrieval.ml.exact_search import exact_top_k
from retrieval.models import Corpus, Figure, Patent, RetrievalModel

DIM = 256


def run(*, vectors: int, queries: int) -> None:
    fresh_database()
    print(f"Search benchmarks ({vectors:,} figures, dim {DIM}, {queries} queries, k=20)")
    model, ids, gallery = _populate(vectors)
    rng = np.random.default_rng(1)
    probes = gallery[rng.choice(len(gallery), queries, replace=False)] + 0.3 * _unit(rng, queries)
    probes = probes / np.linalg.norm(probes, axis=1, keepdims=True)
    exact, _ = exact_top_k(probes, gallery, 10)
    latencies, recalls = [], []
    for probe, truth in zip(probes, exact, strict=True):
        started = time.perf_counter()
        hits = index.nearest_figures(model=model, query=probe, k=20)
        latencies.append(time.perf_counter() - started)
        recalls.append(len({h.figure_id for h in hits[:10]} & set(ids[truth])) / 10)
    report("HNSW search latency p50", 1000 * np.percentile(latencies, 50), "ms")
    report("HNSW search latency p95", 1000 * np.percentile(latencies, 95), "ms")
    report("HNSW recall@10 vs exact search", float(np.mean(recalls)), "")
    filtered = FigureFilters(us_class_main=["D99"])
    latencies = []
    for probe in probes[:50]:
        started = time.perf_counter()
        hits = index.nearest_figures(model=model, query=probe, k=20, filters=filtered)
        latencies.append(time.perf_counter() - started)
    report("filtered search (2% of figures match) p50", 1000 * np.percentile(latencies, 50), "ms")
    report("  hits returned (k=20)", float(len(hits)), "")


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _populate(n: int) -> tuple[RetrievalModel, np.ndarray, np.ndarray]:
    corpus = Corpus.objects.create(name="bench")
    patents = Patent.objects.bulk_create(
        Patent(patent_id=f"B{i}", corpus=corpus, us_class_main="D99" if i % 50 == 0 else "D14")
        for i in range(n // 5)
    )
    figures = Figure.objects.bulk_create(
        Figure(patent=patents[i // 5], corpus=corpus, source_file=f"{i}.png", image=f"x/{i}.png",
               sha256=f"{i:064x}", width=1, height=1)
        for i in range(n)
    )
    model = RetrievalModel.objects.create(name="bench", architecture="none", dim=DIM, checkpoint="none", version="none")
    gallery = _unit(np.random.default_rng(0), n)
    ids = np.array([f.pk for f in figures])
    started = time.perf_counter()
    for start in range(0, n, 2000):
        index.upsert_embeddings(model, ids[start : start + 2000].tolist(), gallery[start : start + 2000])
    report("insert vectors", n / (time.perf_counter() - started), "vectors/s")
    started = time.perf_counter()
    index.ensure_model_index(model)
    report("build HNSW index (m=16, ef_construction=64)", time.perf_counter() - started, "s")
    return model, ids, gallery
