"""The composition of a figure's sentence vector from the texts that say what it shows.

A figure has names (its patent's title and object name), a viewpoint ("front perspective"), a
caption ("FIG. 1 is a front perspective view of …"), and optionally a generated caption and LLM
descriptions. The search's text channel (retrieval.services.search_text) and the evaluation
probes (retrieval.ml.evaluation.probes) both build the figure's sentence vector here, so there is
one composition: the names take the share ``names_share`` of it and the LLM descriptions the
rest; where a figure has no descriptions its captions stand in; the viewpoint never counts
(docs/evaluation.md has the comparison that chose this on the validation patents).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

#: The kinds of a figure's texts. ``description`` and ``generated_caption`` are also the kinds
#: the app stores its FigureText rows under (retrieval.models.FigureText.Kind).
NAME, VIEWPOINT, CAPTION = "name", "viewpoint", "caption"
DESCRIPTION, GENERATED_CAPTION = "description", "generated_caption"


def figure_texts(
    *, title: str, object_name: str, viewpoint: str, caption: str, texts: Iterable[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """The distinct non-empty texts of a figure as ``(kind, text)``, title first; a text that
    appears twice keeps its first kind. ``texts``: further ``(kind, text)`` pairs (descriptions,
    generated caption)."""
    candidates = [(NAME, title), (NAME, object_name), (VIEWPOINT, viewpoint), (CAPTION, caption), *texts]
    distinct: dict[str, str] = {}
    for kind, text in candidates:
        if text and text.strip():
            distinct.setdefault(text.strip(), kind)
    return [(kind, text) for text, kind in distinct.items()]


def sentence_weights(kinds: Sequence[str], *, names_share: float) -> list[float]:
    """The weight of each of a figure's texts (by kind) in its sentence vector; they sum to 1,
    or are all 0 when the figure has no text that says what the article is.

    The names share ``names_share`` equally, the words the rest equally: the LLM descriptions,
    or where the figure has none its caption and generated caption. The viewpoint never counts.
    A figure without names gives its words the whole vector, one without words its names.
    """
    names = [i for i, kind in enumerate(kinds) if kind == NAME]
    words = [i for i, kind in enumerate(kinds) if kind == DESCRIPTION] or [
        i for i, kind in enumerate(kinds) if kind in (CAPTION, GENERATED_CAPTION)
    ]
    if not names:
        names_share = 0.0
    elif not words:
        names_share = 1.0
    weights = [0.0] * len(kinds)
    for group, share in ((names, names_share), (words, 1.0 - names_share)):
        for i in group:
            weights[i] = share / len(group)
    return weights


def sentence_vector(
    kinds: Sequence[str], vectors: NDArray[np.float32], *, names_share: float
) -> NDArray[np.float32] | None:
    """A figure's sentence vector: the unit vectors of its texts (rows of ``vectors``, of the
    given kinds) weighted by :func:`sentence_weights`, renormalised; None without a text that counts."""
    weights = np.asarray(sentence_weights(kinds, names_share=names_share), dtype=np.float32)
    if not weights.any():
        return None
    combined = weights @ np.asarray(vectors, dtype=np.float32)
    norm = float(np.linalg.norm(combined))
    return (combined / norm).astype(np.float32) if norm > 0 else None
