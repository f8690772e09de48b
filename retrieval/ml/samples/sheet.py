"""One figure per image: the view centred with margins and a "FIG. n" label below it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from retrieval.ml.samples.geometry import Mesh
from retrieval.ml.samples.render import EdgeTable, Frame, Style, draw_view, projected_bounds

MARGIN = 0.07  # of the image's long side, on every side
LABEL = 0.032  # label cap height, of the long side
GAP = 0.035  # between the drawing and its label
MIN_SHORT_SIDE = 0.5  # each side is at least this fraction of image_size
ENLARGE = 1.6  # how much more a small view may be magnified than the largest one


@dataclass(frozen=True)
class Layout:
    """Canvas size and where the drawing and the label go."""

    frame: Frame
    label_y: int
    font_size: int


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=8)
def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow without FreeType: bitmap font
        return ImageFont.load_default()


def _label_space(image_size: int) -> tuple[float, int]:
    font_size = max(int(round(LABEL * image_size / 0.72)), 8)
    return GAP * image_size + font_size, font_size


def fit_scale(bounds: tuple[float, float, float, float], image_size: int) -> float:
    """Pixels per unit that make the drawing fill a canvas of long side image_size."""
    x0, y0, x1, y1 = bounds
    margin, label_space = MARGIN * image_size, _label_space(image_size)[0]
    return min((image_size - 2 * margin) / max(x1 - x0, 1e-9),
               (image_size - 2 * margin - label_space) / max(y1 - y0, 1e-9))


def layout(bounds: tuple[float, float, float, float], image_size: int, scale: float) -> Layout:
    """Place the drawing at the given scale, centred, with margins and the label below."""
    x0, y0, x1, y1 = bounds
    width, height = (x1 - x0) * scale, (y1 - y0) * scale
    margin = MARGIN * image_size
    label_space, font_size = _label_space(image_size)
    canvas_w = int(round(max(width + 2 * margin, MIN_SHORT_SIDE * image_size)))
    canvas_h = int(round(max(height + 2 * margin + label_space, MIN_SHORT_SIDE * image_size)))
    top = (canvas_h - label_space - height) / 2
    frame = Frame(scale=scale, origin_x=canvas_w / 2 - (x0 + x1) / 2 * scale,
                  origin_y=top + y1 * scale, width=canvas_w, height=canvas_h)
    return Layout(frame, int(round(top + height + GAP * image_size)), font_size)


def view_scales(bounds: list[tuple[float, float, float, float]], image_size: int) -> list[float]:
    """Scales for the views of one object: one common scale (the largest view fills the
    canvas), with small views enlarged by at most ENLARGE, as on a real drawing sheet."""
    fits = [fit_scale(b, image_size) for b in bounds]
    common = min(fits)
    return [min(fit, ENLARGE * common) for fit in fits]


def _label(image: Image.Image, text: str, y: int, font_size: int) -> None:
    draw = ImageDraw.Draw(image)
    font = _font(font_size)
    left, top, right, _ = draw.textbbox((0, 0), text, font=font)
    draw.text(((image.width - (right - left)) / 2 - left, y - top), text, fill=0, font=font)


def ink_to_gray(ink: np.ndarray) -> np.ndarray:
    """Coverage in [0, 1] to 8-bit grey, black lines on white with crisp centres."""
    return np.round(255.0 * (1.0 - np.clip(ink * 1.6, 0.0, 1.0))).astype(np.uint8)


def figure_image(mesh: Mesh, table: EdgeTable, basis: np.ndarray, *, number: int,
                 image_size: int, style: Style, scale: float | None = None) -> Image.Image:
    """The figure of one view as a grey-scale image with its "FIG. n" label.

    scale is in pixels per unit; by default the view fills the canvas.
    """
    bounds = projected_bounds(mesh, basis)
    plan = layout(bounds, image_size, fit_scale(bounds, image_size) if scale is None else scale)
    image = Image.fromarray(ink_to_gray(draw_view(mesh, table, basis, plan.frame, style)), "L")
    _label(image, f"FIG. {number}", plan.label_y, plan.font_size)
    return image


def png_bytes(image: Image.Image) -> bytes:
    """PNG encoding without timestamps or other varying chunks (byte-identical per image)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
