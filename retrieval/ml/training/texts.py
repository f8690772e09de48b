"""The texts paired with images for the image-text loss, tokenised once.

Each image has one or more texts: its LLM descriptions (``descriptions.jsonl``, made by the
describe step of the method) when asked for and present, else one description composed from its
metadata by :func:`compose_description`. Each step samples one text per image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from retrieval.ml.data import Record

__all__ = ["TextBank", "compose_description", "texts_for"]

Tokenizer = Callable[[list[str]], torch.Tensor]


def compose_description(record: Record) -> str:
    """A description of a figure composed from its metadata: the offline stand-in for an LLM
    description, used when a record has none (or when LLM descriptions are not asked for).

    Deterministic: the object name (or else the title), the view, the patent's own figure
    caption, in that order, e.g. ``"A design patent drawing of a shaving blade cartridge, front
    perspective view. FIG. 1 is a front perspective view of ..."``. A record without any of them
    gives ``"A design patent drawing."``.

    Args:
        record: the figure's corpus record.

    Returns:
        One non-empty sentence or two.
    """
    subject = record.object_name.strip() or record.title.strip()
    text = "A design patent drawing"
    if subject:
        text += f" of {_with_article(subject.lower())}"
    view = record.viewpoint.strip().lower()
    if view:
        text += f", {view}" if view.endswith("view") else f", {view} view"
    text += "."
    caption = " ".join(record.caption.split())
    if caption:
        text += f" {caption}"
    return text


def _with_article(noun: str) -> str:
    if noun.startswith(("a ", "an ", "the ")):
        return noun
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def texts_for(record: Record, *, descriptions: bool) -> list[str]:
    """The candidate texts of one image: its LLM descriptions when ``descriptions`` is on and it
    has any, else ``[compose_description(record)]``."""
    if descriptions:
        found = [t for t in record.descriptions if t.strip()]
        if found:
            return found
    return [compose_description(record)]


class TextBank:
    """All candidate texts of a training set, tokenised once.

    Args:
        records: the training records.
        tokenizer: list of strings -> ``(N, context_length)`` int64 tokens.
        descriptions: use the records' LLM descriptions where present (see :func:`texts_for`).
    """

    def __init__(
        self, records: Sequence[Record], tokenizer: Tokenizer, *, descriptions: bool
    ) -> None:
        texts = [texts_for(r, descriptions=descriptions) for r in records]
        self.counts = torch.tensor([len(t) for t in texts])
        self.starts = torch.cumsum(self.counts, 0) - self.counts
        flat = [text for item in texts for text in item]
        self.tokens: torch.Tensor = tokenizer(flat)
        self.with_descriptions = sum(
            1 for r in records if descriptions and any(t.strip() for t in r.descriptions)
        )

    def sample(self, indices: Sequence[int], generator: torch.Generator) -> torch.Tensor:
        """One text per item, drawn uniformly among its candidates.

        Args:
            indices: item indices into the records the bank was built from.
            generator: CPU generator (one draw per item whatever the counts).

        Returns:
            ``(len(indices), context_length)`` int64 tokens.
        """
        index = torch.as_tensor(list(indices), dtype=torch.long)
        draw = torch.rand(len(index), generator=generator)
        pick = self.starts[index] + (draw * self.counts[index]).long().clamp(
            max=self.counts[index] - 1
        )
        return self.tokens[pick]
