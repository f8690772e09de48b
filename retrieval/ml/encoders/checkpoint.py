"""Checkpoint folders on disk: weights files, their digests, ``model.json`` beside them.

Weights are stored as safetensors when the ``safetensors`` package is installed (it is a
dependency of open_clip's hub code), else as a ``torch.save`` state dict. Floating tensors are
stored in float16 by default (half the size; a model loads back in float32).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import io
from collections.abc import Mapping
from pathlib import Path

import torch

from retrieval.ml.config import MODEL_JSON, ModelConfig, atomic_write_bytes, write_model_json
from retrieval.ml.errors import ModelLoadError

HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None
SAFETENSORS_FILE = "model.safetensors"
TORCH_FILE = "model.pt"
_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


def save_checkpoint(
    model: torch.nn.Module,
    config: ModelConfig,
    out_dir: str | Path,
    *,
    dtype: str = "float16",
    overwrite: bool = False,
) -> Path:
    """Write ``model``'s weights and a ``model.json`` into a checkpoint folder.

    ``config.weights`` and ``config.weights_sha256`` are filled in from the written file; the
    other fields are written as given. The same weights always give the same file bytes.

    Args:
        model: the model (any device); its ``state_dict`` is saved.
        config: the configuration to store beside the weights.
        out_dir: the checkpoint folder (created if missing).
        dtype: storage type of floating tensors: ``"float16"`` (default), ``"bfloat16"`` or
            ``"float32"``.
        overwrite: replace an existing checkpoint in ``out_dir``.

    Returns:
        The checkpoint folder.

    Raises:
        ValueError: unknown ``dtype``, or weights that overflow it.
        FileExistsError: ``out_dir`` already holds a ``model.json`` and ``overwrite`` is off.
    """
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
    out = Path(out_dir)
    if (out / MODEL_JSON).exists() and not overwrite:
        raise FileExistsError(
            f"{out} already holds a checkpoint; pass overwrite=True to replace it"
        )
    out.mkdir(parents=True, exist_ok=True)
    state = _storage_state_dict(model.state_dict(), _DTYPES[dtype])
    file_name = SAFETENSORS_FILE if HAS_SAFETENSORS else TORCH_FILE
    data = _serialise(state)
    atomic_write_bytes(out / file_name, data)
    digest = hashlib.sha256(data).hexdigest()
    write_model_json(dataclasses.replace(config, weights=file_name, weights_sha256=digest), out)
    return out


def read_weights(path: Path, *, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    """Read a weights file written by :func:`save_checkpoint`, checking its digest.

    Args:
        path: ``model.safetensors`` or a ``torch.save`` state-dict file.
        expected_sha256: hex digest from ``model.json``; ``None`` skips the check.

    Returns:
        The state dict on CPU (tensors in their stored dtype).

    Raises:
        ModelLoadError: missing file, digest mismatch, or a file that cannot be decoded.
    """
    if not path.is_file():
        raise ModelLoadError(f"weights file {path} is missing")
    if expected_sha256 is not None:
        actual = file_sha256(path)
        if actual != expected_sha256:
            raise ModelLoadError(
                f"weights file {path} does not match model.json (sha256 {actual[:12]}... "
                f"instead of {expected_sha256[:12]}...): the file is corrupt or was replaced"
            )
    try:
        return _deserialise(path)
    except (OSError, RuntimeError, ValueError, EOFError) as exc:
        raise ModelLoadError(f"weights file {path} could not be read: {exc}") from exc


def load_weights_into(
    model: torch.nn.Module, state: Mapping[str, torch.Tensor], source: Path
) -> None:
    """Copy ``state`` into ``model`` (strictly: same keys, same shapes; cast to the model's dtype).

    Raises:
        ModelLoadError: missing or unexpected keys, or shape mismatches (the message lists them).
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        raise ModelLoadError(
            f"weights in {source} do not fit the architecture: "
            + "; ".join(
                f"{label}: {_preview(keys)}"
                for label, keys in (
                    ("missing", missing),
                    ("unexpected", unexpected),
                    ("shape", wrong),
                )
                if keys
            )
        )
    model.load_state_dict(dict(state), strict=True)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def state_dict_sha256(model: torch.nn.Module) -> str:
    """Hex SHA-256 over a model's tensors (names, dtypes, shapes, float32 values), key-sorted."""
    digest = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        value = tensor.detach().to("cpu")
        if value.is_floating_point():
            value = value.float()
        digest.update(f"{key}|{value.dtype}|{tuple(value.shape)}".encode())
        digest.update(value.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _storage_state_dict(
    state: Mapping[str, torch.Tensor], dtype: torch.dtype
) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        value = tensor.detach().to("cpu")
        if value.is_floating_point():
            value = value.to(dtype)
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"tensor {key!r} has values that are not finite in {dtype}")
        # clone: safetensors refuses tensors that share memory.
        out[key] = value.contiguous().clone()
    return out


def _serialise(state: dict[str, torch.Tensor]) -> bytes:
    if HAS_SAFETENSORS:
        from safetensors.torch import save

        return save(state, metadata={"format": "pt"})
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _deserialise(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        if not HAS_SAFETENSORS:
            raise ModelLoadError(f"{path} needs the 'safetensors' package, which is not installed")
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except SafetensorError as exc:
            raise ValueError(str(exc)) from exc
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError("not a state dict of tensors")
    return state


def _preview(keys: list[str], limit: int = 5) -> str:
    more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more
