"""Search: a query drawing (and/or text) becomes a vector, then hits from the index."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
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
    filters: FigureFilters | None = None, images: Sequence[Image.Image] = (),
    query_vector: NDArray[np.float32] | None = None,
) -> SearchResult:
    """The k figures most similar to the drawing(s), the text, or both (mixed by text_weight).

    ``images`` are several drawings of one design (its views), fused into one query vector by
    :func:`fuse_views`. ``query_vector`` is a precomputed unit vector in the model's space (a
    stored figure vector for "more like this", a Rocchio-refined query) of the active model; it
    replaces the drawings and the text.
    """
    started = time.perf_counter()
    model = model_get_active()
    drawings = [*([image] if image is not None else []), *images]
    if query_vector is None:
        query = query_vector_for(model, drawings, text, text_weight)
    else:
        query = _unit(np.asarray(query_vector, dtype=np.float32))
    neighbors = index.nearest_figures(model=model, query=query, k=k, filters=filters)
    figures = Figure.objects.select_related("patent", "corpus").in_bulk([n.figure_id for n in neighbors])
    hits = [
        FigureHit(rank=rank, score=n.score, figure=figures[n.figure_id])
        for rank, n in enumerate(neighbors, start=1)
        if n.figure_id in figures
    ]
    return SearchResult(model=model, hits=hits, seconds=time.perf_counter() - started)


def fuse_views(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    """One query vector for several views of a design: the normalised mean of their unit vectors.

    Why the mean: for unit vectors v_1..v_n and any figure x, q·x with q = mean(v_i) equals the
    mean of the cosine similarities v_i·x, so ranking by the fused vector ranks by average
    similarity to all the views (a design must look like every view, not just one), while the
    search stays one index scan. Normalising q scales all scores alike and keeps q unit length.
    """
    return _unit(np.asarray(vectors, dtype=np.float32).mean(axis=0))


def query_vector_for(
    model: RetrievalModel, images: Sequence[Image.Image], text: str = "", text_weight: float = 0.5
) -> NDArray[np.float32]:
    """The unit query vector of drawings (fused by :func:`fuse_views`) and/or a text."""
    if not images and not text.strip():
        raise ValueError("a search needs a drawing or a text")
    parts = []
    if images:
        image_vector = fuse_views(inference.embed_images(model.checkpoint, list(images)))
        parts.append((1.0 - text_weight if text.strip() else 1.0, image_vector))
    if text.strip():
        parts.append((text_weight if images else 1.0, inference.embed_texts(model.checkpoint, [text])[0]))
    return _unit(sum(weight * vec for weight, vec in parts))


def _unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 0 else vector).astype(np.float32)


def parse_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
