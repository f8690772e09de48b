"""Server-rendered SVG of the evaluation dashboard: the 2-D map of a model's figure vectors,
one dot per figure, coloured by class (the most frequent classes get their own colour), and the
interpolated precision-recall curves of the models evaluated on one corpus and relevance kind."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.utils.html import escape

SIZE, PAD = 320, 12
COLORS = ("#1f5fbf", "#c2612b", "#2b8a3e", "#8a2b84", "#b8860b", "#0f7c8c", "#a8261d", "#5f6b76")
# each precision-recall line has its dash too, so the models differ without colour
DASHES = ("", "7 3", "2 3", "9 3 2 3", "4 4", "1 2", "12 4", "5 2 1 2")
OTHER = "#b9c0c7"


def map_svg(points: Sequence[Sequence[object]], title: str) -> str:
    if not points:
        return f'<p class="empty">No map for {escape(title)}: too few encoded figures.</p>'
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    top = [label for label, _ in Counter(str(p[2]) for p in points).most_common(len(COLORS))]
    color = {label: COLORS[i] for i, label in enumerate(top)}
    inner = SIZE - 2 * PAD
    dots = [
        f'<circle cx="{PAD + inner * (x - min(xs)) / span_x:.1f}" cy="{PAD + inner * (y - min(ys)) / span_y:.1f}" '
        f'r="3" fill="{color.get(str(p[2]), OTHER)}"><title>{escape(str(p[2]))}</title></circle>'
        for x, y, p in zip(xs, ys, points, strict=True)
    ]
    legend = "".join(
        f'<span class="legend-item"><span class="swatch" style="background:{color[label]}"></span>{escape(label)}</span>'
        for label in top
    )
    return (
        f'<svg class="plot map" role="img" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect width="{SIZE}" height="{SIZE}" fill="#fff"/>{"".join(dots)}</svg>'
        f'<div class="legend">{legend}{"<span class=legend-item>grey: other classes</span>" if len(color) < len({str(p[2]) for p in points}) else ""}</div>'
    )


PR_W, PR_H, PR_LEFT, PR_BOTTOM, PR_TOP, PR_RIGHT = 360, 260, 40, 32, 10, 10


def _line_style(i: int) -> tuple[str, str]:
    """The colour and dash of the i-th precision-recall line, its legend entry the same."""
    return COLORS[i % len(COLORS)], DASHES[i % len(DASHES)]


def pr_svg(curves: Sequence[tuple[str, Sequence[float], Sequence[float]]], title: str) -> str:
    """One line per model: (label, recall levels, interpolated precision), axes 0-1."""
    curves = [c for c in curves if c[1] and c[2]]
    if not curves:
        return f'<p class="empty">No precision-recall curve for {escape(title)}.</p>'
    width, height = PR_W - PR_LEFT - PR_RIGHT, PR_H - PR_TOP - PR_BOTTOM

    def x(value: float) -> float:
        return PR_LEFT + width * float(value)

    def y(value: float) -> float:
        return PR_TOP + height * (1 - float(value))

    grid = "".join(
        f'<line x1="{x(0):.1f}" y1="{y(t):.1f}" x2="{x(1):.1f}" y2="{y(t):.1f}" stroke="#e3e6ea"/>'
        f'<text x="{x(0) - 4:.1f}" y="{y(t) + 3:.1f}" text-anchor="end" font-size="9">{t:.1f}</text>'
        f'<line x1="{x(t):.1f}" y1="{y(0):.1f}" x2="{x(t):.1f}" y2="{y(1):.1f}" stroke="#e3e6ea"/>'
        f'<text x="{x(t):.1f}" y="{y(0) + 12:.1f}" text-anchor="middle" font-size="9">{t:.1f}</text>'
        for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    )
    lines = []
    for i, (label, recall, precision) in enumerate(curves):
        color, dash = _line_style(i)
        points = " ".join(f"{x(r):.1f},{y(p):.1f}" for r, p in zip(recall, precision, strict=True))
        lines.append(
            f'<polyline class="pr-line" data-model="{escape(label)}" points="{points}" fill="none" '
            f'stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"><title>{escape(label)}</title></polyline>'
            + "".join(f'<circle cx="{x(r):.1f}" cy="{y(p):.1f}" r="2.5" fill="{color}">'
                      f'<title>{escape(label)}: precision {float(p):.3f} at recall {float(r):.1f}</title></circle>'
                      for r, p in zip(recall, precision, strict=True))
        )
    legend = "".join(
        f'<span class="legend-item"><svg class="dash" width="24" height="8" aria-hidden="true"><line x1="0" y1="4" '
        f'x2="24" y2="4" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/></svg>{escape(label)}</span>'
        for (label, _, _), (color, dash) in zip(curves, map(_line_style, range(len(curves))), strict=True)
    )
    axes = (
        f'<text x="{x(0.5):.1f}" y="{PR_H - 4}" text-anchor="middle" font-size="10">recall</text>'
        f'<text x="10" y="{y(0.5):.1f}" text-anchor="middle" font-size="10" '
        f'transform="rotate(-90 10 {y(0.5):.1f})">precision</text>'
    )
    return (
        f'<svg class="plot pr" role="img" viewBox="0 0 {PR_W} {PR_H}" width="{PR_W}" height="{PR_H}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect width="{PR_W}" height="{PR_H}" fill="#fff"/>{grid}{axes}{"".join(lines)}</svg>'
        f'<div class="legend">{legend}</div>'
    )
