"""The statistics of a study, as pure functions over plain rows (no Django): per-arm means with
95 % confidence intervals (Student's t), paired Wilcoxon signed-rank tests between arms, and for
interleaving the preference per arm with a two-sided sign test (scipy.stats.binomtest).

Pairing: a participant's mean over their tasks under arm A against their mean under arm B
(within-subject designs give every participant both arms). Participants without both are left
out of that test. A test with no pair, or with every difference zero, has no p-value
(``p_value`` is None) and says why.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

import numpy as np
from scipy import stats

METRICS = ("precision@5", "precision@10", "time_to_first_relevant_s")


def mean_ci(values: Sequence[float]) -> dict[str, object]:
    """Mean, 95 % t confidence interval and n of the values that are not None."""
    data = [float(v) for v in values if v is not None]
    if not data:
        return {"mean": None, "ci95": [None, None], "n": 0}
    mean = float(np.mean(data))
    if len(data) < 2:
        return {"mean": mean, "ci95": [None, None], "n": 1}
    half = float(stats.t.ppf(0.975, len(data) - 1) * np.std(data, ddof=1) / math.sqrt(len(data)))
    return {"mean": mean, "ci95": [mean - half, mean + half], "n": len(data)}


def paired_wilcoxon(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, object]:
    """Wilcoxon signed-rank test of paired values (keys: the pairing unit, e.g. participant)."""
    keys = sorted(set(a) & set(b))
    diffs = [a[key] - b[key] for key in keys]
    result: dict[str, object] = {"test": "wilcoxon signed-rank", "n_pairs": len(keys), "statistic": None,
                                 "p_value": None, "mean_difference": float(np.mean(diffs)) if diffs else None}
    if not any(d != 0 for d in diffs):
        result["note"] = "no pairs" if not keys else "every paired difference is zero"
        return result
    test = stats.wilcoxon([a[key] for key in keys], [b[key] for key in keys])
    result.update(statistic=float(test.statistic), p_value=float(test.pvalue))
    return result


def sign_test(wins_a: int, wins_b: int) -> dict[str, object]:
    """Two-sided sign test: do A and B win equally often (ties left out)?"""
    n = wins_a + wins_b
    result: dict[str, object] = {"test": "sign test (binomial, p = 0.5)", "wins": [wins_a, wins_b], "n": n,
                                 "p_value": None}
    if n:
        result["p_value"] = float(stats.binomtest(wins_a, n, 0.5).pvalue)
    else:
        result["note"] = "no session had a winner"
    return result


def _per_participant(outcomes: Iterable[Mapping[str, object]], arm: str, metric: str) -> dict[str, float]:
    values: dict[str, list[float]] = defaultdict(list)
    for row in outcomes:
        if row["arm"] == arm and row[metric] is not None:
            values[str(row["participant"])].append(float(row[metric]))  # type: ignore[arg-type]
    return {key: float(np.mean(v)) for key, v in values.items()}


def study_summary(
    *, arms: Sequence[str], outcomes: Sequence[Mapping[str, object]], sus: Mapping[str, float],
    preferences: Mapping[str, Sequence[str | None]] | None = None,
) -> dict[str, object]:
    """The summary of a study.

    Args:
        arms: arm names in study order.
        outcomes: one row per (participant, task, arm) with ``participant``, ``arm`` and METRICS.
        sus: SUS score per participant (answered at the end of the study).
        preferences: interleaving only: per credit kind ("grades", "clicks"), the winning arm of
            each session (None: a tie).

    Returns:
        ``{"arms": {ARM: {metric: mean, ..., "sus", "n", "ci95": {metric: [lo, hi]}}}, "tests": ...}``
    """
    summary: dict[str, object] = {"arms": {}, "tests": {}}
    arm_out: dict[str, dict[str, object]] = summary["arms"]  # type: ignore[assignment]
    for arm in arms:
        rows = [row for row in outcomes if row["arm"] == arm]
        users = {str(row["participant"]) for row in rows}
        entry: dict[str, object] = {"n": len(rows), "participants": len(users), "ci95": {}, "n_values": {}}
        for metric in (*METRICS, "sus"):
            values = [sus.get(u) for u in sorted(users)] if metric == "sus" else [row[metric] for row in rows]
            stat = mean_ci(values)  # type: ignore[arg-type]
            entry[metric] = stat["mean"]
            entry["ci95"][metric] = stat["ci95"]  # type: ignore[index]
            entry["n_values"][metric] = stat["n"]  # type: ignore[index]
        arm_out[arm] = entry
    tests: dict[str, object] = summary["tests"]  # type: ignore[assignment]
    for metric in METRICS:
        tests[metric] = {
            f"{a} vs {b}": paired_wilcoxon(_per_participant(outcomes, a, metric),
                                           _per_participant(outcomes, b, metric))
            for a, b in combinations(arms, 2)
        }
    if preferences is not None and len(arms) == 2:
        tests["interleaving"] = {}
        for credit, winners in preferences.items():
            wins = [sum(1 for w in winners if w == arm) for arm in arms]
            entry = sign_test(wins[0], wins[1])
            entry["sessions"] = len(winners)
            entry["ties"] = sum(1 for w in winners if w is None)
            entry["preference"] = {arm: (wins[i] / len(winners) if winners else None) for i, arm in enumerate(arms)}
            tests["interleaving"][f"credit by {credit}"] = entry  # type: ignore[index]
    return summary
