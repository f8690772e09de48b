"""Approximate search against exact search on the catalogue's structured vectors."""

from __future__ import annotations

import time

import numpy as np
from django.conf import settings
from django.db import connection
from pgvector import HalfVector

from benchmarks.catalogue import RARE_CLASSES, Catalogue
from benchmarks.common import percentiles_ms, report
from benchmarks.vectors import Noise, around
from retrieval import index
from retrieval.index import FigureFilters
from retrieval.ml.exact_search import exact_top_k

K = 10
EF_CURVE = (40, 64, 100, 150, 200, 400)


def run(cat: Catalogue, *, queries: int, results: dict[str, object]) -> None:
    shipped_ef = settings.RETRIEVAL_HNSW_EF_SEARCH
    print(f"Approximate vs exact search ({len(cat.ids):,} vectors, {queries} queries drawn around "
          f"real vectors, k={K}; shipped ef_search {shipped_ef})", flush=True)
    probes = around(cat.real, queries, Noise.local(cat.real), seed=7)
    exact, _ = exact_top_k(probes, cat.vectors, K)
    truth = [set(cat.ids[row].tolist()) for row in exact]
    curve = []
    for ef in sorted({*EF_CURVE, shipped_ef}):
        recall, latencies = _measure(cat, probes, truth, ef=ef)
        curve.append({"ef_search": ef, "recall_at_10": round(recall, 4), **percentiles_ms(latencies)})
        report(f"ef_search {ef:>4}: recall@10 {recall:.4f}, p95", percentiles_ms(latencies)["p95"], "ms")
        if ef == shipped_ef:
            results.update({"ann_recall_at_10": round(recall, 4),
                            "ann_p50_ms": percentiles_ms(latencies)["p50"],
                            "ann_p95_ms": percentiles_ms(latencies)["p95"]})
    results["ann_ef_curve"] = curve
    results.update(_filtered(cat, probes[: min(queries, 100)]))


def _measure(cat: Catalogue, probes: np.ndarray, truth: list[set[int]], *, ef: int) -> tuple[float, list[float]]:
    recalls, latencies = [], []
    for probe, expected in zip(probes, truth, strict=True):
        started = time.perf_counter()
        hits = index.nearest_figures(model=cat.model, query=probe, k=K, ef_search=ef)
        latencies.append(time.perf_counter() - started)
        recalls.append(len({h.figure_id for h in hits} & expected) / K)
    return float(np.mean(recalls)), latencies


def _filtered(cat: Catalogue, probes: np.ndarray) -> dict[str, object]:
    worst_ratio, worst_recall, rows = 1.0, 1.0, {}
    for name in RARE_CLASSES:
        mask = cat.classes == name
        matches = int(mask.sum())
        if matches == 0:
            continue
        exact, _ = exact_top_k(probes, cat.vectors[mask], min(K, matches))
        ids = cat.ids[mask]
        ratios, recalls, latencies = [], [], []
        for probe, row in zip(probes, exact, strict=True):
            started = time.perf_counter()
            hits = index.nearest_figures(model=cat.model, query=probe, k=K, filters=FigureFilters(us_class_main=[name]))
            latencies.append(time.perf_counter() - started)
            want = min(K, matches)
            ratios.append(len(hits) / want)
            recalls.append(len({h.figure_id for h in hits} & set(ids[row].tolist())) / want)
        share = 100 * matches / len(cat.ids)
        path = "exact scan" if matches <= settings.RETRIEVAL_EXACT_SEARCH_MAX_ROWS else "HNSW, iterative scan"
        report(f"filtered search, {share:.2f} % pass ({matches:,}; {path}): hits/min(k, matches) worst",
               min(ratios), "")
        report(f"  recall@10 vs exact filtered search (mean), p95 {percentiles_ms(latencies)['p95']} ms",
               float(np.mean(recalls)), "")
        rows[f"{share:.2f}%"] = {"matches": matches, "path": path, "hits_ratio_min": min(ratios),
                                 "recall_at_10": round(float(np.mean(recalls)), 4), **percentiles_ms(latencies)}
        worst_ratio = min(worst_ratio, min(ratios))
        worst_recall = min(worst_recall, float(np.mean(recalls)))
    return {"filtered_hits_min_ratio": worst_ratio, "filtered_recall_min": round(worst_recall, 4),
            "filtered": rows}


def compare_storage(cat: Catalogue, *, queries: int, results: dict[str, object]) -> None:
    """``vector`` (float32) against ``halfvec`` (float16) storage of the same catalogue: two side
    tables of the catalogue's float32 vectors, each with the shipped HNSW parameters; recall at
    the shipped ef_search against exact float32 search, size, build time, latency."""
    shipped_ef = settings.RETRIEVAL_HNSW_EF_SEARCH
    m, efc = settings.RETRIEVAL_HNSW_M, settings.RETRIEVAL_HNSW_EF_CONSTRUCTION
    print(f"Storage: vector vs halfvec ({len(cat.ids):,} vectors, m={m}, ef_construction={efc}, "
          f"ef_search {shipped_ef})", flush=True)
    probes = around(cat.real, queries, Noise.local(cat.real), seed=11)
    exact, _ = exact_top_k(probes, cat.vectors, K)
    truth = [set(row.tolist()) for row in exact]
    dim = cat.vectors.shape[1]
    rows = {}
    connection.ensure_connection()
    raw = index._vector_aware(connection.connection)
    for storage in ("vector", "halfvec"):
        table = f"bench_storage_{storage}"
        with raw.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TABLE {table} (id bigint, v {storage}({dim}))")
            with cursor.copy(f"COPY {table} (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int8", storage])
                for row, vector in enumerate(cat.vectors):
                    copy.write_row((row, HalfVector(vector) if storage == "halfvec" else vector))
            cursor.execute(f"SET maintenance_work_mem = '{settings.RETRIEVAL_HNSW_BUILD_MEMORY}'")
            cursor.execute(f"SET max_parallel_maintenance_workers = {int(settings.RETRIEVAL_HNSW_BUILD_WORKERS)}")
            started = time.perf_counter()
            cursor.execute(f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (v {storage}_ip_ops) "
                           f"WITH (m = {int(m)}, ef_construction = {int(efc)})")
            build_s = time.perf_counter() - started
            cursor.execute(f"SELECT pg_relation_size('{table}'), pg_relation_size('{table}_hnsw')")
            heap, hnsw = cursor.fetchone()
            cursor.execute(f"SET hnsw.ef_search = {int(shipped_ef)}")
            recalls, latencies = [], []
            for probe, expected in zip(probes, truth, strict=True):
                started = time.perf_counter()
                cursor.execute(f"SELECT id FROM {table} ORDER BY v <#> %s::{storage}({dim}) LIMIT {K}",
                               [index._literal(probe)])
                found = {r[0] for r in cursor.fetchall()}
                latencies.append(time.perf_counter() - started)
                recalls.append(len(found & expected) / K)
            cursor.execute(f"DROP TABLE {table}")
            cursor.execute("RESET hnsw.ef_search; RESET maintenance_work_mem; RESET max_parallel_maintenance_workers")
        raw.commit()
        rows[storage] = {"recall_at_10": round(float(np.mean(recalls)), 4), "build_s": round(build_s, 2),
                         "table_mb": round(heap / 1024**2, 1), "hnsw_index_mb": round(hnsw / 1024**2, 1),
                         **percentiles_ms(latencies)}
        report(f"{storage:>7}: recall@10 {rows[storage]['recall_at_10']:.4f}, build {build_s:.1f} s, "
               f"index MB", rows[storage]["hnsw_index_mb"], "")
    results["storage_compare"] = rows
