"""Models shipped with the project, by name: ``default``, ``baseline``, ``classical``.

Each name is a model folder beside this file (``model.json`` + weights). ``classical`` is the
training-free HOG + PCA model fitted on generated drawings (``python -m retrieval.ml
fit-classical --out retrieval/ml/shipped/classical``); ``default`` and ``baseline`` are the
trained networks that ``make models`` builds. Anywhere a model spec is accepted, a shipped
name works too, unless a file or folder of that name exists in the working directory (a path
always wins).
"""

from __future__ import annotations

from pathlib import Path

from retrieval.ml.config import MODEL_JSON
from retrieval.ml.errors import ModelLoadError

SHIPPED_DIR = Path(__file__).resolve().parent
SHIPPED_NAMES: tuple[str, ...] = ("default", "baseline", "classical")

__all__ = ["SHIPPED_DIR", "SHIPPED_NAMES", "resolve_model_spec", "shipped_model_dir"]


def shipped_model_dir(name: str) -> Path:
    """The folder of a shipped model.

    Args:
        name: one of :data:`SHIPPED_NAMES`.

    Returns:
        The folder, which holds a ``model.json``.

    Raises:
        ValueError: ``name`` is not a shipped name.
        ModelLoadError: the model has not been built yet.
    """
    if name not in SHIPPED_NAMES:
        raise ValueError(f"{name!r} is not a shipped model (shipped: {', '.join(SHIPPED_NAMES)})")
    folder = SHIPPED_DIR / name
    if not (folder / MODEL_JSON).is_file():
        raise ModelLoadError(f"shipped model {name!r} is not built yet: run `make models`")
    return folder


def resolve_model_spec(spec: str | Path) -> str | Path:
    """Turn a shipped model name into its folder; leave every other spec as it is.

    Args:
        spec: a shipped name, a checkpoint path or any other model spec.

    Returns:
        The shipped folder when ``spec`` is a shipped name (a ``str``) and no file or folder
        of that name exists; else ``spec`` unchanged.

    Raises:
        ModelLoadError: ``spec`` names a shipped model that has not been built yet.
    """
    if isinstance(spec, str) and spec in SHIPPED_NAMES and not Path(spec).exists():
        return shipped_model_dir(spec)
    return spec
