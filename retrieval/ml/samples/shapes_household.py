"""Shape templates for tableware and household containers (y up, front towards +z)."""

from __future__ import annotations

import numpy as np

from retrieval.ml.samples import geometry as g
from retrieval.ml.samples.geometry import Mesh
from retrieval.ml.samples.variation import chance, count, pick, smooth_profile, u

Rng = np.random.Generator


def side_handle(rng: Rng, x_wall: float, y_mid: float, span: float, reach: float) -> Mesh:
    """A C- or D-shaped handle on the +x side, its ends buried in a wall at x_wall."""
    exponent = pick(rng, (2.0, 2.0, 3.0, 5.0))
    t = np.radians(np.linspace(-90.0, 90.0, 28))
    c, s = np.cos(t), np.sin(t)
    x = x_wall + reach * np.abs(c) ** (2 / exponent)
    y = y_mid + span / 2 * np.sign(s) * np.abs(s) ** (2 / exponent)
    path = np.stack([x, y, np.zeros_like(x)], 1)
    thickness, depth = u(rng, 0.05, 0.1), u(rng, 0.09, 0.2)
    section = g.ellipse_section(thickness, depth) if chance(rng, 0.6) else \
        g.rounded_rect(thickness, depth, thickness * 0.3, corner=4)
    return g.sweep(path, section, (0.0, 0.0, 1.0))


def mug(rng: Rng) -> Mesh:
    """A mug: tapered thick-walled body with a side handle."""
    r, h = u(rng, 0.36, 0.55), u(rng, 0.75, 1.25)
    rb, wall, base, c = r * u(rng, 0.75, 1.0), u(rng, 0.03, 0.05), u(rng, 0.05, 0.12), 0.03
    outer = [(0.0, 0.0), (rb - c, 0.0), (rb, c)]
    if chance(rng, 0.4):
        y = u(rng, 0.15, 0.3) * h
        ry = rb + (r - rb) * y / h
        outer += [(ry, y), (ry - 0.02, y + 0.015), (ry - 0.02, y + 0.045), (ry, y + 0.06)]
    profile = outer + [(r, h), (r - wall, h), (rb - wall, base), (0.0, base)]
    body = g.lathe(profile)
    y_mid = u(rng, 0.45, 0.6) * h
    x_wall = rb + (r - rb) * y_mid / h - wall
    span = u(rng, 0.45, 0.75) * h
    return g.merge([body, side_handle(rng, x_wall, y_mid, span, u(rng, 0.22, 0.38))])


def bottle(rng: Rng) -> Mesh:
    """A bottle: body, shoulder, neck, lip, optional ribs and cap."""
    r, h = u(rng, 0.25, 0.42), u(rng, 1.6, 2.6)
    rn, shoulder = u(rng, 0.08, 0.14), u(rng, 0.5, 0.72) * h
    neck = shoulder + u(rng, 0.15, 0.3) * h
    profile = [(0.0, 0.0), (r - 0.04, 0.0), (r, 0.04)]
    for _ in range(count(rng, 0, 3)):
        y = profile[-1][1] + u(rng, 0.08, 0.18) * h
        if y > shoulder - 0.2:
            break
        profile += [(r, y), (r - 0.025, y + 0.02), (r - 0.025, y + 0.06), (r, y + 0.08)]
    curve = smooth_profile([r, rn], [shoulder, neck], n=9)
    top = neck + u(rng, 0.05, 0.15) * h
    profile += [tuple(p) for p in curve] + [(rn, top - 0.04), (rn * 1.2, top - 0.04),
                                            (rn * 1.2, top), (0.0, top)]
    parts = [g.lathe(profile)]
    if chance(rng, 0.6):
        cap_h = u(rng, 0.08, 0.2)
        parts.append(g.lathe([(0, top - 0.06), (rn * 1.35, top - 0.06),
                              (rn * 1.35, top + cap_h - 0.02), (rn * 1.25, top + cap_h),
                              (0, top + cap_h)], segments=pick(rng, (48, 48, 24))))
    return g.merge(parts)


def kettle(rng: Rng) -> Mesh:
    """A kettle: bulging body, lid with knob, spout on the left, handle on the right."""
    rb, rmax, rt, h = u(rng, 0.42, 0.58), u(rng, 0.5, 0.65), u(rng, 0.22, 0.36), u(rng, 0.8, 1.2)
    body = [(0.0, 0.0), (rb - 0.04, 0.0), (rb, 0.04)]
    body += [tuple(p) for p in smooth_profile([rb, rmax, rt], [0.05, 0.3 * h, h], n=14)]
    body += [(rt * 0.9, h + 0.03), (rt * 0.5, h + 0.08), (0.0, h + 0.09)]
    parts = [g.lathe(body), g.lathe([(0, h + 0.05), (0.06, h + 0.05), (0.05, h + 0.16),
                                     (0.08, h + 0.2), (0, h + 0.22)], segments=32)]
    t = np.linspace(0.0, 1.0, 16)[:, None]
    p0, p1 = np.array([-rmax * 0.7, 0.3 * h, 0]), np.array([-rmax - 0.15, 0.35 * h, 0])
    p2 = np.array([-rmax - u(rng, 0.25, 0.45), u(rng, 0.75, 1.0) * h, 0])
    spout = (1 - t) ** 2 * p0 + 2 * t * (1 - t) * p1 + t ** 2 * p2
    radius = u(rng, 0.07, 0.11)
    parts.append(g.sweep(spout, g.ellipse_section(2 * radius, 2 * radius),
                         (0.0, 0.0, 1.0), scales=np.linspace(1.0, 0.55, 16)))
    if chance(rng, 0.5):
        arch = g.arc_path((0.0, h, 0.0), (rt * 1.1, u(rng, 0.3, 0.5)), 0.0, 180.0, 24)
        parts.append(g.sweep(arch, g.ellipse_section(0.08, 0.14), (0.0, 0.0, 1.0)))
    else:
        parts.append(side_handle(rng, rmax * 0.8, 0.55 * h, 0.7 * h, u(rng, 0.25, 0.35)))
    if chance(rng, 0.4):
        parts.append(g.lathe([(0, -0.12), (rb + 0.08, -0.12), (rb + 0.05, 0.0), (0, 0.0)]))
    return g.merge(parts)


def _shell(outer: np.ndarray, wall: float, base: float) -> list[tuple[float, float]]:
    """A thick-walled open vessel from its outer (radius, y) profile, bottom to rim."""
    inner = [(max(r - wall, wall * 0.6), y) for r, y in outer[::-1] if y > base]
    return [(0.0, 0.0)] + [tuple(p) for p in outer] + inner + [(0.0, base)]


def vase(rng: Rng) -> Mesh:
    """A vase: smooth random profile, thick wall, open mouth."""
    h = u(rng, 1.4, 2.4)
    radii = [u(rng, 0.25, 0.4), u(rng, 0.3, 0.6), u(rng, 0.15, 0.45), u(rng, 0.12, 0.3),
             u(rng, 0.15, 0.35)]
    heights = np.linspace(0.0, h, len(radii))
    outer = smooth_profile(radii, heights, n=28)
    return g.lathe(_shell(outer, u(rng, 0.03, 0.05), 0.08), segments=pick(rng, (48, 48, 8)))


def bowl(rng: Rng) -> Mesh:
    """A bowl on a foot ring."""
    big, height, foot = u(rng, 0.7, 1.0), u(rng, 0.3, 0.55), u(rng, 0.3, 0.5)
    fh, wall = u(rng, 0.03, 0.07), u(rng, 0.03, 0.05)
    theta = np.linspace(0.0, np.pi / 2, 10)
    shape = u(rng, 0.6, 1.0)
    outer = [(foot + (big - foot) * np.sin(a) ** shape, fh + (height - fh) * (1 - np.cos(a)))
             for a in theta[1:]]
    inner = [(max(r - wall, 0.02), y + wall) for r, y in outer[::-1] if y + wall < height]
    profile = [(0.0, fh * 0.5), (foot * 0.9, fh * 0.5), (foot * 0.9, 0.0), (foot, 0.0),
               *outer, (big - wall, height), *inner[1:], (0.0, fh + wall)]
    return g.lathe(profile)


def wine_glass(rng: Rng) -> Mesh:
    """A stemmed glass: foot, stem with optional knop, open bowl."""
    foot, stem_r, stem_h = u(rng, 0.3, 0.42), u(rng, 0.025, 0.05), u(rng, 0.4, 0.9)
    profile: list[tuple[float, float]] = [(0.0, 0.0), (foot, 0.0), (foot, 0.015),
                                          (stem_r * 2, 0.07), (stem_r, 0.12)]
    if chance(rng, 0.4):
        k = u(rng, 0.3, 0.6) * stem_h
        profile += [(stem_r, k - 0.05), (stem_r * 2.2, k), (stem_r, k + 0.05)]
    big, cup_h = u(rng, 0.3, 0.45), u(rng, 0.5, 0.8)
    lip = big * u(rng, 0.7, 1.0)
    outer = smooth_profile([stem_r * 1.5, big, lip], [stem_h, stem_h + 0.45 * cup_h,
                                                       stem_h + cup_h], n=16)
    wall = 0.02
    inner = [(max(r - wall, 0.01), y) for r, y in outer[::-1] if y > stem_h + 0.08]
    profile += [tuple(p) for p in outer] + inner + [(0.0, stem_h + 0.08)]
    return g.lathe(profile)


def flower_pot(rng: Rng) -> Mesh:
    """A tapered planter with a rim band, round or polygonal, optional saucer."""
    rb, rt, h = u(rng, 0.3, 0.45), u(rng, 0.45, 0.65), u(rng, 0.6, 1.0)
    rim_h, rim_t, wall = u(rng, 0.06, 0.15), u(rng, 0.02, 0.05), 0.04
    profile = [(0.0, 0.0), (rb, 0.0), (rt, h - rim_h), (rt + rim_t, h - rim_h),
               (rt + rim_t, h), (rt - wall, h), (rb - wall, 0.1), (0.0, 0.1)]
    sides = pick(rng, (48, 48, 4, 6, 8))
    turn = g.rotation("y", 180.0 / sides)
    parts = [g.moved(g.lathe(profile, segments=sides), matrix=turn)]
    if chance(rng, 0.5):
        sr = rb + 0.12
        saucer = [(0.0, -0.05), (sr, -0.05), (sr + 0.03, 0.04), (sr, 0.04), (rb, -0.01),
                  (0.0, -0.01)]
        parts.append(g.moved(g.lathe(saucer, segments=sides), matrix=turn))
    return g.merge(parts)


def candle_holder(rng: Rng) -> Mesh:
    """A candlestick: base, stacked knops, drip pan and optional candle."""
    base, h = u(rng, 0.3, 0.45), u(rng, 0.8, 1.4)
    knops = count(rng, 2, 4)
    radii = [base * 0.5] + [u(rng, 0.06, 0.2) for _ in range(knops)] + [0.08]
    heights = np.linspace(0.1, h, len(radii))
    profile = [(0.0, 0.0), (base, 0.0), (base, 0.04), (base * 0.6, 0.1)]
    profile += [tuple(p) for p in smooth_profile(radii, heights, n=26)]
    pan = u(rng, 0.15, 0.25)
    profile += [(pan, h + 0.03), (pan, h + 0.07), (0.07, h + 0.05), (0.0, h + 0.05)]
    parts = [g.lathe(profile)]
    if chance(rng, 0.6):
        parts.append(g.cylinder(0.065, h + 0.04, h + 0.04 + u(rng, 0.5, 1.0), segments=32))
    return g.merge(parts)


def salt_shaker(rng: Rng) -> Mesh:
    """A shaker: body, screw cap with a ring of pour holes."""
    r, h = u(rng, 0.2, 0.3), u(rng, 0.6, 1.0)
    waist = r * u(rng, 0.7, 1.0)
    profile = [(0.0, 0.0), (r - 0.03, 0.0), (r, 0.03)]
    profile += [tuple(p) for p in smooth_profile([r, waist, r * 0.95], [0.03, h * 0.5, h], n=14)]
    profile += [(0.0, h)]
    cap_h = u(rng, 0.12, 0.22)
    cap = [(0.0, h - 0.02), (r, h - 0.02), (r, h + cap_h - 0.04), (r - 0.04, h + cap_h),
           (0.0, h + cap_h)]
    parts = [g.lathe(profile), g.lathe(cap)]
    holes = count(rng, 3, 7)
    ring = r * 0.45
    for k in range(holes):
        a = 2 * np.pi * k / holes
        hole = g.cylinder(0.025, h + cap_h - 0.004, h + cap_h + 0.004, segments=12)
        parts.append(g.moved(hole, (ring * np.cos(a), 0.0, ring * np.sin(a))))
    if holes % 2:
        parts.append(g.cylinder(0.025, h + cap_h - 0.004, h + cap_h + 0.004, segments=12))
    return g.merge(parts)


def storage_container(rng: Rng) -> Mesh:
    """A lidded box: body, overhanging lid, optional latches or handle."""
    w, d, h = u(rng, 1.0, 1.6), u(rng, 0.6, 1.1), u(rng, 0.4, 0.9)
    radius = u(rng, 0.02, 0.2)
    lid_h = u(rng, 0.08, 0.18)
    parts = [g.box((w, h, d), (0, h / 2, 0), radius=radius),
             g.box((w + 0.06, lid_h, d + 0.06), (0, h + lid_h / 2 - 0.02, 0),
                   radius=radius + 0.03, bevel=0.02)]
    if chance(rng, 0.5):
        for x in (-w / 4, w / 4):
            parts.append(g.box((0.12, 0.16, 0.03), (x, h - 0.02, d / 2 + 0.03), bevel=0.01))
    if chance(rng, 0.5):
        arch = g.arc_path((0.0, h + lid_h - 0.03, 0.0), (w * 0.2, 0.12), 0.0, 180.0, 20)
        parts.append(g.sweep(arch, g.ellipse_section(0.05, 0.08), (0.0, 0.0, 1.0)))
    return g.merge(parts)
