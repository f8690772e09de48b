"""Reads of the evaluation dashboard: one row per finished evaluate job and relevance kind."""

from __future__ import annotations

from typing import Any

from console.models import Job
from retrieval.inference import RECALL_LEVELS

KS = (1, 5, 10, 20)
METRIC_KEYS = ["mAP", *[f"recall@{k}" for k in KS], *[f"recall_fraction@{k}" for k in KS], *[f"mrr@{k}" for k in KS]]
BANDS = ("head", "middle", "tail")
PR_KEYS = [f"precision@recall{level:.1f}" for level in RECALL_LEVELS]
CSV_HEADER = ["job", "date", "corpus", "model", "model_version", "relevance", "exclude_same_patent",
              *METRIC_KEYS, "queries", "skipped", *[f"{band}_mAP" for band in BANDS], *PR_KEYS]


def evaluation_rows(*, corpus_id: int | None = None) -> list[dict[str, Any]]:
    jobs = Job.objects.filter(kind=Job.Kind.EVALUATE, state=Job.State.SUCCEEDED).select_related("corpus", "model")
    if corpus_id is not None:
        jobs = jobs.filter(corpus_id=corpus_id)
    rows = []
    for job in jobs.order_by("corpus__name", "-finished_at", "-id"):
        for relevance, report in (job.result or {}).items():
            rows.append({
                "job": job.pk, "date": job.finished_at, "corpus": report.get("corpus", ""),
                "model": report.get("model", {}).get("name", ""),
                "model_version": report.get("model", {}).get("version", ""),
                "relevance": relevance,
                "exclude_same_patent": report.get("options", {}).get("exclude_same_patent", False),
                "metrics": {key: report.get(key) for key in METRIC_KEYS},
                "queries": report.get("queries"), "skipped": report.get("skipped"),
                "bands": {band: (report.get("bands") or {}).get(band, {}) for band in BANDS},
                "pr_curve": report.get("pr_curve") or {},
            })
    return rows


def evaluation_csv_rows(rows: list[dict[str, Any]]) -> list[list[object]]:
    return [
        [r["job"], r["date"].isoformat() if r["date"] else "", r["corpus"], r["model"], r["model_version"],
         r["relevance"], r["exclude_same_patent"], *[r["metrics"][k] for k in METRIC_KEYS], r["queries"],
         r["skipped"], *[r["bands"][band].get("mAP", "") for band in BANDS],
         *(r["pr_curve"].get("precision") or [""] * len(PR_KEYS))]
        for r in rows
    ]


def latest_evaluations() -> list[Job]:
    """The newest finished evaluate job of each corpus and model (for the maps)."""
    seen, latest = set(), []
    jobs = (Job.objects.filter(kind=Job.Kind.EVALUATE, state=Job.State.SUCCEEDED)
            .exclude(corpus=None).exclude(model=None).select_related("corpus", "model")
            .order_by("-finished_at", "-id"))
    for job in jobs:
        if (job.corpus_id, job.model_id) not in seen:
            seen.add((job.corpus_id, job.model_id))
            latest.append(job)
    return sorted(latest, key=lambda j: (j.corpus.name, j.model.name))
