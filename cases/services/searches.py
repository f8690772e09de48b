"""Running searches in a case and logging them, immutably, with the exact ranking shown.

A search is one of: drawings (up to ``CASES_MAX_QUERY_IMAGES`` views, fused by
``retrieval.selectors.search.fuse_views``; each optionally cropped, on the server, from the
original pixels) and/or a text; "more like this" from one figure's stored vector (never
re-encoded); or "refine", Rocchio relevance feedback on an earlier search of the case with the
case's judgments. Every search applies the case's cutoff (``grant_date < cutoff``) unless the
search overrides it, which is logged (``cutoff_overridden``) and shown. Each search ranks the
best hits' classes first unless ``class_focus`` is false (retrieval.selectors.class_focus); the
log records whether it was on and what it voted, so the log says why the list was so ordered.

The log row, its stored drawings and its ranking are written in one transaction after the
search ran, so a failed search logs nothing. "Re-run" repeats a logged query (its stored
drawings, crops, text, filters, cutoff, origin and feedback) against today's index and model
and logs the result as a new search that points at the original; the class focus is on or off
as it was in the original (what it votes is today's).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from numpy.typing import NDArray
from PIL import Image

from accounts.models import User
from cases.grades import RELEVANT_MIN_GRADE, Grade
from cases.models import Case, CaseSearch, Judgment, LoggedHit, QueryImage
from cases.query_images import Crop, crop_apply, crop_check, stored_query_image
from cases.selectors.cases import search_seed
from cases.services.cases import case_check_open
from patentsearch.exceptions import ApplicationError
from retrieval import index
from retrieval.models import Figure, RetrievalModel
from retrieval.selectors.models import model_get_active
from retrieval.selectors.search import (
    SearchResult,
    figure_search,
    query_exclusions,
    query_vector_for,
    search_filters,
)


@dataclass(frozen=True)
class QueryDrawing:
    """One uploaded query drawing: the file as sent, and its decoded first page."""

    data: bytes
    filename: str
    image: Image.Image
    crop: Crop | None = None


def case_search_run(
    *, case: Case, user: User, drawings: Sequence[QueryDrawing] = (), text: str = "", text_weight: float = 0.5,
    k: int, filters: dict | None = None, cutoff: dt.date | None = None, ignore_cutoff: bool = False,
    like_figure: int | None = None, refine: int | None = None, class_focus: bool = True,
) -> CaseSearch:
    """Run one search in the case and log it. Raises ApplicationError for anything a user must fix.

    ``class_focus``: rank the best hits' classes first; a refined search takes its base's, as it
    takes its base's text, k, filters and cutoff."""
    case_check_open(case)
    kinds = [bool(drawings or text.strip()), like_figure is not None, refine is not None]
    if not any(kinds):
        raise ApplicationError("Nothing to search: add a drawing or a description.")
    if sum(kinds) != 1:
        raise ApplicationError("A search is drawings and/or a text, or like_figure, or refine: exactly one of them.")
    if len(drawings) > settings.CASES_MAX_QUERY_IMAGES:
        raise ApplicationError(
            f"{len(drawings)} drawings sent; a query takes at most {settings.CASES_MAX_QUERY_IMAGES}.",
            {"images": len(drawings)},
        )
    for position, drawing in enumerate(drawings):
        crop_check(drawing.crop, position=position)
    model = model_get_active()
    spec = _Spec(text=text if kinds[0] else "", text_weight=text_weight, k=k, filters=filters or {},
                 class_focus=class_focus)
    spec.set_cutoff(case, cutoff, ignore_cutoff)
    if like_figure is not None:
        spec.origin, spec.like_figure = CaseSearch.Origin.LIKE_FIGURE, _figure(like_figure)
    if refine is not None:
        base = _case_search(case, refine)
        spec.origin, spec.refined_from = CaseSearch.Origin.REFINE, base
        spec.text, spec.text_weight, spec.k, spec.filters = base.text, base.text_weight, base.k, base.filters
        spec.cutoff_date, spec.cutoff_overridden = base.cutoff_date, base.cutoff_overridden
        spec.class_focus = base.class_focus_on
        spec.feedback = _feedback(case)
    images = [crop_apply(d.image, d.crop) for d in drawings]
    result = _execute(spec, model, images)
    return _log(case, user, spec, result, drawings)


def case_search_rerun(*, search: CaseSearch, user: User, k: int | None = None) -> CaseSearch:
    """Repeat a logged query against today's index and model; logged as a new search. ``k``: its
    number of hits (None: the logged search's), so an examiner at the end of a list searches
    deeper with the same query, and the re-run's comparison marks what lay beyond it as new."""
    case = search.case
    case_check_open(case)
    original = search
    spec = _Spec(
        origin=CaseSearch.Origin.RERUN, text=original.text, text_weight=original.text_weight, k=k or original.k,
        filters=original.filters, cutoff_date=original.cutoff_date, cutoff_overridden=original.cutoff_overridden,
        like_figure=original.like_figure, refined_from=original.refined_from, rerun_of=original,
        feedback=original.feedback, class_focus=original.class_focus_on,
    )
    model = model_get_active()
    root = _recipe_root(original)
    if root.origin == CaseSearch.Origin.QUERY:  # drawings and text: through the search as it is today
        result = _execute(spec, model, [stored_query_image(image) for image in root.images.all()])
    else:
        result = figure_search(query_vector=_saved_vector(original, model), k=spec.k, filters=spec.figure_filters(),
                               class_focus=spec.class_focus)
    return _log(case, user, spec, result, [], copy_from=original)


def case_search_left_out(search: CaseSearch) -> set[int]:
    """The figures a logged search never shows whatever the model: its "more like this" seed
    (through re-runs and refines). Evaluation leaves them out of what the search could find."""
    seed = search_seed(search)
    return {seed.pk} if seed is not None else set()


def case_search_replay(*, search: CaseSearch, model: RetrievalModel, k: int) -> SearchResult:
    """The ranking a logged search's query gets today under ``model``, logging nothing (for
    evaluation against the case's judgments). Its stored drawings (cropped) and text, or its
    "more like this" figure's vector under the model, with the search's filters, cutoff and
    class focus (on or off, as the search ran).

    Raises:
        ApplicationError: a refined search (its query is made from the judgments it would be
            scored against) or a re-run (ask its original), or a seed figure without a vector.
    """
    if search.origin == CaseSearch.Origin.REFINE or search.origin == CaseSearch.Origin.RERUN:
        raise ApplicationError("Only original queries (drawings, text, more like this) are replayed.",
                               {"search": search.pk, "origin": search.origin})
    filters = _figure_filters(search.filters or {}, search.cutoff_date, search_seed(search))
    if search.origin == CaseSearch.Origin.LIKE_FIGURE:
        return figure_search(query_vector=_stored_vector(model, search.like_figure), k=k, filters=filters,
                             model=model, class_focus=search.class_focus_on)
    images = [stored_query_image(image) for image in search.images.all()]
    return figure_search(images=images, text=search.text, text_weight=search.text_weight, k=k,
                         filters=filters, model=model, class_focus=search.class_focus_on)


@dataclass
class _Spec:
    """What a logged search records about its query (everything but the drawings)."""

    text: str = ""
    text_weight: float = 0.5
    k: int = 20
    filters: dict | None = None
    origin: str = CaseSearch.Origin.QUERY
    cutoff_date: dt.date | None = None
    cutoff_overridden: bool = False
    like_figure: Figure | None = None
    refined_from: CaseSearch | None = None
    rerun_of: CaseSearch | None = None
    feedback: dict | None = None
    class_focus: bool = True

    def set_cutoff(self, case: Case, cutoff: dt.date | None, ignore: bool) -> None:
        self.cutoff_date = None if ignore else (cutoff or case.cutoff_date)
        self.cutoff_overridden = self.cutoff_date != case.cutoff_date

    def figure_filters(self) -> index.FigureFilters:
        """The index filters of the search, with its text's "-word" terms: a refine (a vector,
        no text channels) leaves out what its base left out."""
        return query_exclusions(self.text, _figure_filters(self.filters or {}, self.cutoff_date, self.seed()))[1]

    def seed(self) -> Figure | None:
        """The "more like this" figure the query is or descends from (a refine or re-run of such a
        search stays without it, as that search was); derived, not logged."""
        parent = self.rerun_of or self.refined_from
        return self.like_figure or (search_seed(parent) if parent is not None else None)


def _figure_filters(filters: dict, cutoff: dt.date | None, seed: Figure | None = None) -> index.FigureFilters:
    """The index filters of a logged search: its filters, its cutoff, and for "more like this"
    its seed figure left out (the examiner has it in front of them; shown first at score 1.000 it
    took a place on the page and counted as an unjudged miss when the search is evaluated)."""
    data = dict(filters)
    for key in ("grant_date_from", "grant_date_to"):
        data[key] = dt.date.fromisoformat(data[key]) if data.get(key) else None
    if cutoff is not None:
        before = cutoff - dt.timedelta(days=1)  # grant_date < cutoff; the filter's bound is inclusive
        data["grant_date_to"] = min(data["grant_date_to"], before) if data["grant_date_to"] else before
    checked = search_filters(data)
    return dataclasses.replace(checked, exclude_figure_ids=[seed.pk]) if seed is not None else checked


def _execute(spec: _Spec, model: RetrievalModel, images: list[Image.Image]) -> SearchResult:
    if spec.origin == CaseSearch.Origin.LIKE_FIGURE:
        vector = _stored_vector(model, spec.like_figure)  # type: ignore[arg-type]
        return figure_search(query_vector=vector, k=spec.k, filters=spec.figure_filters(),
                             class_focus=spec.class_focus)
    if spec.origin == CaseSearch.Origin.REFINE:
        vector = _rocchio(_saved_vector(spec.refined_from, model), spec.feedback or {}, model)  # type: ignore[arg-type]
        return figure_search(query_vector=vector, k=spec.k, filters=spec.figure_filters(),
                             class_focus=spec.class_focus)
    return figure_search(images=images, text=spec.text, text_weight=spec.text_weight, k=spec.k,
                         filters=spec.figure_filters(), class_focus=spec.class_focus)


def _recipe_root(search: CaseSearch) -> CaseSearch:
    while search.origin == CaseSearch.Origin.RERUN and search.rerun_of is not None:
        search = search.rerun_of
    return search


def _saved_vector(search: CaseSearch, model: RetrievalModel) -> NDArray[np.float32]:
    """The query vector of a logged search under a model, rebuilt from what the log stored."""
    search = _recipe_root(search)
    if search.origin == CaseSearch.Origin.LIKE_FIGURE:
        return _stored_vector(model, search.like_figure)  # type: ignore[arg-type]
    if search.origin == CaseSearch.Origin.REFINE:
        return _rocchio(_saved_vector(search.refined_from, model), search.feedback, model)  # type: ignore[arg-type]
    images = [stored_query_image(image) for image in search.images.all()]
    return query_vector_for(model, images, search.text, search.text_weight)


def _stored_vector(model: RetrievalModel, figure: Figure) -> NDArray[np.float32]:
    vector = index.embeddings_for(model, [figure.pk]).get(figure.pk)
    if vector is None:
        raise ApplicationError(
            f"Figure {figure.pk} has no vector under the active model {model.name}; it cannot seed a search.",
            {"like_figure": figure.pk},
        )
    return vector


def _feedback(case: Case) -> dict:
    judged = Judgment.objects.filter(case=case, grade__isnull=False).order_by("figure_id")
    relevant = [j.figure_id for j in judged if j.grade >= RELEVANT_MIN_GRADE]
    not_relevant = [j.figure_id for j in judged if j.grade == Grade.NOT_RELEVANT]
    if not relevant and not not_relevant:
        raise ApplicationError(
            "Refine needs judgments: grade hits 2-3 (relevant) or 0 (not relevant) first.", {"refine": "no judgments"}
        )
    return {"beta": settings.CASES_ROCCHIO_BETA, "gamma": settings.CASES_ROCCHIO_GAMMA,
            "relevant": relevant, "not_relevant": not_relevant}


def _rocchio(query: NDArray[np.float32], feedback: dict, model: RetrievalModel) -> NDArray[np.float32]:
    """q + beta * mean(relevant) - gamma * mean(not relevant), on unit vectors, normalised."""
    vectors = index.embeddings_for(model, [*feedback.get("relevant", []), *feedback.get("not_relevant", [])])
    relevant = [vectors[f] for f in feedback.get("relevant", []) if f in vectors]
    not_relevant = [vectors[f] for f in feedback.get("not_relevant", []) if f in vectors]
    refined = np.asarray(query, dtype=np.float64)
    if relevant:
        refined = refined + feedback["beta"] * np.mean(relevant, axis=0)
    if not_relevant:
        refined = refined - feedback["gamma"] * np.mean(not_relevant, axis=0)
    norm = float(np.linalg.norm(refined))
    return (refined / norm if norm > 0 else refined).astype(np.float32)


def _figure(figure_id: int) -> Figure:
    figure = Figure.objects.filter(pk=figure_id).first()
    if figure is None:
        raise ApplicationError(f"Figure {figure_id} does not exist.", {"figure": figure_id})
    return figure


def _case_search(case: Case, search_id: int) -> CaseSearch:
    search = CaseSearch.objects.filter(case=case, pk=search_id).first()
    if search is None:
        raise ApplicationError(f"Search {search_id} is not a search of this case.", {"search": search_id})
    return search


def _store_file(data: bytes, filename: str) -> tuple[str, str]:
    """Write the drawing under MEDIA_ROOT by its content; returns (name, sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    suffix = Path(filename).suffix.lower().lstrip(".")
    extension = suffix if suffix in {"png", "jpg", "jpeg", "tif", "tiff", "pdf"} else "bin"
    name = f"case-queries/{digest[:2]}/{digest}.{extension}"
    path = Path(settings.MEDIA_ROOT) / name
    if not (path.exists() and path.stat().st_size == len(data)):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return name, digest


@transaction.atomic
def _log(
    case: Case, user: User, spec: _Spec, result: SearchResult, drawings: Sequence[QueryDrawing],
    copy_from: CaseSearch | None = None,
) -> CaseSearch:
    case = Case.objects.select_for_update().get(pk=case.pk)
    case_check_open(case)
    number = (case.searches.aggregate(n=Max("number"))["n"] or 0) + 1
    search = CaseSearch.objects.create(
        case=case, number=number, created_by=user, origin=spec.origin, text=spec.text,
        text_weight=spec.text_weight, k=spec.k, filters=spec.filters or {}, cutoff_date=spec.cutoff_date,
        cutoff_overridden=spec.cutoff_overridden, like_figure=spec.like_figure, refined_from=spec.refined_from,
        rerun_of=spec.rerun_of, feedback=spec.feedback or {}, model_name=result.model.name,
        model_version=result.model.version, seconds=result.seconds, class_focus_on=spec.class_focus,
        class_focus=dataclasses.asdict(result.focus) if result.focus is not None else None,
        words_matched=result.words_matched, unsearched=result.unsearched,
    )
    if copy_from is not None:
        for image in copy_from.images.all():
            QueryImage.objects.create(search=search, position=image.position, file=image.file.name,
                                      filename=image.filename, sha256=image.sha256, crop=image.crop)
    else:
        for position, drawing in enumerate(drawings):
            name, digest = _store_file(drawing.data, drawing.filename)
            QueryImage.objects.create(search=search, position=position, file=name, filename=drawing.filename[:255],
                                      sha256=digest, crop=list(drawing.crop) if drawing.crop else None)
    LoggedHit.objects.bulk_create(
        LoggedHit(search=search, rank=hit.rank, figure_id=hit.figure.pk, score=hit.score, identical=hit.identical)
        for hit in result.hits
    )
    case.save(update_fields=["updated_at"])
    return search
