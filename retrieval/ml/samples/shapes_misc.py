"""Shape templates for toys, footwear and small appliances (y up, front towards +z)."""

from __future__ import annotations

import numpy as np

from retrieval.ml.samples import geometry as g
from retrieval.ml.samples.geometry import Mesh
from retrieval.ml.samples.variation import chance, count, pick, u

Rng = np.random.Generator


def _wheel(radius: float, width: float, at: tuple[float, float, float]) -> Mesh:
    """A tyre with a hub cap, its axle along z."""
    hub = radius * 0.55
    tyre = [(0, -width / 2), (radius * 0.85, -width / 2), (radius, -width / 2 + width * 0.25),
            (radius, width / 2 - width * 0.25), (radius * 0.85, width / 2), (hub, width / 2),
            (hub, width / 2 - 0.02), (0, width / 2 - 0.02)]
    return g.along(g.lathe(tyre, segments=40), "z", at)


def toy_vehicle(rng: Rng) -> Mesh:
    """A toy car: body, cabin, four wheels, optional spoiler; the nose points at the viewer."""
    length, width, height = u(rng, 1.6, 2.2), u(rng, 0.8, 1.0), u(rng, 0.25, 0.4)
    wheel_r = u(rng, 0.16, 0.24)
    y0 = wheel_r * 0.6
    parts = [g.box((length, height, width), (0, y0 + height / 2, 0), radius=u(rng, 0.02, 0.2),
                   bevel=u(rng, 0.02, 0.06))]
    cab_l, cab_h = length * u(rng, 0.35, 0.6), u(rng, 0.2, 0.38)
    xc = length * u(rng, -0.2, 0.05)
    front, back = cab_l * u(rng, 0.15, 0.35), cab_l * u(rng, 0.05, 0.25)
    outline = np.array([(xc - cab_l / 2, 0.0), (xc + cab_l / 2, 0.0),
                        (xc + cab_l / 2 - front, cab_h), (xc - cab_l / 2 + back, cab_h)])
    top = y0 + height - 0.01
    parts.append(g.moved(g.extrude_z(outline, -width * 0.42, width * 0.42, bevel=0.02),
                         (0, top, 0)))
    window = (outline - [xc, cab_h / 2]) * 0.8 + [xc, cab_h / 2]
    parts.append(g.moved(g.extrude_z(window, -width * 0.425, width * 0.425), (0, top, 0)))
    for x in (-length * 0.32, length * 0.32):
        for z in (-width / 2, width / 2):
            parts.append(_wheel(wheel_r, 0.14, (x, wheel_r, z)))
    if chance(rng, 0.4):
        parts.append(g.box((0.12, 0.03, width * 0.9), (-length / 2 + 0.08, top + 0.12, 0)))
        for z in (-0.25, 0.25):
            parts.append(g.box((0.04, 0.12, 0.03), (-length / 2 + 0.08, top + 0.05, z * width)))
    for z in (-width * 0.3, width * 0.3):
        light = g.along(g.cylinder(0.06, 0.0, 0.015, segments=20), "x",
                        (length / 2 - 0.005, y0 + height * 0.6, z))
        parts.append(light)
    return g.moved(g.merge(parts), matrix=g.rotation("y", -90.0))


SOLE_STATIONS = (-0.5, -0.3, 0.0, 0.2, 0.35, 0.5)  # along the length, heel to toe
SOLE_WIDTHS = (0.62, 0.68, 0.55, 0.95, 0.9, 0.75)  # of the full width


def _sole_outline(length: float, width: float, n: int = 72) -> np.ndarray:
    t = 2 * np.pi * np.arange(n) / n
    x = length / 2 * np.cos(t)
    widths = np.interp(x / length, SOLE_STATIONS, SOLE_WIDTHS)
    side = np.sign(np.sin(t)) * np.abs(np.sin(t)) ** 0.6
    return np.stack([x, -width / 2 * widths * side], 1)


def shoe_sole(rng: Rng) -> Mesh:
    """A shoe sole, toe towards +x: outsole, midsole, heel block and tread lugs."""
    length, width = u(rng, 2.4, 3.0), u(rng, 0.9, 1.1)
    outline = _sole_outline(length, width)
    t_out, t_mid = u(rng, 0.05, 0.1), u(rng, 0.08, 0.2)
    parts = [g.prism(outline, 0.0, t_out, bevel=0.015),
             g.prism(outline * [1.0, 1.04], t_out, t_out + t_mid, bevel=0.02)]
    if chance(rng, 0.6):
        heel = outline[outline[:, 0] < -length * 0.12]
        if len(heel) >= 3:
            parts.append(g.prism(heel, t_out + t_mid, t_out + t_mid + u(rng, 0.08, 0.2),
                                 bevel=0.02))
    lug = pick(rng, ("box", "round", "bar"))
    pitch = u(rng, 0.16, 0.24)
    for x in np.arange(-length / 2 + 0.2, length / 2 - 0.15, pitch):
        half = width / 2 * np.interp(x / length, SOLE_STATIONS, SOLE_WIDTHS) - 0.1
        zs = np.arange(-half, half + 1e-9, pitch) if lug != "bar" else [0.0]
        for z in zs:
            if lug == "bar":
                parts.append(g.box((pitch * 0.35, 0.03, 2 * half), (x, -0.01, 0), bevel=0.004))
            elif lug == "box":
                parts.append(g.box((pitch * 0.5, 0.03, pitch * 0.5), (x, -0.01, z), bevel=0.004))
            else:
                parts.append(g.cylinder(pitch * 0.25, -0.025, 0.005, segments=12))
                parts[-1] = g.moved(parts[-1], (x, 0, z))
    return g.merge(parts)


def wireless_router(rng: Rng) -> Mesh:
    """A router: low box, two to four antennas at the back, status lights in front."""
    w, h, d = u(rng, 1.2, 1.8), u(rng, 0.15, 0.3), u(rng, 0.7, 1.0)
    parts = [g.box((w, h, d), (0, h / 2 + 0.04, 0), radius=u(rng, 0.02, 0.15),
                   bevel=u(rng, 0.01, 0.04))]
    antennas = count(rng, 2, 4)
    tilt = u(rng, 0.0, 0.25)
    ant_l = u(rng, 0.6, 1.0)
    for k in range(antennas):
        x = (k - (antennas - 1) / 2) * w * 0.8 / max(antennas - 1, 1)
        base = np.array([x, h * 0.6, -d / 2 - 0.04])
        spread = (k - (antennas - 1) / 2) * tilt * 0.5
        tip = base + np.array([spread * ant_l, ant_l, -tilt * ant_l * 0.3])
        parts.append(g.rod(base, tip, 0.04, r1=0.03, segments=16))
        parts.append(g.moved(g.along(g.cylinder(0.06, 0.0, 0.08, segments=16), "z"),
                             base + np.array([0, 0, -0.02])))
    for k in range(count(rng, 3, 6)):
        parts.append(g.moved(g.along(g.cylinder(0.015, 0.0, 0.01, segments=10), "z"),
                             (-w * 0.3 + k * 0.1, h * 0.55, d / 2 - 0.002)))
    for x in (-w / 2 + 0.1, w / 2 - 0.1):
        for z in (-d / 2 + 0.1, d / 2 - 0.1):
            parts.append(g.moved(g.cylinder(0.05, 0.0, 0.04, segments=16), (x, 0, z)))
    return g.merge(parts)


def usb_flash_drive(rng: Rng) -> Mesh:
    """A USB stick lying flat, plug towards +x, optional lanyard loop and grip ribs."""
    length, width, t = u(rng, 0.9, 1.4), u(rng, 0.3, 0.45), u(rng, 0.1, 0.16)
    outline = g.rounded_rect(length, width, width * u(rng, 0.05, 0.45))
    parts = [g.prism(outline, 0.0, t, bevel=t * u(rng, 0.1, 0.3))]
    plug_l = u(rng, 0.3, 0.42)
    parts.append(g.box((plug_l, 0.045, 0.24), (length / 2 + plug_l / 2 - 0.02, t / 2, 0)))
    for z in (-0.05, 0.05):
        parts.append(g.box((0.05, 0.004, 0.04), (length / 2 + plug_l * 0.6, t / 2 + 0.023, z)))
    if chance(rng, 0.6):
        parts.append(g.moved(g.torus(0.06, 0.018, sides=8), (-length / 2 - 0.03, t / 2, 0)))
    for k in range(count(rng, 0, 4)):
        parts.append(g.box((0.02, 0.01, width * 0.5), (-length * 0.2 + k * 0.06, t, 0)))
    return g.merge(parts)


def hair_dryer(rng: Rng) -> Mesh:
    """A hair dryer: barrel along x with a nozzle, angled handle, rear grille ring."""
    r, length = u(rng, 0.2, 0.3), u(rng, 0.9, 1.3)
    nozzle = u(rng, 0.1, 0.3)
    barrel = [(0, 0), (r * 0.9, 0), (r, 0.05), (r, length * 0.55), (r * 0.8, length * 0.8),
              (r * 0.6, length - nozzle), (r * 0.6, length), (r * 0.5, length),
              (r * 0.5, length - 0.03), (0, length - 0.03)]
    parts = [g.along(g.lathe(barrel), "x", (-length * 0.4, 0, 0))]
    parts.append(g.moved(g.along(g.torus(r * 0.6, 0.02, sides=8), "x"),
                         (-length * 0.4 - 0.005, 0, 0)))
    handle_l, lean = u(rng, 0.6, 0.9), u(rng, 0.0, 0.3)
    y = np.linspace(0.0, -handle_l, 12)
    path = np.stack([-0.3 * lean * y, y, np.zeros_like(y)], 1)
    path[:, 0] -= length * 0.05
    section = g.rounded_rect(u(rng, 0.16, 0.22), u(rng, 0.14, 0.2), 0.05, corner=4)
    parts.append(g.sweep(path, section, (0.0, 0.0, 1.0), scales=np.linspace(1.0, 0.9, 12)))
    parts.append(g.box((0.05, 0.14, 0.06), (path[3, 0] + 0.1, path[3, 1], 0), radius=0.02))
    return g.merge(parts)
