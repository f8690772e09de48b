"""Geometry and hidden-line drawing of the synthetic corpus generator."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.ml.samples import geometry as g
from retrieval.ml.samples.categories import CATEGORIES
from retrieval.ml.samples.render import VIEWS, Frame, Style, draw_view, edge_table, view_basis
from retrieval.ml.samples.sheet import figure_image, png_bytes

SCALE = 100.0  # pixels per unit in the hand-made frames below
SIZE = 240


def _front_frame() -> Frame:
    return Frame(scale=SCALE, origin_x=SIZE / 2, origin_y=SIZE / 2, width=SIZE, height=SIZE)


def _box_with_back_feature() -> g.Mesh:
    """A 1 x 1 x 0.6 box centred at the origin with a small box on its back face."""
    return g.merge([g.box((1.0, 1.0, 0.6)), g.box((0.3, 0.3, 0.3), (0.1, 0.1, -0.4))])


def _ink(mesh: g.Mesh, view: str) -> np.ndarray:
    return draw_view(mesh, edge_table(mesh), view_basis(view), _front_frame(), Style()) > 0.3


def _pixel(x: float, y: float) -> tuple[int, int]:
    return int(SIZE / 2 - y * SCALE), int(SIZE / 2 + x * SCALE)


@pytest.mark.ml
def test_hidden_lines_are_removed_in_front_view_and_shown_in_rear_view() -> None:
    mesh = _box_with_back_feature()
    front, rear = _ink(mesh, "front elevational"), _ink(mesh, "rear elevational")
    # The big box's outline is drawn in both views.
    for ink in (front, rear):
        row, col = _pixel(0.0, 0.5)
        assert ink[row - 2:row + 3, col].any()
    # Interior of the big box's face: empty from the front, the small box's outline from behind.
    inner = (slice(_pixel(0, 0.45)[0], _pixel(0, -0.45)[0]),
             slice(_pixel(-0.45, 0)[1], _pixel(0.45, 0)[1]))
    assert front[inner].sum() == 0
    assert rear[inner].sum() > 4 * 0.3 * SCALE
    # In the rear view x is mirrored: the small box's left edge sits at x = -0.25.
    row, col = _pixel(-0.25, 0.1)
    assert rear[row, col - 2:col + 3].any()


@pytest.mark.ml
def test_feature_on_the_front_is_drawn_only_in_front_view() -> None:
    mesh = g.merge([g.box((1.0, 1.0, 0.6)), g.box((0.3, 0.3, 0.3), (0.1, 0.1, 0.4))])
    front, rear = _ink(mesh, "front elevational"), _ink(mesh, "rear elevational")
    inner = (slice(_pixel(0, 0.45)[0], _pixel(0, -0.45)[0]),
             slice(_pixel(-0.45, 0)[1], _pixel(0.45, 0)[1]))
    assert front[inner].sum() > 4 * 0.3 * SCALE
    assert rear[inner].sum() == 0


@pytest.mark.ml
def test_the_seven_views_of_one_object_differ() -> None:
    mug = next(c for c in CATEGORIES if c.name == "coffee mug")
    mesh = mug.build(np.random.default_rng(0))
    table = edge_table(mesh)
    frame = Frame(scale=120.0, origin_x=140, origin_y=140, width=280, height=280)
    inks = [draw_view(mesh, table, view_basis(v), frame, Style()) > 0.3 for v in VIEWS]
    for i in range(len(VIEWS)):
        for j in range(i + 1, len(VIEWS)):
            assert (inks[i] != inks[j]).sum() > 150, (VIEWS[i], VIEWS[j])


@pytest.mark.ml
def test_every_category_builds_a_closed_finite_mesh() -> None:
    rng = np.random.default_rng(1)
    for category in CATEGORIES:
        mesh = category.build(rng)
        table = edge_table(mesh)
        assert np.isfinite(mesh.vertices).all(), category.name
        assert (table.faces[:, 1] >= 0).all(), category.name
        assert len(mesh.faces) < 12_000, category.name


@pytest.mark.ml
def test_primitives_are_outward_oriented() -> None:
    for mesh in (g.box((1, 2, 3), bevel=0.1), g.sphere(1.0), g.torus(1.0, 0.2),
                 g.rod((0, 0, 0), (1, -1, 0.5), 0.1), g.extrude_z(g.polygon(6, 1.0), 0, 0.3),
                 g.lathe([(0, 0), (1, 0), (1, 1), (0.9, 1), (0.9, 0.1), (0, 0.1)])):
        v = mesh.vertices[mesh.faces]
        volume = np.einsum("ij,ij->", v[:, 0], np.cross(v[:, 1], v[:, 2])) / 6
        assert volume > 0


@pytest.mark.ml
def test_figure_has_a_label_and_encodes_deterministically() -> None:
    mesh = g.box((1.0, 0.5, 0.5))
    table = edge_table(mesh)
    images = [figure_image(mesh, table, view_basis("front perspective"), number=3,
                           image_size=300, style=Style()) for _ in range(2)]
    pixels = np.asarray(images[0])
    assert max(pixels.shape) == 300
    label_rows = pixels[int(pixels.shape[0] * 0.8):]
    assert (label_rows < 128).any()
    assert png_bytes(images[0]) == png_bytes(images[1])


@pytest.mark.ml
def test_unknown_view_raises_value_error() -> None:
    with pytest.raises(ValueError):
        view_basis("oblique")
