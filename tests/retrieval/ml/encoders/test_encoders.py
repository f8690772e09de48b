import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image, ImageDraw

from retrieval.ml.config import MODEL_JSON, read_model_json, write_model_json
from retrieval.ml.encoders import (
    Encoder,
    OpenClipEncoder,
    create_model,
    init_checkpoint,
    list_architectures,
    load_encoder,
    load_model,
    save_checkpoint,
)
from retrieval.ml.errors import ModelLoadError, WeightsUnavailableError

pytestmark = pytest.mark.ml

REPO_ROOT = Path(__file__).resolve().parents[4]
TEXTS = ["a chair with four legs", "shaving razor", "", "lamp " * 100]


def _drawings(count: int) -> list[Image.Image]:
    rng = np.random.default_rng(count)
    images = []
    for _ in range(count):
        img = Image.new("L", (int(rng.integers(120, 300)), int(rng.integers(120, 300))), 255)
        draw = ImageDraw.Draw(img)
        for _ in range(4):
            x0, y0 = (int(v) for v in rng.integers(0, 100, size=2))
            draw.ellipse([x0, y0, x0 + 20 + int(rng.integers(60)), y0 + 30], outline=0, width=2)
            draw.line([x0, y0, int(rng.integers(200)), int(rng.integers(200))], fill=0, width=3)
        images.append(img)
    return images


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_checkpoint("ps-tiny", tmp_path_factory.mktemp("ckpt") / "ps-tiny-seed0", seed=0)


@pytest.fixture(scope="module")
def encoder(checkpoint: Path) -> OpenClipEncoder:
    return load_encoder(checkpoint)


def _copy_checkpoint(source: Path, target: Path) -> Path:
    target.mkdir()
    for item in source.iterdir():
        (target / item.name).write_bytes(item.read_bytes())
    return target


def test_our_architectures_are_registered() -> None:
    assert {"ps-tiny", "ps-small"} <= set(list_architectures())


def test_encoder_implements_the_protocol(checkpoint: Path, encoder: OpenClipEncoder) -> None:
    sha = read_model_json(checkpoint).weights_sha256

    assert isinstance(encoder, Encoder)
    assert encoder.name == "ps-tiny-seed0"
    assert encoder.dim == 256
    assert sha is not None and encoder.version == f"ps-tiny@{sha[:12]}"


def test_image_vectors_are_unit_float32_rows(encoder: OpenClipEncoder) -> None:
    vectors = encoder.embed_images(_drawings(5))

    assert vectors.shape == (5, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_text_vectors_are_unit_float32_rows(encoder: OpenClipEncoder) -> None:
    vectors = encoder.embed_texts(TEXTS)

    assert vectors.shape == (4, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])


def test_empty_inputs_give_empty_matrices(encoder: OpenClipEncoder) -> None:
    assert encoder.embed_images([]).shape == (0, 256)
    assert encoder.embed_texts([]).shape == (0, 256)


def test_batch_and_one_by_one_give_the_same_vectors(checkpoint: Path) -> None:
    images = _drawings(7)
    batched = load_encoder(checkpoint, batch_size=4)

    together = batched.embed_images(images)
    alone = np.concatenate([batched.embed_images([img]) for img in images])

    assert np.allclose(together, alone, atol=1e-5)
    texts_together = batched.embed_texts(TEXTS)
    texts_alone = np.concatenate([batched.embed_texts([t]) for t in TEXTS])
    assert np.allclose(texts_together, texts_alone, atol=1e-5)


def test_outputs_are_deterministic(encoder: OpenClipEncoder) -> None:
    images = _drawings(3)

    assert np.array_equal(encoder.embed_images(images), encoder.embed_images(images))


def test_checkpoint_loads_back_with_identical_outputs(
    checkpoint: Path, encoder: OpenClipEncoder
) -> None:
    images = _drawings(3)

    again = load_encoder(checkpoint)

    assert again.version == encoder.version
    assert np.array_equal(again.embed_images(images), encoder.embed_images(images))
    assert np.array_equal(again.embed_texts(TEXTS), encoder.embed_texts(TEXTS))


def test_loaded_model_is_float32_in_eval_mode(checkpoint: Path) -> None:
    loaded = load_model(checkpoint / MODEL_JSON)

    assert not loaded.model.training
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}


def test_same_seed_same_weight_bytes(tmp_path: Path, checkpoint: Path) -> None:
    again = init_checkpoint("ps-tiny", tmp_path / "again", seed=0)
    other = init_checkpoint("ps-tiny", tmp_path / "other", seed=1)

    weights = (checkpoint / "model.safetensors").read_bytes()
    assert (again / "model.safetensors").read_bytes() == weights
    assert (other / "model.safetensors").read_bytes() != weights
    assert load_encoder(other).version != load_encoder(again).version


def test_create_model_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)

    create_model("ps-tiny", seed=5)

    assert torch.equal(torch.rand(3), expected)


def test_save_checkpoint_stores_float16_by_default(tmp_path: Path) -> None:
    model = create_model("ps-tiny", seed=3)
    config = read_model_json(init_checkpoint("ps-tiny", tmp_path / "a", seed=3))

    half = save_checkpoint(model, config, tmp_path / "half")
    full = save_checkpoint(model, config, tmp_path / "full", dtype="float32")

    half_size = (half / "model.safetensors").stat().st_size
    assert half_size < 0.6 * (full / "model.safetensors").stat().st_size
    restored = load_model(full).model.state_dict()
    assert all(torch.equal(restored[k], v) for k, v in model.state_dict().items())


def test_save_checkpoint_refuses_to_overwrite(tmp_path: Path, checkpoint: Path) -> None:
    config = read_model_json(checkpoint)
    model = load_model(checkpoint).model

    with pytest.raises(FileExistsError):
        save_checkpoint(model, config, checkpoint)
    with pytest.raises(ValueError, match="dtype"):
        save_checkpoint(model, config, tmp_path / "x", dtype="int8")


def test_corrupt_weights_are_detected(tmp_path: Path, checkpoint: Path) -> None:
    folder = _copy_checkpoint(checkpoint, tmp_path / "c")
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-100] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(data))

    with pytest.raises(ModelLoadError, match=r"does not match model.json"):
        load_encoder(folder)


def test_unreadable_weights_without_digest_are_reported(tmp_path: Path, checkpoint: Path) -> None:
    folder = _copy_checkpoint(checkpoint, tmp_path / "c")
    write_model_json(dataclasses.replace(read_model_json(folder), weights_sha256=None), folder)
    (folder / "model.safetensors").write_bytes(b"garbage")

    with pytest.raises(ModelLoadError, match="could not be read"):
        load_encoder(folder)


def test_missing_weights_file_is_reported(tmp_path: Path, checkpoint: Path) -> None:
    folder = _copy_checkpoint(checkpoint, tmp_path / "c")
    (folder / "model.safetensors").unlink()

    with pytest.raises(ModelLoadError, match="missing"):
        load_encoder(folder)


def test_corrupt_model_json_is_reported(tmp_path: Path, checkpoint: Path) -> None:
    folder = _copy_checkpoint(checkpoint, tmp_path / "c")
    (folder / MODEL_JSON).write_text("{", encoding="utf-8")

    with pytest.raises(ModelLoadError, match=r"corrupt model.json"):
        load_encoder(folder)


def test_folder_without_model_json_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"no model.json"):
        load_encoder(tmp_path)


def test_weights_of_another_architecture_do_not_load(tmp_path: Path, checkpoint: Path) -> None:
    folder = _copy_checkpoint(checkpoint, tmp_path / "c")
    config = read_model_json(folder)
    write_model_json(dataclasses.replace(config, architecture="ps-small", embed_dim=512), folder)

    with pytest.raises(ModelLoadError, match="do not fit the architecture"):
        load_encoder(folder)


def test_unknown_architecture_is_reported(tmp_path: Path, checkpoint: Path) -> None:
    folder = _copy_checkpoint(checkpoint, tmp_path / "c")
    data = json.loads((folder / MODEL_JSON).read_text())
    data["architecture"] = "no-such-arch"
    (folder / MODEL_JSON).write_text(json.dumps(data))

    with pytest.raises(ModelLoadError, match="unknown architecture 'no-such-arch'"):
        load_encoder(folder)


def test_embed_dim_must_match_the_architecture(tmp_path: Path, checkpoint: Path) -> None:
    folder = _copy_checkpoint(checkpoint, tmp_path / "c")
    write_model_json(dataclasses.replace(read_model_json(folder), embed_dim=128), folder)

    with pytest.raises(ModelLoadError, match="embed_dim 128"):
        load_encoder(folder)


def test_hub_name_without_network_raises_helpful_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> str:
        raise OSError("network is unreachable")

    monkeypatch.setattr(open_clip.factory, "download_pretrained", no_network)

    with pytest.raises(WeightsUnavailableError) as info:
        load_encoder("ViT-B-32/laion2b_s34b_b79k")
    message = str(info.value)
    assert isinstance(info.value, ModelLoadError)
    assert "could not be fetched" in message and "local checkpoint folder" in message
    assert "network is unreachable" in message


def test_unknown_pretrained_tag_lists_known_tags() -> None:
    with pytest.raises(ModelLoadError, match=r"not a pretrained tag.*laion2b_s34b_b79k"):
        load_encoder("ViT-B-32/no-such-tag")


@pytest.mark.parametrize("spec", ["no-such-model", "ps-tiny/a/b", "./missing/checkpoint"])
def test_unknown_spec_is_reported(spec: str) -> None:
    with pytest.raises(ModelLoadError, match="neither an existing checkpoint folder"):
        load_encoder(spec)


def test_missing_path_object_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_encoder(tmp_path / "missing")


def test_bare_architecture_is_a_seeded_random_model() -> None:
    first, second = load_encoder("ps-tiny"), load_encoder("ps-tiny")

    assert first.version == second.version and first.version.startswith("ps-tiny@")
    images = _drawings(2)
    assert np.array_equal(first.embed_images(images), second.embed_images(images))


def test_bad_inputs_raise_type_error(encoder: OpenClipEncoder) -> None:
    with pytest.raises(TypeError):
        encoder.embed_images(_drawings(1)[0])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encoder.embed_texts("one string")
    with pytest.raises(TypeError):
        encoder.embed_texts([1, 2])  # type: ignore[list-item]


def test_bad_settings_raise_value_error(checkpoint: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        load_encoder(checkpoint, batch_size=0)
    with pytest.raises(ValueError, match="device"):
        load_encoder(checkpoint, device="tpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_vectors_are_close_to_cpu_ones(checkpoint: Path, encoder: OpenClipEncoder) -> None:
    images = _drawings(4)

    gpu = load_encoder(checkpoint, device="cuda").embed_images(images)

    assert gpu.dtype == np.float32
    assert np.allclose(np.linalg.norm(gpu, axis=1), 1.0, atol=1e-4)
    assert (np.sum(gpu * encoder.embed_images(images), axis=1) > 0.99).all()


def test_importing_encoders_does_not_import_django() -> None:
    code = "import retrieval.ml.encoders, retrieval.ml.cli, sys; assert 'django' not in sys.modules"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
