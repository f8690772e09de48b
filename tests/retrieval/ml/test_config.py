import dataclasses
import json
from pathlib import Path

import pytest

from retrieval.ml.config import (
    MODEL_JSON,
    ModelConfig,
    PreprocessConfig,
    read_model_json,
    write_model_json,
)

pytestmark = pytest.mark.ml


def _config() -> ModelConfig:
    return ModelConfig(
        name="ps-tiny-test",
        architecture="ps-tiny",
        embed_dim=256,
        preprocess=PreprocessConfig(image_size=96, mean=(0.9,), std=(0.3,), white_threshold=230),
        weights="model.safetensors",
        weights_sha256="ab" * 32,
        training={"recipe": "contrastive", "epochs": 3, "lr": 1e-3},
        data_digest="sha256:1234",
        metrics={"mAP": 0.41, "recall@10": 0.8},
    )


def _write_raw(folder: Path, data: object) -> Path:
    path = folder / MODEL_JSON
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_round_trips_through_model_json(tmp_path: Path) -> None:
    config = _config()

    path = write_model_json(config, tmp_path)

    assert path == tmp_path / MODEL_JSON
    assert read_model_json(path) == config
    assert read_model_json(tmp_path) == config


def test_written_file_has_format_header_and_plain_lists(tmp_path: Path) -> None:
    data = json.loads(write_model_json(_config(), tmp_path).read_text())

    assert data["format"] == "patentsearch-model"
    assert data["format_version"] == 1
    assert data["preprocess"]["mean"] == [0.9]


def test_missing_optional_fields_take_defaults(tmp_path: Path) -> None:
    path = _write_raw(tmp_path, {"name": "m", "architecture": "ps-tiny", "embed_dim": 256})

    config = read_model_json(path)

    assert config.preprocess == PreprocessConfig()
    assert config.weights is None and config.training == {} and config.metrics == {}


@pytest.mark.parametrize("field", ["name", "architecture", "embed_dim"])
def test_missing_required_field_is_named(tmp_path: Path, field: str) -> None:
    data = {"name": "m", "architecture": "ps-tiny", "embed_dim": 256}
    del data[field]

    with pytest.raises(ValueError, match=f"missing required field.*{field}"):
        read_model_json(_write_raw(tmp_path, data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"embed_dim": "256"}, "embed_dim"),
        ({"embed_dim": 0}, "embed_dim"),
        ({"embed_dim": True}, "embed_dim"),
        ({"name": ""}, "name"),
        ({"weights": "../elsewhere.safetensors"}, "weights"),
        ({"training": [1, 2]}, "training"),
        ({"colour": "blue"}, "unknown field.*colour"),
        ({"format_version": 99}, "format_version"),
        ({"format": "something-else"}, "format"),
        ({"preprocess": {"image_size": 0}}, "image_size"),
        ({"preprocess": {"std": [1.0, 0.0, 1.0]}}, "std"),
        ({"preprocess": {"mean": [0.5, 0.5]}}, "mean"),
        ({"preprocess": {"mean": 0.5}}, "mean"),
        ({"preprocess": {"trim_margins": "yes"}}, "trim_margins"),
        ({"preprocess": {"white_threshold": 300}}, "white_threshold"),
        ({"preprocess": {"sharpen": True}}, "unknown field.*sharpen"),
    ],
)
def test_invalid_field_raises_value_error_naming_it(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    data = {"name": "m", "architecture": "ps-tiny", "embed_dim": 256, **change}

    with pytest.raises(ValueError, match=message):
        read_model_json(_write_raw(tmp_path, data))


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / MODEL_JSON
    path.write_text("{not json", encoding="utf-8")

    with pytest.raises(ValueError, match="not valid JSON") as info:
        read_model_json(path)
    assert str(path) in str(info.value)


def test_json_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JSON object"):
        read_model_json(_write_raw(tmp_path, [1, 2, 3]))


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_model_json(tmp_path / "nope" / MODEL_JSON)


def test_unserialisable_metrics_are_rejected_before_writing(tmp_path: Path) -> None:
    config = dataclasses.replace(_config(), metrics={"mAP": float("nan")})

    with pytest.raises(ValueError, match="JSON"):
        write_model_json(config, tmp_path)
    assert not (tmp_path / MODEL_JSON).exists()


def test_write_rejects_non_config(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_model_json({"name": "m"}, tmp_path)  # type: ignore[arg-type]


def test_preprocess_channels_follow_grayscale_to_rgb() -> None:
    assert PreprocessConfig().channels == 3
    assert PreprocessConfig(grayscale_to_rgb=False, mean=(1.0,), std=(0.25,)).channels == 1
    with pytest.raises(ValueError, match="mean"):
        PreprocessConfig(grayscale_to_rgb=False, mean=(1.0, 1.0, 1.0), std=(0.25,))


def test_configs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _config().embed_dim = 3  # type: ignore[misc]


@pytest.mark.parametrize(("legacy", "thin_lines"), [(True, "halving"), (False, "off")])
def test_older_model_json_keep_thin_lines_reads_as_thin_lines(legacy: bool, thin_lines: str) -> None:
    # Checkpoints written before stop 25 say keep_thin_lines; they keep encoding as they did.
    config = PreprocessConfig.from_dict({"image_size": 320, "keep_thin_lines": legacy})

    assert config.thin_lines == thin_lines
    assert "keep_thin_lines" not in config.to_dict() and config.to_dict()["thin_lines"] == thin_lines


def test_thin_lines_given_twice_or_unknown_is_refused() -> None:
    with pytest.raises(ValueError, match="both thin_lines and keep_thin_lines"):
        PreprocessConfig.from_dict({"keep_thin_lines": True, "thin_lines": "min-pool"})
    with pytest.raises(ValueError, match="thin_lines must be one of off, halving, min-pool"):
        PreprocessConfig.from_dict({"thin_lines": "max-pool"})
    with pytest.raises(ValueError, match="keep_thin_lines must be bool"):
        PreprocessConfig.from_dict({"keep_thin_lines": "yes"})
