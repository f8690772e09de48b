"""Encoders: the :class:`Encoder` protocol, its open_clip implementation, loading and saving.

Typical use::

    from retrieval.ml.encoders import load_encoder

    encoder = load_encoder("var/models/ps-tiny-seed0")       # or "ViT-B-32/laion2b_s34b_b79k"
    vectors = encoder.embed_images([image])                  # (1, encoder.dim) float32, unit rows
"""

from retrieval.ml.encoders.base import Encoder
from retrieval.ml.encoders.factory import (
    LoadedModel,
    create_model,
    default_preprocess,
    init_checkpoint,
    list_architectures,
    load_encoder,
    load_model,
    register_model_configs,
    save_checkpoint,
)
from retrieval.ml.encoders.open_clip_encoder import OpenClipEncoder

__all__ = [
    "Encoder",
    "LoadedModel",
    "OpenClipEncoder",
    "create_model",
    "default_preprocess",
    "init_checkpoint",
    "list_architectures",
    "load_encoder",
    "load_model",
    "register_model_configs",
    "save_checkpoint",
]
