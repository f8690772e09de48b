from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from retrieval.ml.encoders import Encoder
from retrieval.ml.encoders.classical import (
    ClassicalEncoder,
    HogSettings,
    NotSupportedError,
    hog_features,
    raw_descriptors,
)
from retrieval.ml.encoders.factory import load_encoder, load_model
from retrieval.ml.errors import MLError, ModelLoadError
from retrieval.ml.shipped import SHIPPED_DIR
from retrieval.ml.training.classical import fit_classical

pytestmark = pytest.mark.ml


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small classical model: 8 generated patents, 16 dimensions."""
    return fit_classical(tmp_path_factory.mktemp("classical") / "m", patents=8, seed=5, dim=16)


def _drawing(size: tuple[int, int] = (300, 220), margin: int = 30, width: int = 3) -> Image.Image:
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([margin, margin, w - margin, h - margin], outline=0, width=width)
    draw.ellipse([w // 3, h // 3, w // 2, h // 2], outline=0, width=width)
    draw.line([margin, h - margin, w // 2, margin], fill=0, width=width)
    return img


def _line_image(vertical: bool) -> torch.Tensor:
    pixels = torch.zeros(1, 1, 64, 64)
    if vertical:
        pixels[..., :, 30:33] = 1.0
    else:
        pixels[..., 30:33, :] = 1.0
    return pixels


def _orientation_energy(features: torch.Tensor, bins: int = 9) -> torch.Tensor:
    # Each block holds its values bin-major: (bins, 4 cells).
    return features.view(-1, bins, 4).sum(dim=(0, 2))


def test_hog_votes_by_gradient_orientation() -> None:
    vertical = _orientation_energy(hog_features(_line_image(True), cell=8, bins=9, block_stride=1))
    horizontal = _orientation_energy(
        hog_features(_line_image(False), cell=8, bins=9, block_stride=1)
    )

    # A vertical line has horizontal gradients (0 degrees: bins 0 and 8 share the vote), a
    # horizontal line vertical ones (90 degrees: bin 4).
    assert set(vertical.topk(2).indices.tolist()) == {0, 8}
    assert int(horizontal.argmax()) == 4


def test_hog_blocks_are_l2_hys_normalised_and_blank_blocks_are_zero() -> None:
    features = hog_features(_line_image(True), cell=8, bins=9, block_stride=1)

    blocks = features.view(7 * 7, 36)
    norms = blocks.norm(dim=1)
    assert features.shape == (1, 7 * 7 * 36)
    assert torch.allclose(norms[norms > 0], torch.ones_like(norms[norms > 0]), atol=1e-4)
    assert (norms == 0).any()  # blocks far from the line see no gradient


def test_raw_descriptors_are_unit_rows_of_the_expected_size() -> None:
    hog = HogSettings(scales=(64, 128), block_strides=(1, 2))
    pixels = torch.rand(3, 1, 128, 128)

    raw = raw_descriptors(pixels, hog)

    assert raw.shape == (3, 7 * 7 * 36 + 8 * 8 * 36)
    assert torch.allclose(raw.norm(dim=1), torch.ones(3), atol=1e-5)


def test_a_fitted_folder_loads_as_a_classical_encoder(fitted: Path) -> None:
    encoder = load_encoder(fitted)

    config = json.loads((fitted / "model.json").read_text())
    digest = hashlib.sha256((fitted / "pca.npz").read_bytes()).hexdigest()
    assert isinstance(encoder, ClassicalEncoder) and isinstance(encoder, Encoder)
    assert encoder.version == f"hog-pca@{digest[:12]}"
    assert encoder.dim == 16 and config["embed_dim"] == 16
    assert config["architecture"] == "hog-pca"
    assert config["training"]["recipe"] == "hog-pca"
    assert config["training"]["fit_corpus"] == "generated seed 5, 8 patents"


def test_images_embed_to_deterministic_unit_rows(fitted: Path) -> None:
    encoder = load_encoder(fitted, batch_size=2)
    images = [_drawing(), _drawing((200, 400)), Image.new("RGB", (50, 50), "white")]

    first, second = encoder.embed_images(images), encoder.embed_images(images)

    assert first.shape == (3, 16) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, second)
    assert encoder.embed_images([]).shape == (0, 16)


def test_scale_and_margins_barely_change_the_vector(fitted: Path) -> None:
    encoder = load_encoder(fitted)
    small = _drawing((300, 220), margin=30, width=3)
    large = _drawing((900, 660), margin=90, width=9)
    padded = Image.new("L", (500, 500), 255)
    padded.paste(small, (150, 100))

    vectors = encoder.embed_images([small, large, padded, _drawing((220, 300))])

    assert float(vectors[0] @ vectors[2]) > 0.99  # margins are trimmed
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[3])


def test_texts_are_refused_with_a_clear_error(fitted: Path) -> None:
    encoder = load_encoder(fitted)

    with pytest.raises(NotSupportedError, match="embeds drawings only"):
        encoder.embed_texts(["a chair"])
    assert issubclass(NotSupportedError, MLError)


def test_load_model_explains_that_the_classical_model_has_no_network(fitted: Path) -> None:
    with pytest.raises(ModelLoadError, match="load_encoder"):
        load_model(fitted)


def test_a_changed_pca_file_fails_to_load(fitted: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "model.json").write_bytes((fitted / "model.json").read_bytes())
    (copy / "pca.npz").write_bytes((fitted / "pca.npz").read_bytes()[:-10] + b"0" * 10)

    with pytest.raises(ModelLoadError, match="sha256"):
        load_encoder(copy)
    (copy / "pca.npz").unlink()
    with pytest.raises(ModelLoadError, match="pca.npz"):
        load_encoder(copy)


def test_the_shipped_classical_model_is_small_and_fitted_on_generated_drawings() -> None:
    folder = SHIPPED_DIR / "classical"

    encoder = load_encoder(folder)

    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    assert size < 2_000_000
    assert encoder.config.training["fit_corpus"].startswith("generated seed")
    assert encoder.embed_images([_drawing()]).shape == (1, encoder.dim)


def test_bad_settings_raise_value_error() -> None:
    with pytest.raises(ValueError, match="multiple of cell"):
        HogSettings(scales=(60,), block_strides=(1,))
    with pytest.raises(ValueError, match="equal length"):
        HogSettings(scales=(64, 128), block_strides=(1,))
