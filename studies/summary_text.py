"""The study summary as text lines (analyze_study prints them; the study page shows the same)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from studies.analysis import METRICS


def _num(value: object, digits: int = 3) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def _p(value: object) -> str:
    return "p = -" if value is None else f"p = {float(value):.4g}"  # type: ignore[arg-type]


def metric_cell(arm: Mapping[str, object], metric: str) -> str:
    low, high = arm["ci95"][metric]  # type: ignore[index]
    ci = f" [{_num(low)}, {_num(high)}]" if low is not None else ""
    return f"{_num(arm[metric])}{ci} (n={arm['n_values'][metric]})"  # type: ignore[index]


def summary_lines(summary: Mapping[str, object]) -> Iterator[str]:
    yield f"Study {summary['study']} ({summary['design']}): per-arm means with 95 % CIs"
    arms: Mapping[str, Mapping[str, object]] = summary["arms"]  # type: ignore[assignment]
    for name, arm in arms.items():
        yield f"  {name}: {arm['n']} task outcomes from {arm['participants']} participants"
        for metric in (*METRICS, "sus"):
            yield f"    {metric:<26} {metric_cell(arm, metric)}"
    yield "Tests"
    tests: Mapping[str, Mapping[str, Mapping[str, object]]] = summary["tests"]  # type: ignore[assignment]
    for metric, pairs in tests.items():
        for pair, test in pairs.items():
            detail = test.get("note") or f"statistic {_num(test.get('statistic'))}, {_p(test['p_value'])}"
            if "wins" in test:
                wins = test["wins"]
                detail = f"wins {wins[0]} : {wins[1]}, ties {test['ties']}, " + (
                    test.get("note") or _p(test["p_value"]))
                yield f"  interleaving, {pair}: {detail} ({test['test']})"
            else:
                yield f"  {metric}, {pair}: {detail}, pairs {test['n_pairs']} ({test['test']})"
