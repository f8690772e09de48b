"""Evaluation through the real search path: every figure of an ingested corpus as a query.

Each query runs the search service's own channels (:func:`retrieval.selectors.search.channel_rankings`:
pgvector index, text tower, full-text, trigram, sentence vectors) and its fusion
(:func:`~retrieval.selectors.search.fuse`), restricted to the corpus (and to one side of the
ML library's fixed patent split when asked), and the ranked lists are scored with the ML
library's metrics, so the report has the keys of ``python -m retrieval.ml evaluate``.

- Image level: the ranking is the fused figures; relevant = figures with the query's label
  (``patent``: other figures of its patent).
- Patent level: candidates are the *other* patents, ranked by their best figure; relevant =
  patents with the query's label. One look-alike patent with many figures can then not fill
  the top 10.
- The query's text (``query_text="title"``) is its patent's title (its object name where the
  title is empty), as an examiner types the application's title; ``"object"`` is the object
  name (the title where it is empty).
- Text-only queries (``query_drawing=False``) are the same for every figure of a patent, so
  each patent asks once, and its own figures count as relevant (with ``patent`` relevance:
  "a text query by the object's name finds a figure of that patent").
- ``random_seed``: instead of searching, rank the gallery at random (the reference row).
- ``title_reference``: instead of searching, rank the gallery by the cosine of the locked
  sentence model's vectors of the query's title and each candidate's patent title (the issue's
  "title alone through the sentence model"; computed here, not through the search channels,
  whose sentence vector also holds captions and descriptions).
- ``judged_only`` (``us_class``/``locarno``, an extra protocol reported beside the primary one):
  candidates without a label (figures at image level, patents at patent level) cannot be judged
  relevant or not, so they are removed from every ranking before it is scored instead of counting
  as misses: the "condensed list" of IR evaluation with incomplete judgments (Sakai). Removal
  happens after ranking and fusion, in :func:`_report`, the one place that says whether a ranked
  candidate is relevant, so it applies alike to the search path, the grid's weight settings and
  the reference rankings. Rankings are then fetched deeper by the number of unlabelled figures,
  so that the condensed list still holds ``k`` judged candidates where the gallery has them. The
  number of relevant candidates is unchanged (an unlabelled candidate is never relevant), so a
  condensed AP is never below the primary one of the same ranking. ``patent``/``object``
  relevance judge every candidate: the option is refused there.

- ``class_focus`` (a weight; None: ``RETRIEVAL_CLASS_FOCUS_WEIGHT``): the search service's class
  focus (:mod:`retrieval.selectors.class_focus`) re-ranks each fused list as a search would. The
  reference rankings (random, title reference) are references of the issue, computed without it,
  unless a weight is given explicitly: then it applies to them too, to show what the focus alone
  does to a ranking that knows nothing of the drawing. The focus reads the gallery's own classes
  only: the query's patent is out of the gallery wherever its classes would tell its label.

Channel rankings are computed once per query and can be fused under several weight settings
(``weight_grid``), which is how the fusion weights were chosen on the validation patents.
"""

from __future__ import annotations

import io
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count
from numpy.typing import NDArray
from PIL import Image

from retrieval import index, inference
from retrieval.images import read_pages
from retrieval.index import FigureFilters
from retrieval.models import Corpus, Figure, FigureText, RetrievalModel
from retrieval.selectors.class_focus import FigureClasses, apply_class_focus, focus_settings
from retrieval.selectors.descriptions import DESCRIBE_ERROR_PREFIX
from retrieval.selectors.encoding import model_coverage
from retrieval.selectors.models import model_get_active
from retrieval.selectors.search import (
    CHANNELS,
    channel_weights,
    fuse,
    fusion_weights,
    put_identical_first,
)

RELEVANCES = ("patent", "us_class", "locarno", "object")
QUERY_TEXTS = ("none", "title", "object")
#: Rankings that are not search channels but reference orders of the gallery (not fused).
REFERENCE_RANKINGS = ("random", "title_reference")
#: Patent-level rankings need more figures than patents: patents hold several figures.
PATENT_LEVEL_FIGURES = 4
#: Relevance kinds under which a candidate can lack a label (unjudged): ``--judged-only`` applies.
JUDGED_ONLY_RELEVANCES = ("us_class", "locarno")


@dataclass(frozen=True)
class SearchEvaluationRequest:
    corpus: str
    relevance: str = "patent"
    exclude_same_patent: bool = False
    patent_level: bool = False
    query_text: str = "none"
    query_drawing: bool = True
    k: int = 100
    split: str = "all"
    split_seed: int = 0
    test_fraction: float = 0.3
    val_fraction: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)
    text_weight: float = 0.5
    random_seed: int | None = None
    title_reference: bool = False
    #: The drawing's share α in the ``joint`` channel (None: the setting).
    joint_drawing_weight: float | None = None
    #: Remove unlabelled candidates from the rankings before scoring (condensed lists).
    judged_only: bool = False
    #: The class focus's weight (None: the setting for searches, 0 for the reference rankings)
    #: and its number of voting patents (None: the setting).
    class_focus: float | None = None
    class_focus_patents: int | None = None

    def __post_init__(self) -> None:
        if self.relevance not in RELEVANCES:
            raise ValueError(f"unknown relevance {self.relevance!r}: choose from {', '.join(RELEVANCES)}")
        if self.query_text not in QUERY_TEXTS:
            raise ValueError(f"--query-text must be one of {', '.join(QUERY_TEXTS)}")
        if not self.query_drawing and self.query_text == "none" and self.random_seed is None:
            raise ValueError("a query needs a drawing or a text: drop --no-drawing or add --query-text title")
        if self.title_reference and (self.query_text != "title" or self.random_seed is not None):
            raise ValueError("--title-reference ranks by titles: use it with --query-text title and without --random")
        if self.patent_level and self.relevance == "patent":
            raise ValueError("--patent-level ranks other patents: use it with a class relevance")
        if self.judged_only and self.relevance not in JUDGED_ONLY_RELEVANCES:
            raise ValueError(
                f"--judged-only leaves out candidates without a class: use it with --relevance "
                f"{' or '.join(JUDGED_ONLY_RELEVANCES)} (under {self.relevance!r} every candidate is judged)"
            )
        if not 1 <= self.k <= 1000:
            raise ValueError("--k must be between 1 and 1000")
        if self.split not in {"all", "train", "val", "test"}:
            raise ValueError("--split must be all, train, val or test")
        unknown = set(self.weights) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(sorted(unknown))}: choose from {', '.join(CHANNELS)}")
        if not 0.0 <= self.text_weight <= 1.0:
            raise ValueError("--text-weight must be between 0 and 1")
        if self.joint_drawing_weight is not None and not 0.0 <= self.joint_drawing_weight <= 10.0:
            raise ValueError("--joint-drawing-weight must be between 0 and 10")
        if self.class_focus is not None and not 0.0 <= self.class_focus <= 10.0:
            raise ValueError("--class-focus must be between 0 and 10")
        if self.class_focus_patents is not None and not 1 <= self.class_focus_patents <= 100:
            raise ValueError("--class-focus-patents must be between 1 and 100")

    @property
    def searches(self) -> bool:
        """Whether the queries go through the search channels (every request but the reference
        rankings), and so need the model's vector of every figure of the corpus."""
        return self.random_seed is None and not self.title_reference


@dataclass
class _Query:
    row: int
    figure: Figure
    label: str
    n_relevant: int
    #: Each channel's ranked figures with their scores, as the search service returns them.
    rankings: dict[str, list[index.Neighbor]] = field(default_factory=dict)
    #: Figures of the same drawing as the query's (the search service's identical_figures).
    identical: dict[int, float] = field(default_factory=dict)


def evaluate_search(
    request: SearchEvaluationRequest, *, progress: Callable[[int, int], None] | None = None,
    weight_grid: Sequence[dict[str, float]] = (), model: RetrievalModel | None = None,
) -> dict[str, Any]:
    """Run the evaluation; returns the report (and ``grid``: one report per extra weight setting).
    ``model``: a registered model other than the active one (its own HNSW index is searched).

    Raises:
        ValueError: unknown corpus, a corpus side with fewer than two figures, or a corpus whose
            figures are not all encoded under the model yet (a figure without its vector is a query
            that cannot find its drawing and a relevant figure no ranking can hold: the report would
            count misses that are only the encoding's backlog).
    """
    started = time.perf_counter()
    corpus = Corpus.objects.filter(name=request.corpus).first()
    if corpus is None:
        raise ValueError(f"no corpus named {request.corpus!r}")
    model = model or model_get_active()
    if request.searches:
        coverage = model_coverage(model, corpus)
        if not coverage.complete:
            raise ValueError(
                f"model {model.name!r} has {coverage.said()} of corpus {corpus.name!r}: evaluate once its "
                "encoding is done (`manage.py encoding_progress CORPUS` shows it; `manage.py encode_missing` "
                "queues figures a worker lost); the missing figures would count as misses"
            )
    figures = _figures(corpus, request)
    if len(figures) < 2:
        raise ValueError(f"corpus {corpus.name!r} ({request.split}) has fewer than 2 figures to evaluate")
    outside = list(
        Figure.objects.filter(corpus=corpus).exclude(pk__in=[f.pk for f in figures]).values_list("pk", flat=True)
    )
    labels = [_label(f, request.relevance) for f in figures]
    queries, skipped_no_label = _queries(figures, labels, request)
    by_patent: dict[str, list[int]] = {}
    for f in figures:
        by_patent.setdefault(f.patent.patent_id, []).append(f.pk)
    depth = _depth(request, labels)
    titles = _title_vectors(figures) if request.title_reference else {}
    for number, query in enumerate(queries, start=1):
        if query.n_relevant:
            query.rankings = _rankings(query, request, model, figures, by_patent, outside, depth, titles)
        if progress is not None:
            progress(number, len(queries))
    search_seconds = time.perf_counter() - started
    channels = {c for q in queries for c in q.rankings if c not in REFERENCE_RANKINGS}
    base = {**fusion_weights(channels or (["drawing"] if request.query_drawing else [])), **request.weights}
    report = _report(queries, figures, labels, request, base, skipped_no_label)
    report.update({
        "corpus": corpus.name, "model": {"name": model.name, "version": model.version},
        "options": {
            "relevance": request.relevance, "exclude_same_patent": request.exclude_same_patent,
            "patent_level": request.patent_level, "query_text": request.query_text,
            "query_drawing": request.query_drawing, "k": request.k, "split": request.split,
            "split_seed": request.split_seed, "test_fraction": request.test_fraction,
            "val_fraction": request.val_fraction, "text_weight": request.text_weight,
            "random_seed": request.random_seed, "title_reference": request.title_reference,
            "judged_only": request.judged_only,
        },
        "class_focus": _focus_options(request),
        "fusion": {
            "rrf_k": settings.RETRIEVAL_RRF_K, "weights": base,
            "joint_drawing_weight": (settings.RETRIEVAL_JOINT_DRAWING_WEIGHT if request.joint_drawing_weight is None
                                     else request.joint_drawing_weight),
        },
        "figures": len(figures), "texts": _texts(figures), "undescribed": _undescribed(figures),
        "seconds": round(search_seconds, 1),
    })
    if weight_grid:
        report["grid"] = [
            {"weights": {**base, **w}, **_summary(_report(queries, figures, labels, request, {**base, **w}, skipped_no_label))}
            for w in weight_grid
        ]
    return report


def default_grid() -> list[dict[str, float]]:
    """The weight settings tried on the validation patents (drawing and text-channel weights)."""
    values = {
        "drawing": (0.0, 0.25, 0.5, 1.0, 2.0),
        "text_tower": (0.0, 0.5, 1.0),
        "fulltext": (0.0, 0.5, 1.0),
        "trigram": (0.0, 0.5, 1.0),
        "sentence": (0.5, 1.0, 2.0),
    }
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]


def joint_grid() -> list[dict[str, float]]:
    """Weight settings around the ``joint`` channel (drawing and text as one sentence-space
    query): alone, with each other channel beside it, and the references without it (the
    sentence channel alone; the rank-fusion weights chosen before it existed)."""
    zero = dict.fromkeys(CHANNELS, 0.0)
    rank_fusion = {"drawing": 0.25, "text_tower": 0.5, "fulltext": 0.5, "trigram": 0.5, "sentence": 2.0}
    settings_ = [
        {"joint": 1.0}, {"sentence": 1.0}, rank_fusion, {**rank_fusion, "joint": 2.0},
        {"joint": 1.0, "sentence": 0.5}, {"joint": 1.0, "sentence": 1.0},
        {"joint": 1.0, "drawing": 0.1}, {"joint": 1.0, "drawing": 0.25},
        {"joint": 1.0, "text_tower": 0.5}, {"joint": 1.0, "fulltext": 0.5}, {"joint": 1.0, "trigram": 0.5},
    ]
    return [{**zero, **w} for w in settings_]


GRIDS = {"channels": default_grid, "joint": joint_grid}


def _focus_weight(request: SearchEvaluationRequest, *, reference: bool) -> float | None:
    """The class focus's weight for a ranking (None: the setting): a reference ranking (random,
    title reference) is left as the reference is unless a weight was given explicitly."""
    return 0.0 if reference and request.class_focus is None else request.class_focus


def _focus_options(request: SearchEvaluationRequest) -> dict[str, Any]:
    """The focus that ranked this run: its weight (0: off) and voting patents."""
    reference = request.random_seed is not None or request.title_reference
    weight, patents = focus_settings(_focus_weight(request, reference=reference), request.class_focus_patents)
    return {"weight": weight, "patents": patents, "references": request.class_focus is not None}


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {key: report[key] for key in ("mAP", "recall@10", "mrr@10", "queries")}


def _depth(request: SearchEvaluationRequest, labels: list[str]) -> int:
    """Figures each ranking holds: ``k`` (patent level: ``PATENT_LEVEL_FIGURES``·k); with
    ``judged_only``, plus every unlabelled figure, which the condensed list leaves out."""
    depth = request.k * (PATENT_LEVEL_FIGURES if request.patent_level else 1)
    return depth + (sum(1 for lab in labels if not lab) if request.judged_only else 0)


def _figures(corpus: Corpus, request: SearchEvaluationRequest) -> list[Figure]:
    figures = list(
        Figure.objects.filter(corpus=corpus, status=Figure.Status.READY, is_front_page=False)
        .select_related("patent").order_by("pk")
    )
    if request.split == "all":
        return figures
    return [
        f for f in figures
        if inference.patent_side(f.patent.patent_id, test_fraction=request.test_fraction,
                                 seed=request.split_seed, val_fraction=request.val_fraction) == request.split
    ]


def _label(figure: Figure, relevance: str) -> str:
    patent = figure.patent
    if relevance == "patent":
        return patent.patent_id
    if relevance == "us_class":
        return patent.us_class_main.upper()
    if relevance == "locarno":
        return patent.locarno_class
    return inference.object_label(patent.object_name)


def _queries(
    figures: list[Figure], labels: list[str], request: SearchEvaluationRequest
) -> tuple[list[_Query], int]:
    """The labelled queries with their number of relevant gallery items."""
    exclude_own = request.exclude_same_patent or request.patent_level
    image_counts = Counter(labels)
    own_counts = Counter((f.patent.patent_id, lab) for f, lab in zip(figures, labels, strict=True))
    patent_labels = {f.patent.patent_id: lab for f, lab in zip(figures, labels, strict=True)}
    patent_counts = Counter(patent_labels.values())
    queries, skipped = [], 0
    asked: set[str] = set()
    for row, (figure, lab) in enumerate(zip(figures, labels, strict=True)):
        if not lab:
            skipped += 1
            continue
        if not request.query_drawing:
            if figure.patent.patent_id in asked:
                continue  # the same text as the patent's first figure
            asked.add(figure.patent.patent_id)
        if not request.query_drawing and request.relevance == "patent":
            n = image_counts[lab]  # no drawing to find itself: every figure of the patent counts
        elif request.patent_level:
            n = patent_counts[lab] - 1
        elif request.relevance == "patent":
            n = image_counts[lab] - 1
        elif exclude_own:
            n = image_counts[lab] - own_counts[(figure.patent.patent_id, lab)]
        else:
            n = image_counts[lab] - 1
        queries.append(_Query(row=row, figure=figure, label=lab, n_relevant=max(n, 0)))
    return queries, skipped


def _rankings(
    query: _Query, request: SearchEvaluationRequest, model: Any, figures: list[Figure],
    by_patent: dict[str, list[int]], outside: list[int], depth: int,
    titles: dict[str, NDArray[np.float32]],
) -> dict[str, list[index.Neighbor]]:
    own = by_patent[query.figure.patent.patent_id]
    exclude_own = (request.exclude_same_patent and request.relevance != "patent") or request.patent_level
    itself = {query.figure.pk} if request.query_drawing else set()
    excluded = set(outside) | itself | (set(own) if exclude_own else set())
    if request.random_seed is not None:
        gallery = [f.pk for f in figures if f.pk not in excluded]
        random.Random(f"{request.random_seed}:{query.figure.pk}").shuffle(gallery)
        return {"random": [index.Neighbor(f, 0.0) for f in gallery]}
    if request.title_reference:
        query_vector = titles[_title(query.figure)]
        scored = [(float(titles[_title(f)] @ query_vector), f.pk) for f in figures if f.pk not in excluded]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return {"title_reference": [index.Neighbor(f, score) for score, f in scored[:depth]]}
    from retrieval.selectors.search import channel_rankings, identical_figures

    filters = FigureFilters(corpus_ids=[query.figure.corpus_id], exclude_figure_ids=sorted(excluded))
    image = _image(query.figure) if request.query_drawing else None
    text = {"title": _title, "object": _object_name}.get(request.query_text, lambda f: "")(query.figure)
    if image is None and not text:
        return {}
    drawing = None
    if image is not None:  # encoded once for the channels and the identical-drawing rule, as a search does
        drawing = inference.embed_images(model.checkpoint, [image])[0]
    rankings = channel_rankings(
        model=model, drawing=drawing, text=text, k=depth, filters=filters, text_weight=request.text_weight,
        joint_drawing_weight=request.joint_drawing_weight,
    )
    if drawing is not None:
        query.identical = identical_figures(model=model, views=drawing[None, :], filters=filters,
                                            drawing_ranking=rankings["drawing"])
    return rankings


def _texts(figures: list[Figure]) -> dict[str, dict[str, int]]:
    """The evaluated figures' stored texts by kind and source (``{"description": {"import": 2190}}``):
    what the text channels read, so a report says whose descriptions it measured."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        FigureText.objects.filter(figure__in=[f.pk for f in figures])
        .values_list("kind", "source").annotate(n=Count("id")).order_by("kind", "source")
    )
    for kind, source, n in rows:
        counts.setdefault(kind, {})[source or "unknown"] = n
    return counts


def _undescribed(figures: list[Figure]) -> int:
    """Evaluated figures with no description yet that have not failed one: their describing is
    queued (ingest queues it for figures that came without) or no ``llm`` worker runs. Their text
    rows hold titles and captions only, so a report says how many there were."""
    ids = [f.pk for f in figures]
    described = FigureText.objects.filter(kind=FigureText.Kind.DESCRIPTION, figure__in=ids).values("figure_id")
    return (Figure.objects.filter(pk__in=ids).exclude(pk__in=described)
            .exclude(error__startswith=DESCRIBE_ERROR_PREFIX).count())


def _title_vectors(figures: list[Figure]) -> dict[str, NDArray[np.float32]]:
    """The locked sentence model's unit vector of each distinct title (the title reference)."""
    texts = sorted({_title(f) for f in figures})
    return dict(zip(texts, inference.embed_sentences(texts), strict=True)) if texts else {}


def _title(figure: Figure) -> str:
    return figure.patent.title.strip() or figure.patent.object_name.strip()


def _object_name(figure: Figure) -> str:
    return figure.patent.object_name.strip() or figure.patent.title.strip()


def _image(figure: Figure) -> Image.Image:
    with figure.image.open("rb") as handle:
        page = read_pages(handle.read(), max_pixels=settings.RETRIEVAL_MAX_IMAGE_PIXELS)[0]
    return Image.open(io.BytesIO(page.data))


def _report(
    queries: list[_Query], figures: list[Figure], labels: list[str], request: SearchEvaluationRequest,
    base: dict[str, float], skipped_no_label: int,
) -> dict[str, Any]:
    label_of = {f.pk: lab for f, lab in zip(figures, labels, strict=True)}
    patent_of = {f.pk: f.patent.patent_id for f in figures}
    first_label: dict[str, str] = {}
    for f in figures:
        first_label.setdefault(f.patent.patent_id, label_of[f.pk])
    depth = _depth(request, labels)
    classes = {f.pk: FigureClasses(f.patent.patent_id, f.patent.us_class_main, f.patent.locarno_class) for f in figures}
    relevant, n_relevant, rows = [], [], []
    for query in queries:
        ranked = _fused(query, request, base, depth, classes)
        # A candidate is relevant when its label is the query's; an unlabelled one is a miss,
        # or with judged_only is left out of the list (the condensed list).
        if request.patent_level:
            seen: dict[str, None] = {}
            for figure_id in ranked:
                seen.setdefault(patent_of[figure_id], None)
            patents = [p for p in seen if first_label[p] or not request.judged_only][: request.k]
            flags = [first_label[p] == query.label for p in patents]
        else:
            judged = [f for f in ranked if label_of.get(f) or not request.judged_only]
            flags = [label_of.get(f) == query.label for f in judged[: request.k]]
        relevant.append(flags)
        n_relevant.append(query.n_relevant)
        rows.append(query.row)
    band_kind = "us_class" if request.relevance == "patent" else request.relevance
    bands = [_label(f, band_kind) for f in figures]
    # Drawing queries at patent level: each figure asks, so a patent weighs by its number of
    # drawings; mAP_patent_weighted weighs each query patent once, as a text query asked once
    # per patent (the title reference) does.
    patents = [f.patent.patent_id for f in figures] if request.patent_level and request.query_drawing else None
    return dict(inference.ranking_metrics(relevant, n_relevant, rows, bands, skipped_no_label=skipped_no_label,
                                          patent_labels=patents))


def _fused(
    query: _Query, request: SearchEvaluationRequest, base: dict[str, float], depth: int,
    classes: dict[int, FigureClasses],
) -> list[int]:
    """The query's ranked figure ids as the search service ranks them: fused, then class-focused."""
    if not query.rankings:
        return []
    reference = next((r for r in REFERENCE_RANKINGS if r in query.rankings), None)
    if reference is not None:
        fused = [(n.figure_id, n.score, {}) for n in query.rankings[reference]]
        if reference == "random":  # no scores: the shuffled order itself
            fused = [(f, float(len(fused) - i), r) for i, (f, _, r) in enumerate(fused)]
    else:
        weights = channel_weights(query.rankings, text_weight=request.text_weight, base=base)
        fused = fuse(query.rankings, weights, k=depth)
    weight = _focus_weight(request, reference=reference is not None)
    focused, _ = apply_class_focus(fused, weight=weight, patents=request.class_focus_patents, classes=classes)
    return [item[0] for item in put_identical_first(focused, query.identical, query.rankings)]
