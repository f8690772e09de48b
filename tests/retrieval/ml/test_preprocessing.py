import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from retrieval.ml.config import PreprocessConfig
from retrieval.ml.preprocessing import (
    min_pool_to,
    pad_to_square,
    preprocess_batch,
    preprocess_image,
    shrink_keeping_lines,
    to_grayscale,
    trim_margins,
)

pytestmark = pytest.mark.ml

CFG = PreprocessConfig(image_size=64)


def _drawing(canvas: tuple[int, int] = (200, 120), offset: tuple[int, int] = (0, 0)) -> Image.Image:
    """A black-on-white drawing (80 x 60 px of strokes) placed at ``offset`` on a white canvas."""
    img = Image.new("L", canvas, 255)
    draw = ImageDraw.Draw(img)
    x, y = offset
    draw.rectangle([x, y, x + 79, y + 59], outline=0, width=3)
    draw.ellipse([x + 15, y + 10, x + 55, y + 50], outline=0, width=2)
    draw.line([x, y + 59, x + 79, y], fill=0, width=2)
    return img


def _white_value(cfg: PreprocessConfig) -> float:
    return (1.0 - cfg.mean[0]) / cfg.std[0]


def test_returns_normalised_float32_tensor_of_configured_size() -> None:
    out = preprocess_image(_drawing(), CFG)

    assert out.shape == (3, 64, 64) and out.dtype == torch.float32
    assert out.max().item() == pytest.approx(_white_value(CFG))
    assert out.min().item() < _white_value(CFG) - 1.0
    assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])


def test_trimming_makes_position_on_the_page_irrelevant() -> None:
    corner = preprocess_image(_drawing((400, 300), (5, 7)), CFG)
    centre = preprocess_image(_drawing((400, 300), (200, 150)), CFG)

    assert torch.equal(corner, centre)


def test_trim_margins_crops_to_ink_bounding_box() -> None:
    gray = np.full((50, 40), 255, dtype=np.uint8)
    gray[10:20, 5:8] = 0
    gray[30, 25] = 200  # lighter than ink but darker than the threshold

    assert trim_margins(gray, 240).shape == (21, 21)
    assert trim_margins(gray, 150).shape == (10, 3)


def test_blank_image_is_kept_whole_and_becomes_white() -> None:
    blank = Image.new("L", (30, 70), 255)

    assert trim_margins(np.asarray(blank), 240).shape == (70, 30)
    out = preprocess_image(blank, CFG)
    assert torch.allclose(out, torch.full_like(out, _white_value(CFG)))


def test_pad_to_square_centres_with_white() -> None:
    gray = np.zeros((10, 30), dtype=np.uint8)

    square = pad_to_square(gray)

    assert square.shape == (30, 30)
    assert (square[:10] == 255).all() and (square[20:] == 255).all()
    assert (square[10:20] == 0).all()


def test_wide_drawing_gets_white_bands_unless_stretched() -> None:
    wide = Image.new("L", (400, 100), 0)  # all ink: trimming keeps it whole

    padded = preprocess_image(wide, CFG)
    stretched = preprocess_image(wide, PreprocessConfig(image_size=64, pad_to_square=False))

    assert padded[0, 0, 32].item() == pytest.approx(_white_value(CFG))
    assert padded[0, 32, 32].item() < 0
    assert (stretched < 0).all()


@pytest.mark.parametrize("mode", ["1", "P", "RGB", "RGBA", "LA", "CMYK", "I", "F"])
def test_every_mode_gives_the_grey_levels_of_mode_l(mode: str) -> None:
    img = _drawing()

    converted = img.convert(mode)

    assert np.array_equal(to_grayscale(converted), np.asarray(img))


def test_sixteen_bit_grey_is_scaled_to_eight_bits() -> None:
    gray = np.asarray(_drawing()).astype(np.uint16) * 257
    img = Image.fromarray(gray)
    assert img.mode.startswith("I;16")

    assert np.array_equal(to_grayscale(img), np.asarray(_drawing()))


def test_transparent_background_reads_as_white_paper() -> None:
    rgba = Image.new("RGBA", (100, 80), (0, 0, 0, 0))  # transparent *black*
    ImageDraw.Draw(rgba).rectangle([20, 20, 60, 50], outline=(0, 0, 0, 255), width=3)

    gray = to_grayscale(rgba)

    assert gray[0, 0] == 255 and gray[20, 20] == 0
    assert trim_margins(gray, 240).shape == (31, 41)


def test_palette_image_with_transparency_reads_as_white_paper() -> None:
    palette = Image.new("P", (50, 50), 0)
    palette.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    palette.info["transparency"] = 0
    palette.putpixel((10, 10), 1)

    assert to_grayscale(palette)[0, 0] == 255


def test_single_channel_output_without_grayscale_to_rgb() -> None:
    cfg = PreprocessConfig(image_size=32, grayscale_to_rgb=False, mean=(0.5,), std=(0.5,))

    assert preprocess_image(_drawing(), cfg).shape == (1, 32, 32)


def test_three_channel_means_apply_per_channel() -> None:
    cfg = PreprocessConfig(image_size=16, mean=(1.0, 0.5, 0.0), std=(1.0, 1.0, 1.0))

    out = preprocess_image(Image.new("L", (16, 16), 255), cfg)

    assert out[:, 0, 0].tolist() == pytest.approx([0.0, 0.5, 1.0])


@pytest.mark.parametrize("thin_lines", ["halving", "min-pool"])
def test_thin_lines_keeps_one_pixel_strokes_dark(thin_lines: str) -> None:
    sheet = Image.new("1", (2048, 2048), 1)
    draw = ImageDraw.Draw(sheet)
    draw.rectangle([0, 0, 2047, 2047], outline=0, width=1)
    draw.line([0, 1001, 2047, 1001], fill=0, width=1)

    kept = preprocess_image(sheet, PreprocessConfig(image_size=64, thin_lines=thin_lines))
    plain = preprocess_image(sheet, PreprocessConfig(image_size=64))

    # Inside the border: the line darkens a row by half the ink range, or by a thirtieth.
    assert kept[0, 8:56, 8:56].min().item() < -1.5
    assert plain[0, 8:56, 8:56].min().item() > -0.5


def _line_sheet(side: int) -> Image.Image:
    """A square frame with a diagonal and a cross, strokes one pixel wide, ``side`` pixels."""
    sheet = Image.new("1", (side, side), 1)
    draw = ImageDraw.Draw(sheet)
    draw.rectangle([0, 0, side - 1, side - 1], outline=0, width=1)
    draw.line([0, 0, side - 1, side - 1], fill=0, width=1)
    draw.line([side // 3, 0, side // 3, side - 1], fill=0, width=1)
    draw.line([0, side // 2, side - 1, side // 2], fill=0, width=1)
    return sheet


def test_min_pool_gives_strokes_the_same_weight_at_any_resolution() -> None:
    # The same drawing scanned at 2,700 and at 2,400 pixels (90 %): halving shrinks the first
    # three times and the second twice, so their strokes come out at different weights;
    # min-pooling to twice the output gives both the same ink.
    def ink(side: int, thin_lines: str) -> float:
        out = preprocess_image(_line_sheet(side), PreprocessConfig(image_size=320, thin_lines=thin_lines))
        return float((1.0 - (out[0] * 0.25 + 1.0)).sum())  # INK_STD 0.25, INK_MEAN 1: ink = 1 - pixel

    halving = ink(2700, "halving") / ink(2430, "halving")
    min_pool = ink(2700, "min-pool") / ink(2430, "min-pool")

    assert halving > 1.4
    assert min_pool == pytest.approx(1.0, abs=0.05)


def test_min_pool_to_keeps_the_darkest_pixel_of_each_block() -> None:
    gray = np.full((1001, 333), 255, dtype=np.uint8)
    gray[500, 7] = 0
    gray[1000, 332] = 17

    out = min_pool_to(gray, 100)

    assert out.shape == (100, 100)
    assert out[50, 2] == 0 and out[99, 99] == 17  # row 500 starts block 50 (50 * 1001 // 100)
    assert (out == 255).sum() == 100 * 100 - 2
    assert min_pool_to(gray, 2000) is gray


@pytest.mark.parametrize(("shape", "side"), [((1001, 333), 100), ((2682, 1196), 640), ((641, 640), 640), ((97, 5000), 31)])
def test_min_pool_to_is_the_minimum_of_each_block(shape: tuple[int, int], side: int) -> None:
    gray = np.random.default_rng(sum(shape)).integers(0, 256, size=shape, dtype=np.uint8)

    def blocks(length: int) -> list[slice]:
        if length <= side:
            return [slice(i, i + 1) for i in range(length)]
        return [slice(i * length // side, (i + 1) * length // side) for i in range(side)]

    expected = np.array([[gray[r, c].min() for c in blocks(shape[1])] for r in blocks(shape[0])], dtype=np.uint8)
    assert np.array_equal(min_pool_to(gray, side), expected)


def test_shrink_keeping_lines_stops_within_twice_the_target() -> None:
    gray = np.full((1001, 333), 255, dtype=np.uint8)
    gray[500, :] = 0

    out = shrink_keeping_lines(gray, 100)

    assert max(out.shape) <= 200 and out.min() == 0


def test_batch_stacks_single_results() -> None:
    images = [_drawing(), _drawing((300, 300), (40, 40)).convert("RGB"), Image.new("1", (9, 9), 1)]

    batch = preprocess_batch(images, CFG)

    assert batch.shape == (3, 3, 64, 64)
    for row, img in zip(batch, images, strict=True):
        assert torch.equal(row, preprocess_image(img, CFG))


def test_empty_batch_has_the_right_shape() -> None:
    assert preprocess_batch([], CFG).shape == (0, 3, 64, 64)


def test_bad_arguments_raise_type_error() -> None:
    with pytest.raises(TypeError):
        preprocess_batch(_drawing(), CFG)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        preprocess_batch([np.zeros((4, 4))], CFG)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        preprocess_image(_drawing(), {"image_size": 64})  # type: ignore[arg-type]
