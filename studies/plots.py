"""Server-rendered SVG plots of a study summary: one per metric, a bar per arm with its 95 % CI."""

from __future__ import annotations

import math
from collections.abc import Mapping

from django.utils.html import escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 360, 200, 48, 36, 16
COLORS = ("#1f5fbf", "#c2612b", "#2b8a3e", "#8a2b84", "#5f6b76")


def nice_ticks(maximum: float, steps: int = 4) -> list[float]:
    """Axis ticks from 0 past ``maximum`` in round steps (1, 2, 2.5 or 5 times a power of ten),
    about ``steps`` of them: 0, 10, 20, 30 seconds rather than 0, 14.69, 29.39."""
    if not (math.isfinite(maximum) and maximum > 0):  # nothing measured yet: a unit axis
        return [0.0, 1.0]
    raw = maximum / steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    count = math.ceil(maximum / step - 1e-9)
    if count * step <= maximum:  # room above the highest bar or whisker
        count += 1
    return [round(i * step, 10) for i in range(count + 1)]


def _is_whole(value: float) -> bool:
    return abs(value - round(value)) < 1e-9


def metric_svg(summary: Mapping[str, object], metric: str, title: str) -> str:
    """An SVG bar chart of the arms' means of one metric, with CI whiskers (or a note when empty)."""
    arms: Mapping[str, Mapping[str, object]] = summary["arms"]  # type: ignore[assignment]
    bars = [(name, arm[metric], arm["ci95"][metric]) for name, arm in arms.items()]  # type: ignore[index]
    tops = [v for _, mean, ci in bars for v in (mean, ci[1]) if v is not None]  # type: ignore[index]
    parts = [f'<svg class="plot" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    parts.append(f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{HEIGHT - PAD_BOTTOM}" stroke="#5f6b76"/>')
    if not tops:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#5f6b76">no data yet</text></svg>')
        return "".join(parts)
    ticks = nice_ticks(max(tops))
    top = ticks[-1]

    def y(value: float) -> float:
        return HEIGHT - PAD_BOTTOM - plot_h * max(0.0, value) / top

    decimals = max(0, -math.floor(math.log10(ticks[1])) + (0 if _is_whole(ticks[1] / 10 ** math.floor(math.log10(ticks[1]))) else 1))
    for tick in ticks:
        parts.append(f'<text x="{PAD_LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="10" '
                     f'fill="#5f6b76">{tick:.{decimals}f}</text>')
    slot = (WIDTH - PAD_LEFT - 10) / max(len(bars), 1)
    for i, (name, mean, ci) in enumerate(bars):
        x = PAD_LEFT + 10 + i * slot
        w = slot * 0.6
        color = COLORS[i % len(COLORS)]
        if mean is not None:
            parts.append(f'<rect x="{x:.1f}" y="{y(mean):.1f}" width="{w:.1f}" height="{HEIGHT - PAD_BOTTOM - y(mean):.1f}" '
                         f'fill="{color}" opacity=".8"><title>{escape(name)}: {mean:.3f}</title></rect>')
        if ci[0] is not None:  # type: ignore[index]
            cx = x + w / 2
            lo, hi = y(ci[0]), y(ci[1])  # type: ignore[index]
            parts.append(f'<line x1="{cx:.1f}" y1="{lo:.1f}" x2="{cx:.1f}" y2="{hi:.1f}" stroke="#1d2329"/>'
                         f'<line x1="{cx - 6:.1f}" y1="{lo:.1f}" x2="{cx + 6:.1f}" y2="{lo:.1f}" stroke="#1d2329"/>'
                         f'<line x1="{cx - 6:.1f}" y1="{hi:.1f}" x2="{cx + 6:.1f}" y2="{hi:.1f}" stroke="#1d2329"/>')
        label = name if len(name) <= 22 else name[:21] + "…"
        parts.append(f'<text x="{x + w / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" text-anchor="middle" font-size="11">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
