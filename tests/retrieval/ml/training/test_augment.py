import pytest
import torch

from retrieval.ml.training.augment import (
    AugmentConfig,
    augment_batch,
    flips,
    gray_to_ink,
    grid_mask,
    ink_to_gray,
    random_erase,
    random_geometry,
    stroke_width,
)

pytestmark = pytest.mark.ml
torch.set_num_threads(1)
SIDE = 32


def _drawings(n: int = 6) -> torch.Tensor:
    """Ink batch: a box outline and a diagonal stroke on white paper, different per image."""
    ink = torch.zeros(n, 1, SIDE, SIDE)
    for i in range(n):
        a, b = 6 + i, 24 - i // 2
        ink[i, 0, a, a:b] = ink[i, 0, b, a:b] = ink[i, 0, a:b, a] = ink[i, 0, a:b, b] = 1.0
        ink[i, 0, range(8, 20), range(10, 22)] = 1.0
    return ink


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


ALWAYS = AugmentConfig(
    hflip=1, vflip=1, crop=1, rotate=1, erase=1, grid_mask=1, dilate=0.5, erode=0.5
)


def test_gray_and_ink_convert_both_ways() -> None:
    gray = torch.tensor([[0, 255, 51]], dtype=torch.uint8)
    ink = gray_to_ink(gray)
    assert ink[0].tolist() == pytest.approx([1.0, 0.0, 0.8])
    assert ink_to_gray(ink)[0].tolist() == pytest.approx([0.0, 1.0, 0.2])


@pytest.mark.parametrize("cfg", [AugmentConfig(), ALWAYS, AugmentConfig.off()])
def test_augment_keeps_shape_range_and_blank_paper(cfg: AugmentConfig) -> None:
    ink = _drawings()
    out = augment_batch(ink, cfg, _gen())
    assert out.shape == ink.shape and out.dtype == torch.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    blank = augment_batch(torch.zeros(4, 1, SIDE, SIDE), cfg, _gen())
    assert float(blank.abs().max()) == 0.0


def test_augment_is_deterministic_given_the_generator() -> None:
    ink = _drawings()
    first = augment_batch(ink, ALWAYS, _gen(3))
    assert torch.equal(first, augment_batch(ink, ALWAYS, _gen(3)))
    assert not torch.equal(first, augment_batch(ink, ALWAYS, _gen(4)))


def test_off_changes_nothing() -> None:
    ink = _drawings()
    assert torch.equal(augment_batch(ink, AugmentConfig.off(), _gen()), ink)


def test_flips_mirror_exactly() -> None:
    ink = _drawings(3)
    assert torch.equal(flips(ink, _gen(), horizontal=1.0, vertical=0.0), ink.flip(-1))
    assert torch.equal(flips(ink, _gen(), horizontal=0.0, vertical=1.0), ink.flip(-2))
    assert torch.equal(flips(ink, _gen(), horizontal=0.0, vertical=0.0), ink)


def test_geometry_flip_alone_is_an_exact_mirror() -> None:
    ink = _drawings(3)
    only_flip = AugmentConfig(
        hflip=1, vflip=0, crop=0, rotate=0, erase=0, grid_mask=0, dilate=0, erode=0
    )
    assert torch.allclose(random_geometry(ink, only_flip, _gen()), ink.flip(-1), atol=1e-5)


def test_rotation_fills_corners_with_white() -> None:
    ink = torch.ones(2, 1, SIDE, SIDE)  # all ink: whatever comes in from outside is paper
    rotate = AugmentConfig(
        hflip=0, crop=0, rotate=1, max_degrees=10, erase=0, grid_mask=0, dilate=0, erode=0
    )
    out = random_geometry(ink, rotate, _gen(1))
    corners = out[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert float(corners.max()) < 1.0  # paper came in at every corner, not black
    assert float(out[:, 0, SIDE // 2, SIDE // 2].min()) == pytest.approx(1.0)


def test_crop_zooms_in() -> None:
    ink = _drawings(4)
    crop = AugmentConfig(
        hflip=0, crop=1, crop_scale=(0.6, 0.6), rotate=0, erase=0, grid_mask=0, dilate=0, erode=0
    )
    out = random_geometry(ink, crop, _gen(2))
    assert not torch.allclose(out, ink)
    assert float(out.sum()) > 0.9 * float(ink.sum())  # strokes get longer when zoomed in


def test_stroke_width_dilates_and_erodes() -> None:
    ink = torch.zeros(1, 1, SIDE, SIDE)
    ink[0, 0, 10:20, 10:20] = 1.0
    thick = stroke_width(ink, _gen(), dilate=1.0, erode=0.0)
    thin = stroke_width(ink, _gen(), dilate=0.0, erode=1.0)
    assert float(thick.sum()) == 12 * 12 and float(thin.sum()) == 8 * 8


def test_erase_and_grid_mask_only_remove_ink() -> None:
    ink = torch.ones(4, 1, SIDE, SIDE)
    erased = random_erase(ink, _gen(), p=1.0, scale=(0.1, 0.1))
    masked = grid_mask(ink, _gen(), p=1.0, ratio=0.3, period=(0.25, 0.25))
    for out in (erased, masked):
        assert set(out.unique().tolist()) == {0.0, 1.0}
        removed = (1 - out).sum(dim=(1, 2, 3)) / SIDE**2
        assert bool((removed > 0.03).all()) and bool((removed < 0.3).all())


def test_bad_inputs_and_configs_raise() -> None:
    with pytest.raises(ValueError):
        augment_batch(torch.zeros(2, 3, SIDE, SIDE), AugmentConfig(), _gen())
    with pytest.raises(TypeError):
        augment_batch(torch.zeros(2, 1, SIDE, SIDE, dtype=torch.uint8), AugmentConfig(), _gen())
    with pytest.raises(ValueError):
        AugmentConfig(hflip=1.5)
    with pytest.raises(ValueError):
        AugmentConfig(crop_scale=(0.5, 1.2))
