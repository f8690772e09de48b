"""Search: the one search service of the API, the page, cases and the CLI.

A query is a drawing, a text, or both. Each *channel* ranks figures on its own:

- ``drawing``: the drawing's vector under the active model (several drawings of one design are
  fused into one vector by :func:`fuse_views`), nearest in the pgvector index;
- ``text_tower``: the text through the model's text tower into the same index (models that
  map texts into their drawing space only);
- ``fulltext``: PostgreSQL full-text search over each figure's words (title, object name,
  viewpoint, caption, LLM descriptions): ``websearch_to_tsquery`` and word prefixes;
- ``trigram``: share of the query's word trigrams in the title and object name (pg_trgm's
  method; forgives misspellings and compounds written apart or together);
- ``sentence``: the locked sentence model (all-MiniLM-L6-v2) of the text against each
  figure's sentence vector;
- ``joint`` (a drawing plus a text, with a model whose drawings live in the sentence space,
  trained LiT-style like ``default``): the text's and the drawing's vectors as one query,
  ``normalize(t + α·d)`` (:func:`joint_vector`, α = ``RETRIEVAL_JOINT_DRAWING_WEIGHT``),
  against each figure's sentence vector: the text's cosine plus α times the drawing's,
  fused by score, so the text's wide gaps survive and the drawing reorders near-ties.

The channels' ranks are fused by weighted reciprocal rank fusion (Cormack et al. 2009):
``score(f) = sum_c w_c / (RRF_K + rank_c(f))``. A drawing-only query uses ``drawing``; a
text-only query the text channels; a drawing plus a text all of them, the drawing channel
weighted by ``1 - text_weight`` and the text channels by ``text_weight`` (both times 2, so the
default 0.5 leaves the channel weights as they are; the joint channel carries the text weight
inside its query vector instead; under a text weight of 0.25 the drawing channel joins it,
``1 - w/0.25`` against ``w/0.25``, so at 0 the drawing ranks alone, as the slider's end
promises). The channel weights come from the settings
(:func:`fusion_weights`), chosen on the validation patents of the dev corpus with
``manage.py evaluate_search`` (docs/evaluation.md): ``RETRIEVAL_FUSION_WEIGHTS_JOINT`` when the
joint channel is there (by default the joint channel alone: rank fusion with the drawing
channel diluted the words), ``RETRIEVAL_FUSION_WEIGHTS`` for other drawing-plus-text queries,
``RETRIEVAL_FUSION_WEIGHTS_TEXT_ONLY`` for text-only ones. A channel of weight 0 does not
rank but still reports its ranks: each hit says which channels found it and at which rank.
With a single ranking channel, a hit's score is that channel's own score (cosine similarity
for the vector channels); with several, the fused score.

A text's "-word" terms ("pillow -cushion", '-"office chair"') leave out every figure whose texts
hold them, in every channel (:func:`query_exclusions`): a filter like the corpus or the class, so
each channel still returns its k. The text channels and the sentence model are asked for the
rest of the text alone.

The fused list is then re-ranked by the class focus (:mod:`retrieval.selectors.class_focus`):
the classes of the best hits' patents come first. A hit keeps its fused score and reports the
focus's boost (``class_boost``); the result says which classes were voted (``focus``).

Last, the query's own drawing comes first (:func:`put_identical_first`): a figure whose drawing
vector meets one of the uploaded drawings at ``RETRIEVAL_IDENTICAL_MIN_COSINE`` or above (the same
pixels: a corpus drawing uploaded again, or an application whose drawing was published) is put
before every other hit and says so (``identical``). Why a rule and not a channel: the joint
channel compares the drawing with the figures' *words*, so an identical drawing gains nothing
there over its patent's other views, and the class focus can lift a whole class above it; with
the case title as the text, the query's own patent was the first patent for only 74 % of the
dev corpus's multi-view drawings uploaded as they are (docs/evaluation.md).

A query also says how many figures within its filters it could not be compared with
(``unsearched``): a drawing query, those with no vector under the model yet
(:func:`unsearched_figures`); a text alone, those with no text row yet
(:func:`unsearched_text_figures`). While a corpus is being encoded the answer is partial, and the
pages and a case's log say so.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from numpy.typing import NDArray
from PIL import Image

from patentsearch.exceptions import ApplicationError
from retrieval import index, inference
from retrieval.exceptions import ModelOutdatedError
from retrieval.index import FigureFilters
from retrieval.models import Figure, RetrievalModel
from retrieval.selectors.class_focus import ClassFocus, apply_class_focus
from retrieval.selectors.corpora import newest_figure_id
from retrieval.selectors.models import model_get_active

#: Channel names, in the order the API lists them.
CHANNELS = ("drawing", "text_tower", "fulltext", "trigram", "sentence", "joint")
TEXT_CHANNELS = ("text_tower", "fulltext", "trigram", "sentence")
#: Under this text weight the drawing channel shares a joint query's ranking (all of it at 0).
JOINT_FULL_BELOW = 0.25


@dataclass(frozen=True)
class FigureHit:
    rank: int
    score: float
    figure: Figure
    #: Rank (1-based) of the figure in each channel that found it, e.g. {"drawing": 3, "fulltext": 1}.
    channels: dict[str, int] = field(default_factory=dict)
    #: What the class focus added to the figure's normalised score (0: not of a voted class).
    class_boost: float = 0.0
    #: The figure's drawing is one of the query's (put_identical_first): ranked first for that.
    identical: bool = False


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
    #: The class focus's voted classes (None: off, or no voting patent had a class).
    focus: ClassFocus | None = None
    #: For a query with a text: whether any figure's words (full-text or trigram channel) matched
    #: it; False means every hit is a neighbour in meaning only (None: no text channels ran).
    words_matched: bool | None = None
    #: Figures within the filters that the query could not be compared with yet: with a drawing,
    #: those without a vector under the model (:func:`unsearched_figures`); a text alone, those
    #: without a text row (:func:`unsearched_text_figures`). None: neither was counted.
    unsearched: int | None = None
    #: ``unsearched`` counts figures without a text row (a text alone), not without a vector.
    unsearched_by_text: bool = False
    #: The query's "-word" terms: no hit's texts hold them (:func:`query_exclusions`).
    excluded: tuple[str, ...] = ()

    def by_patent(self) -> list[PatentGroup]:
        groups: dict[str, PatentGroup] = {}
        for hit in self.hits:
            key = hit.figure.patent.patent_id
            if key not in groups:
                groups[key] = PatentGroup(key, hit.rank, hit.score)
            groups[key].hits.append(hit)
        return list(groups.values())


def search_filters(data: Mapping[str, Any]) -> FigureFilters:
    """The index filters of a checked search form (retrieval.search_input)."""
    return FigureFilters(
        corpus_ids=data.get("corpus", []),
        us_class_main=data.get("us_class_main", []),
        locarno_class=data.get("locarno_class", []),
        grant_date_from=data.get("grant_date_from"),
        grant_date_to=data.get("grant_date_to"),
        exclude_front_page=not data.get("include_front_page", False),
    )


def search_warm_up() -> str | None:
    """Load the active model and the sentence model into this process before the first query
    (a web worker calls it once at start, see patentsearch/gunicorn_conf.py), so that no
    examiner waits for a model load. Returns the model's name; None when no model is active."""
    model = RetrievalModel.objects.filter(is_active=True).first()
    if model is None:
        return None
    inference.load_encoder(model.checkpoint)
    inference.embed_sentences(["warm-up"])
    return model.name


def figure_search(
    *, image: Image.Image | None = None, text: str = "", text_weight: float = 0.5, k: int = 20,
    filters: FigureFilters | None = None, images: Sequence[Image.Image] = (),
    query_vector: NDArray[np.float32] | None = None, model: RetrievalModel | None = None,
    class_focus: bool = True,
) -> SearchResult:
    """The k figures that best match the drawing(s), the text, or both (see the module docstring).

    ``images`` are several drawings of one design (its views), fused into one drawing vector by
    :func:`fuse_views`. ``query_vector`` is a precomputed unit vector in the model's drawing
    space that stands for the drawing(s), with no encoding: a stored figure vector ("more like
    this", a study task's query figures) or a Rocchio-refined query. ``model`` is the model to
    search with (None: the active one). ``class_focus``: re-rank by the best hits' classes
    (:mod:`retrieval.selectors.class_focus`; its weight comes from the settings).
    """
    started = time.perf_counter()
    model = model or model_get_active()
    text, filters = query_exclusions(text, filters)
    drawings = [*([image] if image is not None else []), *images]
    if not text.strip() and not drawings and query_vector is None:
        if filters.exclude_words:
            raise ApplicationError(
                "The description only says what to leave out ("
                + ", ".join(f"-{term}" for term in filters.exclude_words)
                + "): add a word to find, or a drawing.", {"text": "only_exclusions"})
        raise ApplicationError("The description has no word to search for: type one, or add a drawing.",
                               {"text": "no_words"})
    views = None
    if query_vector is not None:
        drawing = _unit(np.asarray(query_vector, dtype=np.float32))
    elif drawings:
        views = inference.embed_images(model.checkpoint, drawings)
        drawing = fuse_views(views)
    else:
        drawing = None
    rankings = channel_rankings(model=model, drawing=drawing, text=text, k=k, filters=filters, text_weight=text_weight)
    identical = {} if views is None else identical_figures(
        model=model, views=views, filters=filters, drawing_ranking=rankings["drawing"])
    hits, focus = ranked_hits(rankings, text_weight=text_weight, k=k, class_focus=class_focus, identical=identical)
    word_channels = [c for c in ("fulltext", "trigram") if c in rankings]
    by_text = drawing is None
    unsearched = unsearched_text_figures(filters=filters) if by_text else unsearched_figures(model=model, filters=filters)
    return SearchResult(model=model, hits=hits, seconds=time.perf_counter() - started, focus=focus,
                        words_matched=any(rankings[c] for c in word_channels) if word_channels else None,
                        unsearched=unsearched, unsearched_by_text=by_text, excluded=tuple(filters.exclude_words))


def excluded_terms(text: str) -> tuple[str, ...]:
    """The "-word" terms of a typed query (:func:`query_exclusions`), as a logged search's page shows them."""
    return index.split_exclusions(text)[1]


def query_exclusions(text: str, filters: FigureFilters | None) -> tuple[str, FigureFilters]:
    """What a typed query asks to find, and the filters with its "-word" terms added
    (:func:`retrieval.index.split_exclusions`): the text channels and the sentence model read
    the words to find alone, and every channel, the drawing's too, leaves out the figures whose
    texts hold an excluded term. Applying it twice changes nothing."""
    wanted, excluded = index.split_exclusions(text)
    filters = filters or FigureFilters()
    new = [term for term in excluded if term not in filters.exclude_words]
    if new:
        filters = dataclasses.replace(filters, exclude_words=(*filters.exclude_words, *new))
    return wanted, filters


#: How long a process trusts "every figure has a vector under the model" or "every figure has a
#: text row" (see unsearched_figures): counting the catalogue is a pass over every figure (``make
#: bench`` measures it), and the usual changes (an ingest, new weights) are seen at once through
#: the key; what only this clock sees is rarer (an admin replaced a figure's image, so its vector
#: was dropped).
CATALOGUE_GAP_SECONDS = 120.0
#: How long a process trusts a count of figures still without a vector (the pages show it).
CATALOGUE_GAP_OPEN_SECONDS = 10.0
#: Per channel ("drawing:<model id>", "text"): (its version, the newest figure id, when counted,
#: the catalogue's gap then).
_catalogue_gap: dict[str, tuple[str, int, float, int]] = {}


def unsearched_figures(*, model: RetrievalModel, filters: FigureFilters | None) -> int:
    """How many figures within the filters a drawing query could not compare: no vector under
    the model yet (:func:`retrieval.index.figures_not_indexed`). While a corpus is being encoded,
    after an ingest or after the model's weights changed, a search answers from the figures done
    so far; the page, the API and a case's log say how many were left out, so an examiner does not
    take a partial search for a complete one. A text alone: :func:`unsearched_text_figures`.

    Counting within the filters is one pass over the figures, too much for every search of a
    settled catalogue. So each process first counts the whole catalogue's gap under the model
    and trusts a count of none for ``CATALOGUE_GAP_SECONDS`` (2 minutes), or until a figure is
    added (the newest figure id) or the model's weights change (its version); only a catalogue
    with a gap is counted within the filters, exactly, at each search.
    """
    if catalogue_unsearched(model) == 0:
        return 0
    return index.figures_not_indexed(model=model, filters=filters)


def unsearched_text_figures(*, filters: FigureFilters | None) -> int:
    """How many figures within the filters a text query could not find: no text row yet
    (:func:`retrieval.index.figures_without_text_row`). A worker writes the rows after an ingest,
    on the CPU (a minute or so per 1,500 figures on 2 cores), so a large corpus's words come in
    over a while. Counted as :func:`unsearched_figures` counts (the catalogue first, trusted the
    same time). A row of an older version is still searched, and is not counted."""
    if catalogue_unsearched_text() == 0:
        return 0
    return index.figures_without_text_row(filters=filters)


def catalogue_unsearched_text() -> int:
    """The catalogue's figures without a text row, as this process last counted them (trusted
    as :func:`catalogue_unsearched` is). The search pages show it before a search."""
    return _catalogue_count("text", "", lambda: index.figures_without_text_row(
        filters=index.FigureFilters(exclude_front_page=False)))


def catalogue_unsearched(model: RetrievalModel) -> int:
    """The catalogue's figures without a vector under the model (every corpus, front pages too),
    as this process last counted them: a count of none is trusted for ``CATALOGUE_GAP_SECONDS``
    and any other for ``CATALOGUE_GAP_OPEN_SECONDS``, or until a figure is added or the model's
    weights change. The search pages show it beside the model, before a search is made."""
    return _catalogue_count(f"drawing:{model.pk}", model.version, lambda: index.figures_not_indexed(
        model=model, filters=index.FigureFilters(exclude_front_page=False)))


def _catalogue_count(key: str, version: str, count: Callable[[], int]) -> int:
    """``count()``, or this process's last answer for ``key`` while it is trusted (see
    :func:`catalogue_unsearched`)."""
    newest = newest_figure_id()
    now = time.monotonic()
    seen = _catalogue_gap.get(key)
    if seen is not None and seen[:2] == (version, newest):
        trusted = CATALOGUE_GAP_SECONDS if seen[3] == 0 else CATALOGUE_GAP_OPEN_SECONDS
        if now - seen[2] < trusted:
            return seen[3]
    gap = count()
    _catalogue_gap[key] = (version, newest, now, gap)
    return gap


def ranked_hits(
    rankings: dict[str, list[index.Neighbor]], *, text_weight: float, k: int, class_focus: bool = True,
    identical: Mapping[int, float] | None = None,
) -> tuple[list[FigureHit], ClassFocus | None]:
    """The channels' rankings fused, re-ranked by the class focus (unless ``class_focus`` is
    False), the ``identical`` figures (:func:`identical_figures`) put first, and cut to the ``k``
    best, as hits with their figures loaded."""
    identical = identical or {}
    weights = channel_weights(rankings, text_weight=text_weight)
    fused = fuse(rankings, weights, k=max(int(k), int(settings.RETRIEVAL_FUSION_DEPTH)))
    focused, focus = apply_class_focus(fused, weight=None if class_focus else 0.0)
    focused = put_identical_first(focused, identical, rankings)[: int(k)]
    figures = Figure.objects.select_related("patent", "corpus").in_bulk([item[0] for item in focused])
    hits = [
        FigureHit(rank=rank, score=score, figure=figures[figure_id], channels=ranks, class_boost=boost,
                  identical=figure_id in identical)
        for rank, (figure_id, score, ranks, boost) in enumerate(
            (item for item in focused if item[0] in figures), start=1
        )
    ]
    return hits, focus


#: How many nearest figures each drawing of a several-drawing query is checked against for a copy of itself.
IDENTICAL_DEPTH = 10


def identical_figures(
    *, model: RetrievalModel, views: NDArray[np.float32], filters: FigureFilters | None,
    drawing_ranking: Sequence[index.Neighbor],
) -> dict[int, float]:
    """The figures (under ``filters``) whose drawing vector meets one of the query's drawings
    (``views``: one unit vector per uploaded drawing, before :func:`fuse_views`) at
    ``RETRIEVAL_IDENTICAL_MIN_COSINE`` or above, with the best such cosine. Each drawing asks
    on its own: the fused vector of several views is close to none of them. With one drawing
    the fused vector is that drawing, so the drawing channel's ranking (``drawing_ranking``,
    under the same filters and deeper) already holds its nearest figures: no second index query."""
    threshold = float(settings.RETRIEVAL_IDENTICAL_MIN_COSINE)
    found: dict[int, float] = {}
    if threshold > 1.0:
        return found
    views = np.atleast_2d(np.asarray(views, dtype=np.float32))
    for view in views:
        nearest = drawing_ranking if len(views) == 1 else index.nearest_figures(
            model=model, query=_unit(view), k=IDENTICAL_DEPTH, filters=filters)
        for neighbor in nearest:
            if neighbor.score >= threshold:
                found[neighbor.figure_id] = max(found.get(neighbor.figure_id, 0.0), float(neighbor.score))
    return found


def put_identical_first(
    focused: Sequence[tuple[int, float, dict[str, int], float]], identical: Mapping[int, float],
    rankings: Mapping[str, Sequence[index.Neighbor]],
) -> list[tuple[int, float, dict[str, int], float]]:
    """``focused`` (id, score, ranks, boost) with the ``identical`` figures first, the closest
    copy first (ties in the focused order); the rest keep their order. An identical figure that
    no ranking channel reached within its depth (a text that ranks its patent far down, with the
    drawing channel's weight 0) comes in with its cosine as its score and its ranks where any
    channel found it."""
    if not identical:
        return list(focused)
    place = {item[0]: i for i, item in enumerate(focused)}
    first = []
    for figure_id, cosine in identical.items():
        if figure_id in place:
            first.append(focused[place[figure_id]])
        else:
            ranks = {c: r for c in CHANNELS for r, n in enumerate(rankings.get(c, []), start=1) if n.figure_id == figure_id}
            first.append((figure_id, float(cosine), ranks, 0.0))
    first.sort(key=lambda item: (-identical[item[0]], place.get(item[0], len(place))))
    return first + [item for item in focused if item[0] not in identical]


def check_model_current(model: RetrievalModel) -> None:
    """Refuse to compare a query with the model's stored vectors when its checkpoint now loads
    as another version than they were encoded with (an upgrade retrained it). Called where every
    search meets the index first, :func:`channel_rankings`. The next sweep, ingest or
    ``encode_missing`` drops them and encodes every figure again
    (:func:`retrieval.services.encoding.model_follow_checkpoint`).

    Raises:
        ModelOutdatedError: the versions differ.
    """
    loaded = inference.encoder_version(model.checkpoint)
    if loaded != model.version:
        raise ModelOutdatedError(
            f"The model {model.name!r} has new weights ({loaded}; its figures were encoded with "
            f"{model.version}), so its figures are being encoded again. Search again in a few "
            "minutes; an administrator can start it now with `python manage.py encode_missing`."
        )


#: Encodes a query's text while the database runs the channels that need only its words (see
#: channel_rankings). The model runs outside the GIL and the database in its own process, so the
#: two share the cores; a few threads, for a web process's concurrent requests.
_query_text_encoder = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-text")


def channel_rankings(
    *, model: RetrievalModel, text: str, k: int, filters: FigureFilters | None,
    image: Image.Image | None = None, drawing: NDArray[np.float32] | None = None,
    text_weight: float = 0.5, joint_drawing_weight: float | None = None,
) -> dict[str, list[index.Neighbor]]:
    """Each channel's ranked figures (at least ``RETRIEVAL_FUSION_DEPTH`` deep) for the query:
    a drawing (``image``, or its unit vector ``drawing``), a text, or both.

    ``joint_drawing_weight``: the drawing's share α in the ``joint`` channel's query vector
    (None: ``settings.RETRIEVAL_JOINT_DRAWING_WEIGHT``).
    """
    check_model_current(model)
    text, filters = query_exclusions(text, filters)
    if drawing is None and image is not None:
        drawing = inference.embed_images(model.checkpoint, [image])[0]
    if drawing is None and not text.strip():
        raise ValueError("a search needs a drawing or a text")
    depth = max(int(k), int(settings.RETRIEVAL_FUSION_DEPTH))
    rankings: dict[str, list[index.Neighbor]] = {}
    if drawing is not None:
        rankings["drawing"] = index.nearest_figures(model=model, query=drawing, k=depth, filters=filters)
    if text.strip():
        # The full-text and trigram channels need no vector: the database runs them while the
        # text is encoded (at 100k figures on 2 cores, the encoding's 8 ms of a 60 ms query).
        vectors = _query_text_encoder.submit(inference.embed_query_text, model.checkpoint, text)
        try:
            fulltext = index.fulltext_figures(text=text, k=depth, filters=filters)
            trigram = index.trigram_figures(text=text, k=depth, filters=filters)
        finally:
            tower, sentence = vectors.result()
        if tower is not None:
            rankings["text_tower"] = index.nearest_figures(model=model, query=tower, k=depth, filters=filters)
        rankings["fulltext"], rankings["trigram"] = fulltext, trigram
        rankings["sentence"] = index.sentence_figures(query=sentence, k=depth, filters=filters)
        if drawing is not None and inference.model_in_sentence_space(model.checkpoint):
            alpha = settings.RETRIEVAL_JOINT_DRAWING_WEIGHT if joint_drawing_weight is None else joint_drawing_weight
            joint = joint_vector(sentence, drawing, alpha=float(alpha), text_weight=text_weight)
            rankings["joint"] = index.sentence_figures(query=joint, k=depth, filters=filters)
    return rankings


def joint_vector(
    text: NDArray[np.float32], drawing: NDArray[np.float32], *, alpha: float, text_weight: float = 0.5,
) -> NDArray[np.float32]:
    """The ``joint`` channel's query: ``normalize(2·w·t + 2·(1 − w)·α·d)`` for the text's
    sentence vector t, the drawing's vector d in the same sentence space and the user's text
    weight w (the default 0.5 gives ``normalize(t + α·d)``).

    Why: for unit t and d and a figure's sentence vector x, the inner product is
    ``t·x + α·d·x``, the text's cosine plus α times the drawing's cross-modal cosine, summed
    as scores rather than ranks. The text's wide score gaps (a matching title against an
    unrelated one) survive; the drawing moves figures whose texts score alike. One index scan
    ranks by the sum.
    """
    w = float(text_weight)
    return _unit(2.0 * w * np.asarray(text, np.float32) + 2.0 * (1.0 - w) * float(alpha) * np.asarray(drawing, np.float32))


def fusion_weights(channels: Iterable[str]) -> dict[str, float]:
    """The settings' channel weights for a query with these channels: text-only queries
    ``RETRIEVAL_FUSION_WEIGHTS_TEXT_ONLY``; a drawing plus a text with the ``joint`` channel
    ``RETRIEVAL_FUSION_WEIGHTS_JOINT``; otherwise ``RETRIEVAL_FUSION_WEIGHTS``."""
    channels = set(channels)
    if "drawing" not in channels:
        return dict(settings.RETRIEVAL_FUSION_WEIGHTS_TEXT_ONLY)
    if "joint" in channels:
        return dict(settings.RETRIEVAL_FUSION_WEIGHTS_JOINT)
    return dict(settings.RETRIEVAL_FUSION_WEIGHTS)


def channel_weights(
    rankings: dict[str, list[index.Neighbor]], *, text_weight: float,
    base: dict[str, float] | None = None,
) -> dict[str, float]:
    """The fusion weight of each channel of the query (see the module docstring): the settings'
    weights for the query's channels (:func:`fusion_weights`) unless ``base`` is given."""
    base = dict(fusion_weights(rankings) if base is None else base)
    both = "drawing" in rankings and any(c in rankings for c in TEXT_CHANNELS)
    w = float(text_weight)
    weights = {}
    for channel in rankings:
        weight = float(base.get(channel, 1.0))
        if both and channel in TEXT_CHANNELS:
            weight *= 2.0 * w
        elif both and channel == "drawing":
            weight *= 2.0 * (1.0 - w)
        weights[channel] = weight
    if "joint" in rankings and "drawing" in rankings:
        # ``joint`` holds the text weight inside its query vector (joint_vector), but that vector
        # meets the figures' sentence vectors, not their drawings: at a text weight under
        # JOINT_FULL_BELOW the drawing's own ranking comes in, and takes over at 0 (a drawing-
        # only search), where the joint vector would be the drawing against texts alone. The
        # weights of the API's (0.5) and the case composer's (0.3) defaults are unchanged.
        share = min(1.0, w / JOINT_FULL_BELOW)
        weights["joint"] *= share
        weights["drawing"] += 1.0 - share
    return weights


def fuse(
    rankings: dict[str, list[index.Neighbor]], weights: dict[str, float], *, k: int,
    rrf_k: int | None = None,
) -> list[tuple[int, float, dict[str, int]]]:
    """Weighted reciprocal rank fusion: the best ``k`` figures as (id, score, ranks per channel).

    With a single channel its own scores are kept. Ties break by the drawing channel's rank, then
    by figure id: figures whose texts are the same score exactly alike in the text and joint
    channels (several views described alike, a series of one product), and the drawing is what
    tells them apart; where there is no drawing ranking the order is the id's, stable from one
    query to the next.
    """
    rrf_k = int(settings.RETRIEVAL_RRF_K if rrf_k is None else rrf_k)
    ranks: dict[int, dict[str, int]] = {}
    for channel in CHANNELS:
        for rank, neighbor in enumerate(rankings.get(channel, []), start=1):
            ranks.setdefault(neighbor.figure_id, {})[channel] = rank
    # A query of one channel (a drawing alone) keeps that channel whatever its weight.
    used = list(rankings) if len(rankings) == 1 else [c for c in rankings if weights.get(c, 0.0) > 0]
    unranked = len(rankings.get("drawing", [])) + 1

    def tie_break(figure_id: int) -> tuple[int, int]:
        return ranks[figure_id].get("drawing", unranked), figure_id

    if len(used) <= 1:
        # One channel: its scores (cosine similarity for the vector channels), in its order
        # except among equal scores.
        only = sorted(rankings[used[0]] if used else [], key=lambda n: (-float(n.score), *tie_break(n.figure_id)))
        return [(n.figure_id, float(n.score), ranks[n.figure_id]) for n in only[: int(k)]]
    scores = {
        figure_id: sum(weights.get(c, 0.0) / (rrf_k + r) for c, r in channel_ranks.items())
        for figure_id, channel_ranks in ranks.items()
    }
    order = sorted((f for f in scores if scores[f] > 0), key=lambda f: (-scores[f], *tie_break(f)))
    return [(f, float(scores[f]), ranks[f]) for f in order[: int(k)]]


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
    """The unit query vector of drawings (fused by :func:`fuse_views`) and/or a text (what it asks
    to find: its "-word" terms are a filter, :func:`query_exclusions`)."""
    text = index.split_exclusions(text)[0]
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
