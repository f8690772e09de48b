"""Configuration of encoders: image preprocessing and the ``model.json`` of a checkpoint folder.

A checkpoint folder holds the weights and a ``model.json`` that says everything needed to use
them again: the open_clip architecture, the embedding dimension, the preprocessing, the training
recipe, a digest of the training data and the metrics measured on it. Example::

    {
      "format": "patentsearch-model", "format_version": 1,
      "name": "ps-tiny-seed0", "architecture": "ps-tiny", "pretrained": null,
      "embed_dim": 256,
      "weights": "model.safetensors", "weights_sha256": "9f2c...",
      "preprocess": {"image_size": 128, "trim_margins": true, ...},
      "training": {"recipe": "random-init", "seed": 0},
      "data_digest": null,
      "metrics": {}
    }
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

MODEL_JSON = "model.json"
FORMAT_NAME = "patentsearch-model"
FORMAT_VERSION = 1

#: Normalisation used by the ``ps-*`` architectures: white paper maps to 0, ink to about -4,
#: so the (mostly white) background carries no signal and the strokes do.
INK_MEAN: tuple[float, ...] = (1.0, 1.0, 1.0)
INK_STD: tuple[float, ...] = (0.25, 0.25, 0.25)
#: The ways of keeping thin strokes while shrinking (:attr:`PreprocessConfig.thin_lines`).
THIN_LINES: tuple[str, ...] = ("off", "halving", "min-pool")
#: The boolean that ``thin_lines`` replaced, still read from older ``model.json`` files.
LEGACY_THIN_LINES = "keep_thin_lines"


@dataclass(frozen=True, slots=True)
class PreprocessConfig:
    """How a drawing becomes the pixel tensor an image tower reads.

    Attributes:
        image_size: side of the square output, in pixels.
        trim_margins: crop to the bounding box of the non-white pixels first.
        pad_to_square: pad the shorter side with white (centred) before resizing; without it
            the image is stretched to a square.
        grayscale_to_rgb: repeat the grey channel three times (output ``(3, H, W)``); without
            it the output has one channel.
        mean: per-channel mean subtracted after scaling pixels to [0, 1] (1 or 3 values).
        std: per-channel standard deviation divided by (1 or 3 values, all > 0).
        white_threshold: grey level (0-255) at or above which a pixel counts as white paper
            when trimming margins.
        thin_lines: how one-pixel strokes of a high-resolution sheet survive the shrink
            (one of :data:`THIN_LINES`):

            - ``"off"``: a plain antialiased resize (a thin stroke of a large sheet fades);
            - ``"halving"``: while the longer side is over twice the output, halve the image
              keeping the darkest pixel of each 2x2 block, then resize. The strokes' weight then
              depends on the sheet's resolution: a sheet 10 % smaller can be halved once less
              and come out with strokes half as dark (the models before stop 25; the
              ``classical`` reference still uses it);
            - ``"min-pool"``: in one step, keep the darkest pixel of each of (2 x output)^2
              blocks of any real size, then resize by exactly 2: a stroke comes out at the same
              weight whatever the sheet's resolution.

            ``model.json`` files written before this option say ``keep_thin_lines``:
            ``true`` reads as ``"halving"``, ``false`` as ``"off"``.
    """

    image_size: int = 128
    trim_margins: bool = True
    pad_to_square: bool = True
    grayscale_to_rgb: bool = True
    mean: tuple[float, ...] = INK_MEAN
    std: tuple[float, ...] = INK_STD
    white_threshold: int = 240
    thin_lines: str = "off"

    def __post_init__(self) -> None:
        _check_type("image_size", self.image_size, int)
        if not 8 <= self.image_size <= 4096:
            raise ValueError(f"image_size must be in 8..4096, got {self.image_size}")
        for name in ("trim_margins", "pad_to_square", "grayscale_to_rgb"):
            _check_type(name, getattr(self, name), bool)
        if self.thin_lines not in THIN_LINES:
            raise ValueError(f"thin_lines must be one of {', '.join(THIN_LINES)}, got {self.thin_lines!r}")
        _check_type("white_threshold", self.white_threshold, int)
        if not 1 <= self.white_threshold <= 255:
            raise ValueError(f"white_threshold must be in 1..255, got {self.white_threshold}")
        channels = self.channels
        for name in ("mean", "std"):
            values = getattr(self, name)
            if not isinstance(values, tuple) or len(values) not in {1, channels}:
                raise ValueError(
                    f"{name} must be a tuple of 1 or {channels} numbers, got {values!r}"
                )
            if not all(_is_number(v) and math.isfinite(v) for v in values):
                raise ValueError(f"{name} must hold finite numbers, got {values!r}")
        if any(v <= 0 for v in self.std):
            raise ValueError(f"std values must be > 0, got {self.std!r}")

    @property
    def channels(self) -> int:
        """Number of channels of the output tensor (3 or 1)."""
        return 3 if self.grayscale_to_rgb else 1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        data = asdict(self)
        data["mean"], data["std"] = list(self.mean), list(self.std)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreprocessConfig:
        """Build from a dict as written by :meth:`to_dict`; missing keys take the defaults.

        Raises:
            ValueError: unknown keys or invalid values.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"preprocess must be an object, got {type(data).__name__}")
        _reject_unknown_keys("preprocess", data, {f.name for f in fields(cls)} | {LEGACY_THIN_LINES})
        values = dict(data)
        if LEGACY_THIN_LINES in values:
            legacy = values.pop(LEGACY_THIN_LINES)
            if "thin_lines" in values:
                raise ValueError(f"preprocess gives both thin_lines and {LEGACY_THIN_LINES}")
            _check_type(f"preprocess.{LEGACY_THIN_LINES}", legacy, bool)
            values["thin_lines"] = "halving" if legacy else "off"
        for name in ("mean", "std"):
            if name in values:
                if not isinstance(values[name], (list, tuple)):
                    raise ValueError(f"preprocess.{name} must be a list of numbers")
                values[name] = tuple(values[name])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """What a checkpoint folder's ``model.json`` says (or what an open_clip hub name implies).

    Attributes:
        name: human name of the model, e.g. ``"ps-tiny-seed0"``.
        architecture: open_clip model name, incl. ours registered from ``ml/model_configs``.
        embed_dim: dimension of the (shared) embedding space.
        preprocess: image preprocessing the model was trained with.
        pretrained: open_clip pretrained tag for hub models, else ``None``.
        weights: weights file name inside the checkpoint folder (``None`` for hub models).
        weights_sha256: hex SHA-256 of the weights file, checked when loading (optional).
        training: free-form training recipe (seed, epochs, loss, augmentations, ...).
        data_digest: digest of the training data (e.g. of the manifest), or ``None``.
        metrics: free-form evaluation results (``{"mAP": ..., "recall@10": ...}``).
    """

    name: str
    architecture: str
    embed_dim: int
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    pretrained: str | None = None
    weights: str | None = None
    weights_sha256: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    data_digest: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("name", "architecture"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        _check_type("embed_dim", self.embed_dim, int)
        if self.embed_dim <= 0:
            raise ValueError(f"embed_dim must be > 0, got {self.embed_dim}")
        if not isinstance(self.preprocess, PreprocessConfig):
            raise TypeError("preprocess must be a PreprocessConfig")
        for name in ("pretrained", "weights", "weights_sha256", "data_digest"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be a non-empty string or null, got {value!r}")
        if self.weights is not None and Path(self.weights).name != self.weights:
            raise ValueError(f"weights must be a file name inside the folder, got {self.weights!r}")
        for name in ("training", "metrics"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name} must be an object (dict)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in ``model.json`` layout (with the format header)."""
        data: dict[str, Any] = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = value.to_dict() if isinstance(value, PreprocessConfig) else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        """Build from a ``model.json`` dict.

        Raises:
            ValueError: wrong format header, missing required fields, unknown fields or
                invalid values; the message names the field.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"model.json must hold a JSON object, got {type(data).__name__}")
        values = dict(data)
        _check_header(values.pop("format", None), values.pop("format_version", None))
        _reject_unknown_keys("model.json", values, {f.name for f in fields(cls)})
        missing = [k for k in ("name", "architecture", "embed_dim") if k not in values]
        if missing:
            raise ValueError(f"model.json is missing required field(s): {', '.join(missing)}")
        values["preprocess"] = PreprocessConfig.from_dict(values.get("preprocess", {}))
        for name in ("training", "metrics"):
            values[name] = {} if values.get(name) is None else values[name]
        return cls(**values)


def read_model_json(path: str | Path) -> ModelConfig:
    """Read and validate a ``model.json``.

    Args:
        path: the ``model.json`` file, or the checkpoint folder that contains it.

    Returns:
        The validated :class:`ModelConfig`.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not valid JSON or its fields are missing or invalid; the
            message names the file and the field.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc})") from exc
    try:
        return ModelConfig.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def write_model_json(config: ModelConfig, path: str | Path) -> Path:
    """Write ``config`` as ``model.json`` (atomically: a temporary file then a rename).

    Args:
        config: the configuration to write.
        path: the target file, or a folder (then ``model.json`` inside it).

    Returns:
        The path of the written file.

    Raises:
        TypeError: ``config`` is not a :class:`ModelConfig`.
        ValueError: ``training`` or ``metrics`` hold values JSON cannot represent.
    """
    if not isinstance(config, ModelConfig):
        raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_JSON
    try:
        text = json.dumps(config.to_dict(), indent=2, sort_keys=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model config is not JSON-serialisable: {exc}") from exc
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _check_header(format_name: object, format_version: object) -> None:
    if format_name is not None and format_name != FORMAT_NAME:
        raise ValueError(f"format must be {FORMAT_NAME!r}, got {format_name!r}")
    if format_version is not None and format_version != FORMAT_VERSION:
        raise ValueError(
            f"format_version {format_version!r} is not supported (this code reads {FORMAT_VERSION})"
        )


def _reject_unknown_keys(where: str, data: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where} has unknown field(s): {', '.join(unknown)}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_type(name: str, value: object, expected: type) -> None:
    # bool is a subclass of int: reject True/False where a number is expected.
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ValueError(f"{name} must be {expected.__name__}, got {value!r}")
