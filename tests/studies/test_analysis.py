"""The study statistics on synthetic logs with a known effect (pure functions; no database)."""

import numpy as np
import pytest
from scipy import stats

from studies.analysis import mean_ci, paired_wilcoxon, sign_test, study_summary


def _outcomes(effect: float, participants: int = 12, tasks: int = 4, seed: int = 0):
    """Arm A finds relevant hits `effect` more often (precision) and sooner than arm B."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(participants):
        for t in range(tasks):
            arm = "A" if (p + t) % 2 == 0 else "B"
            base = 0.3 + 0.1 * rng.standard_normal()
            p5 = float(np.clip(base + (effect if arm == "A" else 0.0), 0, 1))
            rows.append({"participant": f"u{p}", "arm": arm, "precision@5": p5, "precision@10": p5 / 2,
                         "time_to_first_relevant_s": 60.0 - (30.0 if arm == "A" else 0.0) + t})
    return rows


def test_mean_ci_is_the_t_interval():
    values = [1.0, 2.0, 3.0, 4.0]
    result = mean_ci(values)
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert result["mean"] == 2.5 and result["n"] == 4
    assert result["ci95"] == pytest.approx([2.5 - half, 2.5 + half])
    assert mean_ci([None, 5.0]) == {"mean": 5.0, "ci95": [None, None], "n": 1}


def test_summary_finds_a_known_effect_and_reports_every_arm():
    outcomes = _outcomes(effect=0.3)
    summary = study_summary(arms=["A", "B"], outcomes=outcomes, sus={f"u{p}": 70.0 + p for p in range(12)})
    a, b = summary["arms"]["A"], summary["arms"]["B"]
    assert a["n"] == b["n"] == 24
    assert a["precision@5"] - b["precision@5"] == pytest.approx(
        np.mean([r["precision@5"] for r in outcomes if r["arm"] == "A"])
        - np.mean([r["precision@5"] for r in outcomes if r["arm"] == "B"]))
    assert a["precision@5"] > b["precision@5"] + 0.2
    assert a["ci95"]["precision@5"][0] < a["precision@5"] < a["ci95"]["precision@5"][1]
    assert a["sus"] == pytest.approx(np.mean([70.0 + p for p in range(12)]))
    test = summary["tests"]["precision@5"]["A vs B"]
    assert test["n_pairs"] == 12 and test["p_value"] < 0.01
    assert summary["tests"]["time_to_first_relevant_s"]["A vs B"]["mean_difference"] == pytest.approx(-30.0)


def test_summary_without_an_effect_is_not_significant():
    summary = study_summary(arms=["A", "B"], outcomes=_outcomes(effect=0.0, seed=3), sus={})
    assert summary["tests"]["precision@5"]["A vs B"]["p_value"] > 0.05
    assert summary["arms"]["A"]["sus"] is None


def test_paired_wilcoxon_without_differences_says_why():
    result = paired_wilcoxon({"u1": 0.5, "u2": 0.2}, {"u1": 0.5, "u2": 0.2})
    assert result["p_value"] is None and result["note"] == "every paired difference is zero"


def test_interleaving_preferences_use_a_sign_test():
    winners = ["A"] * 9 + ["B"] + [None] * 2
    summary = study_summary(arms=["A", "B"], outcomes=[], sus={}, preferences={"grades": winners})
    entry = summary["tests"]["interleaving"]["credit by grades"]
    assert entry["wins"] == [9, 1] and entry["ties"] == 2 and entry["sessions"] == 12
    assert entry["p_value"] == pytest.approx(stats.binomtest(9, 10, 0.5).pvalue)
    assert entry["p_value"] < 0.05
    assert entry["preference"] == {"A": 9 / 12, "B": 1 / 12}
    assert sign_test(0, 0)["p_value"] is None


def test_plot_axes_tick_at_round_values_past_the_highest_bar():
    import re

    from studies.plots import metric_svg, nice_ticks

    assert nice_ticks(26.7) == [0, 10, 20, 30]  # seconds, where the axis read 0 / 14.69 / 29.39
    assert nice_ticks(0.4) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5] and nice_ticks(0.95) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0) == nice_ticks(-1) == [0.0, 1.0]  # nothing measured yet: a unit axis, not 0 / 1e-09
    summary = {"arms": {"a": {"t": 21.4, "ci95": {"t": [12.0, 26.7]}}, "b": {"t": 9.0, "ci95": {"t": [None, None]}}}}
    labels = re.findall(r'fill="#5f6b76">([^<]+)</text>', metric_svg(summary, "t", "Seconds"))
    assert labels == ["0", "10", "20", "30"]
