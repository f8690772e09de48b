"""Server-rendered SVG of the evaluation dashboard: the 2-D map of a model's figure vectors,
one dot per figure, coloured by class (the most frequent classes get their own colour)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.utils.html import escape

SIZE, PAD = 320, 12
COLORS = ("#1f5fbf", "#c2612b", "#2b8a3e", "#8a2b84", "#b8860b", "#0f7c8c", "#a8261d", "#5f6b76")
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
