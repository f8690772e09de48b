"""Search: a query drawing (and/or text) becomes a vector, then hits from the index."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from retrieval import index, inference
from retrieval.exceptions import NoActiveModelError
from retrieval.index import FigureFilters
from retrieval.models import Figure, RetrievalModel


@dataclass(frozen=True)
class FigureHit:
    rank: int
    score: float
    figure: Figure

    @property
    def patent(self):  # noqa: ANN201 - a Patent
        return self.figure.patent


@dataclass(frozen=True)
class PatentGroup:
    """The hits of one patent, in rank order; the group ranks by its best hit."""

    patent_id: str
    best_rank: int
    best_score: float
    hits: list[FigureHit] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    model: RetrievalModel
    hits: list[FigureHit]
    seconds: float

    def by_patent(self) -> list[PatentGroup]:
        groups: dict[str, PatentGroup] = {}
        for hit in self.hits:
            key = hit.figure.patent.patent_id
            if key not in groups:
                groups[key] = PatentGroup(key, hit.rank, hit.score)
            groups[key].hits.append(hit)
        return list(groups.values())


def model_get_active() -> RetrievalModel:
    model = RetrievalModel.objects.filter(is_active=True).first()
    if model is None:
        raise NoActiveModelError("No model is active yet: ingest a corpus or register a model first.")
    return model


def figure_search(
    *, image: Image.Image | None = None, text: str = "", text_weight: float = 0.5, k: int = 20,
    filters: FigureFilters | None = None, model: RetrievalModel | None = None,
    query_vector: NDArray[np.float32] | None = None,
) -> SearchResult:
    """The k figures most similar to the drawing, the text, or both (mixed by text_weight).

    ``model``: the model to search with (None: the active one). ``query_vector``: a precomputed
    unit vector under that model that stands for the drawing (no encoding).
    """
    started = time.perf_counter()
    model = model or model_get_active()
    query = _query_vector(model, image, text, text_weight, query_vector)
    neighbors = index.nearest_figures(model=model, query=query, k=k, filters=filters)
    figures = Figure.objects.select_related("patent", "corpus").in_bulk([n.figure_id for n in neighbors])
    hits = [
        FigureHit(rank=rank, score=n.score, figure=figures[n.figure_id])
        for rank, n in enumerate(neighbors, start=1)
        if n.figure_id in figures
    ]
    return SearchResult(model=model, hits=hits, seconds=time.perf_counter() - started)


def _query_vector(
    model: RetrievalModel, image: Image.Image | None, text: str, text_weight: float,
    query_vector: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    has_drawing = image is not None or query_vector is not None
    if not has_drawing and not text.strip():
        raise ValueError("a search needs a drawing or a text")
    parts = []
    if has_drawing:
        drawing = query_vector if query_vector is not None else inference.embed_images(model.checkpoint, [image])[0]
        parts.append((1.0 - text_weight if text.strip() else 1.0, drawing))
    if text.strip():
        parts.append((text_weight if has_drawing else 1.0, inference.embed_texts(model.checkpoint, [text])[0]))
    vector = sum(weight * vec for weight, vec in parts)
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 0 else vector).astype(np.float32)


def parse_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
