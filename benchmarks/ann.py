"""Approximate search against exact search on the catalogue's structured vectors."""

from __future__ import annotations

import time

import numpy as np
from django.conf import settings

from benchmarks.catalogue import RARE_CLASSES, Catalogue
from benchmarks.common import percentiles_ms, report
from benchmarks.vectors import around, noise_scale
from retrieval import index
from retrieval.index import FigureFilters
from retrieval.ml.exact_search import exact_top_k

K = 10
EF_CURVE = (40, 64, 100, 200, 400)


def run(cat: Catalogue, *, queries: int, results: dict[str, object]) -> None:
    shipped_ef = settings.RETRIEVAL_HNSW_EF_SEARCH
    print(f"Approximate vs exact search ({len(cat.ids):,} vectors, {queries} queries drawn around "
          f"real vectors, k={K}; shipped ef_search {shipped_ef})", flush=True)
    probes = around(cat.real, queries, noise_scale(cat.real), seed=7)
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
        report(f"filtered search, {share:.2f} % pass ({matches:,}): hits/min(k, matches) worst",
               min(ratios), "")
        report(f"  recall@10 vs exact filtered search (mean), p95 {percentiles_ms(latencies)['p95']} ms",
               float(np.mean(recalls)), "")
        rows[f"{share:.2f}%"] = {"matches": matches, "hits_ratio_min": min(ratios),
                                 "recall_at_10": round(float(np.mean(recalls)), 4), **percentiles_ms(latencies)}
        worst_ratio = min(worst_ratio, min(ratios))
        worst_recall = min(worst_recall, float(np.mean(recalls)))
    return {"filtered_hits_min_ratio": worst_ratio, "filtered_recall_min": round(worst_recall, 4),
            "filtered": rows}
