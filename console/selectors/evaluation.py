"""Reads of the evaluation dashboard: one row per finished evaluate job and relevance kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cases.grades import RELEVANT_MIN_GRADE
from cases.models import Case, CaseSearch, Judgment
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


#: The "corpus" and relevance kind under which judgment evaluations are stored and shown.
JUDGMENTS_CORPUS = "examiners' judgments"
JUDGMENTS_RELEVANCE = "judgments"


@dataclass(frozen=True)
class JudgedCase:
    """A case as an evaluation topic: its graded figures (qrels) and its original queries."""

    case: Case
    grades: dict[int, int]
    searches: list[CaseSearch]

    @property
    def relevant(self) -> int:
        return sum(1 for grade in self.grades.values() if grade >= RELEVANT_MIN_GRADE)


def judged_cases() -> list[JudgedCase]:
    """Every case with at least one figure graded relevant (grade >= RELEVANT_MIN_GRADE) and at
    least one original query (drawings and/or text, or "more like this"; re-runs repeat their
    original and refined searches are built from the judgments, so neither is a topic)."""
    grades: dict[int, dict[int, int]] = {}
    for case_id, figure_id, grade in (Judgment.objects.filter(grade__isnull=False)
                                      .values_list("case_id", "figure_id", "grade")):
        grades.setdefault(case_id, {})[figure_id] = grade
    searches: dict[int, list[CaseSearch]] = {}
    for search in (CaseSearch.objects.filter(case_id__in=list(grades),
                                             origin__in=[CaseSearch.Origin.QUERY, CaseSearch.Origin.LIKE_FIGURE])
                   .select_related("like_figure").order_by("case_id", "number")):
        searches.setdefault(search.case_id, []).append(search)
    topics = [
        JudgedCase(case=case, grades=grades[case.pk], searches=searches.get(case.pk, []))
        for case in Case.objects.filter(pk__in=list(grades)).order_by("pk")
    ]
    return [t for t in topics if t.relevant and t.searches]
