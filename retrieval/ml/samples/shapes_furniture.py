"""Shape templates for furniture, lighting and fixtures (y up, front towards +z)."""

from __future__ import annotations

import numpy as np

from retrieval.ml.samples import geometry as g
from retrieval.ml.samples.geometry import Mesh
from retrieval.ml.samples.variation import chance, count, pick, smooth_profile, u

Rng = np.random.Generator


def _leg(rng: Rng, top: np.ndarray, foot: np.ndarray, width: float, square: bool) -> Mesh:
    """A straight leg from foot up to top, round and tapered or square."""
    if square:
        direction = top - foot
        leg = g.box((width, float(np.linalg.norm(direction)), width), bevel=width * 0.1)
        centre = (top + foot) / 2
        if abs(direction[0]) + abs(direction[2]) < 1e-9:
            return g.moved(leg, centre)
        return g.moved(leg, centre, matrix=g.turn_y_to(direction))
    return g.rod(foot, top, width / 2 * u(rng, 0.6, 1.0), r1=width / 2, segments=20)


def _four_legs(rng: Rng, w: float, d: float, y_top: float, width: float,
               splay: float) -> list[Mesh]:
    square = chance(rng, 0.5)
    legs = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            top = np.array([sx * w / 2, y_top, sz * d / 2])
            foot = top + np.array([sx * splay, -y_top, sz * splay])
            legs.append(_leg(rng, top, foot, width, square))
    return legs


def chair(rng: Rng) -> Mesh:
    """A chair: seat, four legs, backrest on posts, optional arms and stretchers."""
    w, d, seat_h = u(rng, 0.8, 1.1), u(rng, 0.75, 1.0), u(rng, 0.8, 1.0)
    t, leg = u(rng, 0.06, 0.14), u(rng, 0.05, 0.09)
    parts = [g.box((w, t, d), (0, seat_h + t / 2, 0), radius=u(rng, 0.0, 0.15),
                   bevel=u(rng, 0.0, 0.03))]
    inset = leg
    parts += _four_legs(rng, w - 2 * inset, d - 2 * inset, seat_h, leg, u(rng, 0.0, 0.08))
    back_h, lean = u(rng, 0.7, 1.1), u(rng, 0.0, 0.15)
    z_back = -d / 2 + inset
    for x in (-w / 2 + inset, w / 2 - inset):
        parts.append(g.rod((x, seat_h, z_back), (x, seat_h + back_h, z_back - lean), leg / 2,
                           segments=16))
    panel_h = back_h * u(rng, 0.3, 0.55)
    y_panel = seat_h + back_h - panel_h / 2 - 0.03
    z_panel = z_back - lean * (y_panel - seat_h) / back_h
    tilt = np.degrees(np.arctan2(lean, back_h))
    panel = g.box((w - 2 * inset, panel_h, leg * 0.45), radius=0.0, bevel=0.005)
    parts.append(g.moved(panel, (0, y_panel, z_panel), matrix=g.rotation("x", -tilt)))
    if chance(rng, 0.35):
        for x in (-w / 2, w / 2):
            parts.append(g.box((0.07, 0.05, d * 0.8), (x, seat_h + 0.35, 0.0), bevel=0.01))
            parts.append(g.rod((x, seat_h, d * 0.3), (x, seat_h + 0.33, d * 0.3), 0.025,
                               segments=12))
    if chance(rng, 0.4):
        y = seat_h * 0.3
        for z in (-d / 2 + inset, d / 2 - inset):
            parts.append(g.rod((-w / 2 + inset, y, z), (w / 2 - inset, y, z), leg * 0.3,
                               segments=12))
    return g.merge(parts)


def table(rng: Rng) -> Mesh:
    """A table: rectangular, oval or round top on four legs or a pedestal."""
    top_h, t = u(rng, 0.7, 1.0), u(rng, 0.04, 0.1)
    shape = pick(rng, ("rect", "rect", "oval", "round"))
    w = u(rng, 1.4, 2.4)
    d = w if shape == "round" else w * u(rng, 0.45, 0.7)
    outline = g.rounded_rect(w, d, u(rng, 0.0, 0.15)) if shape == "rect" else \
        g.superellipse(w, d, pick(rng, (2.0, 2.5, 3.5)), n=64)
    parts = [g.moved(g.prism(outline, 0.0, t, bevel=u(rng, 0.0, 0.02)), (0, top_h - t, 0))]
    if shape == "rect" or chance(rng, 0.3):
        leg = u(rng, 0.05, 0.1)
        inset = u(rng, 0.08, 0.2) * (1.0 if shape == "rect" else 2.0)
        parts += _four_legs(rng, w - 2 * inset, d - 2 * inset, top_h - t, leg,
                            u(rng, 0.0, 0.06))
        if chance(rng, 0.5):
            apron = 0.12
            parts.append(g.box((w - 2 * inset, apron, d - 2 * inset),
                               (0, top_h - t - apron / 2, 0)))
    else:
        column = u(rng, 0.06, 0.12)
        foot = min(w, d) * u(rng, 0.25, 0.4)
        parts.append(g.lathe([(0, 0), (foot, 0), (foot, 0.04), (column * 1.5, 0.12),
                              (column, 0.2), (column, top_h - t), (0, top_h - t)]))
    return g.merge(parts)


def stool(rng: Rng) -> Mesh:
    """A stool: round cushion seat, three or four splayed legs, optional foot ring."""
    r, h = u(rng, 0.3, 0.45), u(rng, 0.6, 1.3)
    t = u(rng, 0.05, 0.1)
    seat = [(0, h), (r, h), (r, h + t)]
    if chance(rng, 0.6):
        seat += [(r * 0.95, h + t + 0.04), (r * 0.8, h + t + 0.07)]
    parts = [g.lathe(seat + [(0, seat[-1][1])])]
    legs, spread = count(rng, 3, 4), u(rng, 1.05, 1.4)
    leg_r = u(rng, 0.02, 0.04)
    phase = u(rng, 0.0, 360.0 / legs) if legs == 4 else 90.0
    for k in range(legs):
        a = np.radians(phase + 360.0 * k / legs)
        top = np.array([0.8 * r * np.sin(a), h, 0.8 * r * np.cos(a)])
        foot = np.array([spread * r * np.sin(a), 0.0, spread * r * np.cos(a)])
        parts.append(g.rod(foot, top, leg_r, segments=16))
    if chance(rng, 0.6):
        f = u(rng, 0.25, 0.4)
        ring_r = r * (spread - (spread - 0.8) * f)
        parts.append(g.moved(g.torus(ring_r, leg_r * 0.8, sides=12), (0, f * h, 0)))
    return g.merge(parts)


def bench(rng: Rng) -> Mesh:
    """A bench: solid or slatted seat on slab legs or tube frames, optional backrest."""
    w, d, h = u(rng, 2.0, 3.2), u(rng, 0.5, 0.8), u(rng, 0.6, 0.9)
    parts: list[Mesh] = []
    slats = pick(rng, (1, 3, 4, 5))
    gap = 0.03 if slats > 1 else 0.0
    slat_d = (d - gap * (slats - 1)) / slats
    for k in range(slats):
        z = -d / 2 + slat_d / 2 + k * (slat_d + gap)
        parts.append(g.box((w, 0.06, slat_d), (0, h - 0.03, z), bevel=0.008))
    x_leg = w / 2 - u(rng, 0.1, 0.35)
    slab_legs = chance(rng, 0.5)
    for x in (-x_leg, x_leg):
        if slab_legs:
            parts.append(g.box((0.08, h - 0.06, d * 0.9), (x, (h - 0.06) / 2, 0), bevel=0.01))
        else:
            t = np.radians(np.linspace(0.0, 180.0, 20))
            arc_z = d * 0.42 * np.cos(t)
            y = (h - 0.06) * np.minimum(np.sin(t) * 4, 1.0)
            path = np.stack([np.full_like(arc_z, x), y, arc_z], 1)
            parts.append(g.sweep(path, g.ellipse_section(0.05, 0.05, 12), (1.0, 0.0, 0.0)))
    if chance(rng, 0.4):
        back = g.box((w, 0.3, 0.04), bevel=0.008)
        parts.append(g.moved(back, (0, h + 0.35, -d / 2), matrix=g.rotation("x", -10.0)))
        for x in (-x_leg, x_leg):
            parts.append(g.box((0.05, 0.5, 0.04), (x, h + 0.2, -d / 2 - 0.02)))
    return g.merge(parts)


def table_lamp(rng: Rng) -> Mesh:
    """A table lamp: base, stem, drum, cone or bell shade."""
    base_r, stem_h = u(rng, 0.25, 0.4), u(rng, 0.6, 1.2)
    parts: list[Mesh] = []
    if chance(rng, 0.3):
        size = base_r * 1.8
        parts.append(g.box((size, 0.08, size), (0, 0.04, 0), bevel=0.015))
    else:
        dome = smooth_profile([base_r, base_r * u(rng, 0.4, 0.9), 0.08],
                              [0.04, 0.1, u(rng, 0.15, 0.3)], n=10)
        parts.append(g.lathe([(0, 0), (base_r, 0), *[tuple(p) for p in dome], (0, dome[-1, 1])]))
    stem_r = u(rng, 0.025, 0.05)
    parts.append(g.cylinder(stem_r, 0.05, stem_h, segments=24))
    if chance(rng, 0.5):
        parts.append(g.moved(g.sphere(stem_r * 2.5, segments=24, rings=10),
                             (0, stem_h * u(rng, 0.3, 0.6), 0)))
    bottom_r, top_r = u(rng, 0.4, 0.65), u(rng, 0.2, 0.6)
    shade_h, y0 = u(rng, 0.45, 0.8), stem_h - u(rng, 0.1, 0.3)
    outer = smooth_profile([bottom_r, (bottom_r + top_r) / 2 * u(rng, 0.9, 1.1), top_r],
                           [y0, y0 + shade_h / 2, y0 + shade_h], n=10)
    wall = 0.015
    profile = [(bottom_r - wall, y0), *[tuple(p) for p in outer]]
    profile += [(r - wall, y) for r, y in outer[::-1]]
    shade = g.lathe(profile + [(bottom_r - wall, y0 + 0.001)])
    parts.append(shade)
    parts.append(g.cylinder(0.03, stem_h - 0.02, y0 + shade_h * 0.6, segments=16))
    return g.merge(parts)


def faucet(rng: Rng) -> Mesh:
    """A faucet: escutcheon, column, gooseneck or straight spout, lever handle."""
    column_r, h = u(rng, 0.06, 0.1), u(rng, 0.5, 1.0)
    parts = [g.lathe([(0, 0), (column_r * 2.2, 0), (column_r * 2.0, 0.04), (column_r, 0.06),
                      (column_r, h), (0, h)], segments=40)]
    if chance(rng, 0.5):
        reach = u(rng, 0.3, 0.5)
        t = np.radians(np.linspace(0.0, 180.0, 24))
        path = np.stack([np.zeros_like(t), h - 0.02 + reach * 0.8 * np.sin(t),
                         reach * (1 - np.cos(t)) / 2], 1)
        spout = np.concatenate([path, path[-1] + np.array([[0, -0.12, 0]])])
        parts.append(g.sweep(spout, g.ellipse_section(column_r * 1.4, column_r * 1.4),
                             (1.0, 0.0, 0.0)))
    else:
        reach = u(rng, 0.35, 0.6)
        y = h - u(rng, 0.05, 0.2)
        parts.append(g.rod((0, y, 0), (0, y - 0.05, reach), column_r * 0.8, r1=column_r * 0.6))
    lever = u(rng, 0.2, 0.35)
    side = pick(rng, (-1.0, 1.0))
    parts.append(g.rod((0, h, 0), (0, h + 0.08, 0), column_r * 0.8, segments=24))
    parts.append(g.rod((0, h + 0.06, 0), (side * lever * 0.3, h + 0.1, -lever), 0.025,
                       segments=16))
    return g.merge(parts)


def shower_head(rng: Rng) -> Mesh:
    """A shower head: round or square face with nozzles, on a bent arm."""
    r, t = u(rng, 0.3, 0.55), u(rng, 0.05, 0.12)
    parts: list[Mesh] = []
    if chance(rng, 0.5):
        parts.append(g.lathe([(0, 0), (r * 0.96, 0), (r, t * 0.4), (r * 0.9, t),
                              (0.08, t + 0.05), (0, t + 0.05)]))
    else:
        parts.append(g.box((2 * r, t, 2 * r), (0, t / 2, 0), radius=r * 0.15, bevel=0.01))
    rows = count(rng, 3, 5)
    step = r * 1.3 / rows
    for i in range(-rows + 1, rows, 2):
        for j in range(-rows + 1, rows, 2):
            x, z = i * step / 2, j * step / 2
            if x * x + z * z < (r * 0.75) ** 2:
                parts.append(g.cylinder(0.02, -0.015, 0.005, segments=10))
                parts[-1] = g.moved(parts[-1], (x, 0.0, z))
    arm_y, back = u(rng, 0.3, 0.6), u(rng, 0.5, 0.8)
    parts.append(g.rod((0, t, 0), (0, t + arm_y, 0), 0.035, segments=16))
    parts.append(g.rod((0, t + arm_y, 0), (0, t + arm_y + 0.1, -back), 0.035, segments=16))
    return g.merge(parts)


def door_handle(rng: Rng) -> Mesh:
    """A lever door handle on a round or rectangular rose."""
    parts: list[Mesh] = []
    if chance(rng, 0.5):
        rose = u(rng, 0.2, 0.3)
        parts.append(g.along(g.lathe([(0, 0), (rose, 0), (rose, 0.03), (rose * 0.8, 0.06),
                                      (0, 0.06)]), "z"))
    else:
        plate = g.extrude_z(g.rounded_rect(u(rng, 0.25, 0.35), u(rng, 0.9, 1.4), 0.05), 0.0,
                            0.04, bevel=0.01)
        parts.append(g.moved(plate, (0, -u(rng, 0.0, 0.35), 0)))
    neck = u(rng, 0.2, 0.35)
    parts.append(g.along(g.cylinder(0.06, 0.0, neck, segments=32), "z"))
    length, drop = u(rng, 0.7, 1.1), u(rng, -0.1, 0.1)
    x = np.linspace(0.0, length, 20)
    path = np.stack([x, drop * (x / length) ** 2, np.full_like(x, neck - 0.04)], 1)
    section = g.rounded_rect(u(rng, 0.06, 0.1), u(rng, 0.08, 0.14), 0.02, corner=4)
    parts.append(g.sweep(path, section, (0.0, 0.0, 1.0),
                         scales=np.linspace(1.0, u(rng, 0.9, 1.3), 20)))
    return g.merge(parts)


def cabinet_knob(rng: Rng) -> Mesh:
    """A cabinet knob: a turned mushroom profile facing the viewer."""
    base, stem, head = u(rng, 0.25, 0.35), u(rng, 0.1, 0.18), u(rng, 0.3, 0.5)
    length = u(rng, 0.5, 0.8)
    profile = [(0, 0), (base, 0), (base, 0.04), (stem * 1.2, 0.1)]
    profile += [tuple(p) for p in smooth_profile([stem, stem * u(rng, 0.8, 1.1), head * 0.95],
                                                 [0.12, length * 0.5, length * 0.85], n=10)]
    face = [(head, length * 0.9), (head * 0.9, length), (0, length)]
    if chance(rng, 0.5):
        face = [(head, length * 0.9), (head * 0.9, length), (head * 0.5, length),
                (head * 0.45, length - 0.04), (0, length - 0.04)]
    sides = pick(rng, (48, 48, 6, 8))
    return g.along(g.lathe(profile + face, segments=sides), "z")


def clothes_hanger(rng: Rng) -> Mesh:
    """A clothes hanger: triangular or curved body swept from a round wire, and a hook."""
    w, drop = u(rng, 1.6, 2.2), u(rng, 0.35, 0.6)
    t = np.linspace(-1.0, 1.0, 41)
    shoulder = drop * (1 - np.abs(t) ** u(rng, 0.8, 1.6))
    top = np.stack([t * w / 2, shoulder, np.zeros_like(t)], 1)
    wire = u(rng, 0.03, 0.06)
    section = g.ellipse_section(wire * 2, wire * 2, 12) if chance(rng, 0.5) else \
        g.rounded_rect(wire * 2.4, wire * 1.2, wire * 0.4, corner=4)
    parts = [g.sweep(top, section, (0.0, 0.0, 1.0))]
    if chance(rng, 0.6):
        parts.append(g.rod((-w / 2, 0.0, 0.0), (w / 2, 0.0, 0.0), wire, segments=12))
    hook = g.arc_path((0.0, drop + 0.28, 0.0), (0.14, 0.14), -90.0, 200.0, 30)
    hook[:, 0] = -hook[:, 0] + 0.0
    stem = np.array([[0.0, drop - 0.02, 0.0], [0.0, drop + 0.1, 0.0]])
    path = np.concatenate([stem, hook[hook[:, 1] > drop + 0.12]])
    parts.append(g.sweep(path, g.ellipse_section(0.04, 0.04, 12), (0.0, 0.0, 1.0)))
    return g.merge(parts)
