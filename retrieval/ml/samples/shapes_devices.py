"""Shape templates for electronic devices and hand-held articles (y up, front towards +z)."""

from __future__ import annotations

import numpy as np

from retrieval.ml.samples import geometry as g
from retrieval.ml.samples.geometry import Mesh
from retrieval.ml.samples.variation import chance, count, pick, smooth_profile, u

Rng = np.random.Generator


def _slab(w: float, h: float, t: float, radius: float, bevel: float) -> Mesh:
    """A flat rounded-rectangle slab facing the viewer, its back at z = 0."""
    return g.extrude_z(g.rounded_rect(w, h, radius), 0.0, t, bevel=bevel)


def _disc(radius: float, z: float, height: float, at: tuple[float, float]) -> Mesh:
    """A thin disc facing +z on a front surface at depth z."""
    return g.moved(g.along(g.cylinder(radius, 0.0, height, segments=32), "z"), (*at, z))


def mobile_phone(rng: Rng) -> Mesh:
    """A phone: thin slab, raised screen, camera bump on the back, side buttons."""
    w, h, t = u(rng, 0.65, 0.8), u(rng, 1.3, 1.65), u(rng, 0.06, 0.1)
    radius = u(rng, 0.05, 0.14)
    parts = [_slab(w, h, t, radius, t * 0.25)]
    border = u(rng, 0.02, 0.05)
    parts.append(_slab(w - 2 * border, h - 2 * border, 0.006, radius * 0.8, 0.0))
    parts[-1] = g.moved(parts[-1], (0, 0, t - 0.004))
    bump_w = u(rng, 0.2, 0.4)
    bump = g.moved(_slab(bump_w, bump_w * u(rng, 0.9, 1.3), 0.02, 0.05, 0.005),
                   (-w / 2 + bump_w / 2 + 0.06, h / 2 - bump_w / 2 - 0.08, -0.018))
    parts.append(bump)
    lenses = count(rng, 1, 3)
    for k in range(lenses):
        y = h / 2 - 0.14 - k * 0.11
        lens = g.moved(g.along(g.cylinder(0.04, -0.03, 0.0, segments=24), "z"),
                       (-w / 2 + 0.15, y, -0.016))
        parts.append(lens)
    for k in range(count(rng, 1, 3)):
        y = h * (0.25 - 0.12 * k)
        parts.append(g.box((0.015, 0.1, t * 0.4), (w / 2 + 0.004, y, t / 2), radius=0.004))
    return g.merge(parts)


def remote_control(rng: Rng) -> Mesh:
    """A remote control: long slab, a grid of buttons, optional navigation ring."""
    w, h, t = u(rng, 0.35, 0.5), u(rng, 1.4, 2.0), u(rng, 0.1, 0.18)
    outline = g.rounded_rect(w, h, w * u(rng, 0.1, 0.5)) if chance(rng, 0.6) else \
        g.superellipse(w, h, u(rng, 3.0, 6.0), n=64)
    parts = [g.extrude_z(outline, 0.0, t, bevel=t * u(rng, 0.1, 0.3))]
    cols, rows = count(rng, 2, 3), count(rng, 3, 5)
    pitch = w * 0.7 / cols
    radius = pitch * u(rng, 0.25, 0.38)
    y_top = h * 0.1
    if chance(rng, 0.6):
        ring = g.moved(g.along(g.torus(w * 0.25, 0.015, segments=40, sides=8), "z"),
                       (0, h * 0.22, t))
        parts += [ring, _disc(w * 0.1, t - 0.01, 0.02, (0.0, h * 0.22))]
    else:
        y_top = h * 0.3
    for i in range(rows):
        for j in range(cols):
            x = (j - (cols - 1) / 2) * pitch
            parts.append(_disc(radius, t - 0.01, 0.025, (x, y_top - i * pitch)))
    parts.append(_disc(w * 0.08, t - 0.01, 0.025, (w * 0.25, h * 0.42)))
    return g.merge(parts)


def loudspeaker(rng: Rng) -> Mesh:
    """A loudspeaker cabinet with woofer, tweeter, optional port and feet."""
    w, h, d = u(rng, 0.5, 0.8), u(rng, 0.8, 1.4), u(rng, 0.5, 0.8)
    parts = [g.box((w, h, d), (0, h / 2, 0), radius=u(rng, 0.0, 0.08), bevel=u(rng, 0.0, 0.03))]
    front = d / 2
    woofer = w * u(rng, 0.35, 0.44)
    y_w = h * u(rng, 0.3, 0.4)
    drivers = [(woofer, y_w), (w * u(rng, 0.1, 0.16), h * u(rng, 0.7, 0.85))]
    for radius, y in drivers:
        parts.append(g.moved(g.along(g.torus(radius * 0.9, radius * 0.1, sides=12), "z"),
                             (0, y, front)))
        parts.append(_disc(radius, front - 0.01, 0.015, (0.0, y)))
        cap = g.moved(g.sphere(radius * 0.35, segments=32, rings=12), scale=(1, 1, 0.35))
        parts.append(g.moved(cap, (0, y, front)))
    if chance(rng, 0.5):
        parts.append(g.moved(g.along(g.torus(w * 0.07, 0.015, sides=8), "z"),
                             (0, h * 0.08 if chance(rng, 0.5) else h * 0.6, front)))
    if chance(rng, 0.5):
        for x in (-w / 2 + 0.08, w / 2 - 0.08):
            for z in (-d / 2 + 0.08, d / 2 - 0.08):
                parts.append(g.moved(g.cylinder(0.04, -0.04, 0.0, segments=16), (x, 0, z)))
    return g.merge(parts)


def smart_speaker(rng: Rng) -> Mesh:
    """A cylindrical smart speaker: rounded top, control ring, banded grille."""
    r, h = u(rng, 0.3, 0.45), u(rng, 0.5, 1.2)
    fillet = r * u(rng, 0.1, 0.5)
    a = np.linspace(0.0, np.pi / 2, 6)
    profile = [(0, 0), (r - 0.03, 0), (r, 0.03)]
    for k in range(count(rng, 0, 3)):
        y = h * (0.25 + 0.2 * k)
        profile += [(r, y), (r - 0.012, y + 0.01), (r, y + 0.02)]
    profile += [(r - fillet + fillet * np.cos(t), h - fillet + fillet * np.sin(t)) for t in a]
    profile += [(0, h)]
    parts = [g.lathe(profile)]
    if chance(rng, 0.7):
        parts.append(g.moved(g.torus(r * 0.5, 0.012, sides=8), (0, h, 0)))
    for k in range(count(rng, 0, 4)):
        angle = 2 * np.pi * k / 4
        parts.append(g.moved(g.cylinder(0.025, h - 0.01, h + 0.005, segments=12),
                             (r * 0.25 * np.cos(angle), 0, r * 0.25 * np.sin(angle))))
    return g.merge(parts)


def computer_mouse(rng: Rng) -> Mesh:
    """A computer mouse: a lofted hump, scroll wheel, optional side buttons."""
    length, width, height = u(rng, 1.0, 1.3), u(rng, 0.55, 0.7), u(rng, 0.3, 0.42)
    peak = u(rng, -0.3, 0.0)
    zs = np.linspace(-length / 2, length / 2, 20)[1:-1]
    s = zs / (length / 2)
    half_w = width / 2 * (1 - np.abs(s) ** u(rng, 2.5, 4.0)) ** 0.3
    crest = height * (1 - np.abs((s - peak) / (1 + abs(peak))) ** 2.2) ** 0.45
    theta = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    c, sn = np.cos(theta), np.sin(theta)
    rings = []
    for z, hw, top in zip(zs, half_w, crest, strict=True):
        y = np.where(sn > 0, top * np.abs(sn) ** 0.7, 0.04 * top * sn)
        rings.append(np.stack([hw * np.sign(c) * np.abs(c) ** 0.6, y, np.full_like(c, z)], 1))
    body = g.loft(np.array(rings), start=(0, crest[0] * 0.3, -length / 2),
                  end=(0, crest[-1] * 0.3, length / 2), shade=True)
    z_wheel = length * 0.25
    y_wheel = height * (1 - np.abs((0.5 - peak) / (1 + abs(peak))) ** 2.2) ** 0.45 * 0.97
    wheel = g.moved(g.along(g.cylinder(0.07, -0.025, 0.025, segments=32), "x"),
                    (0, y_wheel, z_wheel))
    parts = [body, wheel]
    if chance(rng, 0.5):
        for z in (-0.05, 0.08):
            parts.append(g.box((0.02, 0.05, 0.1), (-width / 2 + 0.03, height * 0.35, z),
                               radius=0.01))
    return g.merge(parts)


def flashlight(rng: Rng) -> Mesh:
    """A flashlight along x: tail cap, knurled barrel, flared head, switch."""
    r, length = u(rng, 0.1, 0.16), u(rng, 1.2, 1.8)
    head_r, head_l = r * u(rng, 1.2, 1.8), length * u(rng, 0.18, 0.3)
    profile = [(0, 0), (r * 0.9, 0), (r, 0.03), (r, 0.12), (r * 0.92, 0.14)]
    y = 0.16
    for _ in range(count(rng, 0, 5)):
        profile += [(r * 0.92, y), (r, y + 0.01), (r, y + 0.05), (r * 0.92, y + 0.06)]
        y += 0.08
    body_end = length - head_l
    profile += [(r * 0.92, body_end - 0.1), (r, body_end - 0.08), (r, body_end)]
    profile += [tuple(p) for p in smooth_profile([r, head_r * 0.95, head_r],
                                                 [body_end, body_end + head_l * 0.7, length], 8)]
    profile += [(head_r * 0.85, length), (head_r * 0.85, length - 0.02), (0, length - 0.02)]
    parts = [g.along(g.lathe(profile), "x", (-length / 2, 0, 0))]
    parts.append(g.box((0.12, 0.04, 0.08), (body_end - length / 2 - 0.25, r, 0), radius=0.02))
    return g.merge(parts)


def pen(rng: Rng) -> Mesh:
    """A pen along x: tip cone, grip rings, barrel, end cap and clip."""
    r, length = u(rng, 0.035, 0.06), u(rng, 1.3, 1.6)
    tip = u(rng, 0.1, 0.2)
    profile = [(0, 0), (0.008, 0.0), (0.012, 0.02), (r * 0.8, tip), (r * 0.8, tip + 0.02)]
    grip = u(rng, 0.25, 0.4)
    for k in range(count(rng, 0, 6)):
        y = tip + 0.05 + k * grip / 7
        profile += [(r, y), (r * 1.08, y + 0.01), (r, y + 0.02)]
    profile += [(r, length * 0.6), (r * 1.05, length * 0.62), (r * 1.05, length - 0.05),
                (r * 0.7, length), (0, length)]
    parts = [g.along(g.lathe(profile, segments=pick(rng, (32, 32, 6))), "x",
                     (-length / 2, 0, 0))]
    clip_l = length * u(rng, 0.25, 0.35)
    x0 = length / 2 - 0.08 - clip_l
    parts.append(g.box((clip_l, 0.015, 0.03), (x0 + clip_l / 2, r * 1.05 + 0.02, 0), bevel=0.004))
    parts.append(g.box((0.04, 0.03, 0.03), (length / 2 - 0.1, r * 1.05 + 0.01, 0)))
    return g.merge(parts)


def toothbrush(rng: Rng) -> Mesh:
    """A toothbrush standing on its end: swept handle, head and a field of bristle tufts."""
    length = u(rng, 1.6, 2.0)
    y = np.linspace(0.0, length, 30)
    bend = u(rng, -0.05, 0.05)
    path = np.stack([np.zeros_like(y), y, bend * np.sin(np.pi * y / length)], 1)
    neck = np.interp(y, [0, length * 0.55, length * 0.72, length * 0.8, length],
                     [0.9, 1.0, 0.45, 0.8, 0.8])
    section = g.rounded_rect(u(rng, 0.12, 0.18), u(rng, 0.07, 0.1), 0.03, corner=4)
    handle = g.sweep(path, section, (1.0, 0.0, 0.0), scales=neck)
    parts = [handle]
    head_y0 = length * 0.8
    rows, cols = count(rng, 4, 7), count(rng, 2, 3)
    tuft_h = u(rng, 0.1, 0.16)
    for i in range(rows):
        for j in range(cols):
            x = (j - (cols - 1) / 2) * 0.04
            yy = head_y0 + 0.03 + i * (length - head_y0 - 0.06) / max(rows - 1, 1)
            parts.append(g.moved(g.along(g.cylinder(0.014, 0.0, tuft_h, segments=8), "z"),
                                 (x, yy, 0.02)))
    return g.merge(parts)


def dumbbell(rng: Rng) -> Mesh:
    """A dumbbell along x: grip bar with knurl bands, round or hexagonal heads."""
    grip, bar_r = u(rng, 0.5, 0.7), u(rng, 0.05, 0.07)
    head_r, head_w = u(rng, 0.2, 0.32), u(rng, 0.15, 0.3)
    sides = pick(rng, (48, 6, 6, 8))
    parts = [g.along(g.cylinder(bar_r, -grip / 2 - 0.02, grip / 2 + 0.02, segments=24), "x")]
    for k in range(count(rng, 0, 3)):
        x = (k - 1) * grip / 4
        parts.append(g.along(g.cylinder(bar_r * 1.08, x - 0.03, x + 0.03, segments=24), "x"))
    head = [(0, 0), (head_r * 0.9, 0), (head_r, head_w * 0.12), (head_r, head_w * 0.88),
            (head_r * 0.9, head_w), (0, head_w)]
    turn = g.rotation("y", 180.0 / sides)
    for side in (-1, 1):
        base = g.moved(g.lathe(head, segments=sides), matrix=turn)
        x0 = grip / 2 if side > 0 else -grip / 2 - head_w
        parts.append(g.along(base, "x", (x0, 0, 0)))
    return g.merge(parts)
