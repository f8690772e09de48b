"""Rows of the exports: citation list, relevance judgments, search log, TREC qrels and runs.

Every export is a generator over a database iterator, so the CSV and text responses stream
whatever the size. The CSVs go through patentsearch.csv_export (formula neutralising).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import IO

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from accounts.models import User
from cases.models import Case, CaseSearch, Judgment, LoggedHit, QueryImage
from cases.selectors.cases import case_citations, case_visible, figure_suffix
from patentsearch.csv_export import csv_lines
from patentsearch.filenames import safe_name
from patentsearch.zip_export import Content
from retrieval.selectors.class_focus import ClassFocus

CITATION_HEADER = ("application_number", "patent_id", "title", "grant_date", "category", "figures",
                   "best_grade", "note", "examiner", "judged_at")
SEARCH_LOG_HEADER = ("application_number", "search", "search_id", "searched_at", "examiner", "origin", "based_on_search",
                     "like_figure", "drawings", "drawing_sha256", "crops", "text", "text_weight", "k", "filters",
                     "cutoff", "cutoff_overridden", "model", "model_version", "class_focus", "words_matched",
                     "unsearched", "figures_shown", "patents_shown")
JUDGMENT_HEADER = ("case_id", "application_number", "figure_id", "patent_id", "grade", "category", "note",
                   "examiner", "judged_at", "search_id", "model", "rank", "score")


def _blank(value: object) -> object:
    return "" if value is None else value


def citation_rows(case: Case) -> Iterator[tuple[object, ...]]:
    for citation in case_citations(case):
        latest = citation.latest
        yield (case.application_number, citation.patent.patent_id, citation.patent.title,
               _blank(citation.patent.grant_date and citation.patent.grant_date.isoformat()),
               citation.category, ";".join(citation.figures), _blank(citation.best_grade), citation.note,
               latest.judged_by.username, latest.judged_at.isoformat())


def search_log_rows(case: Case) -> Iterator[tuple[object, ...]]:
    """The case's searches, oldest first, for the file: each query as it was run (drawings by
    SHA-256 with their crops, text, filters, cutoff, model, class focus) and what it showed (the
    figure ids in rank order, and the patents in the order they were first shown). ``search`` is
    the number the case's pages show; ``search_id`` the id the judgments export, the qrels and
    the run files use, so the files join."""
    searches = (CaseSearch.objects.filter(case=case).order_by("number")
                .select_related("created_by", "rerun_of", "refined_from")
                .prefetch_related(Prefetch("images", queryset=QueryImage.objects.order_by("position"))))
    # every search's ranking in one query, in the searches' order: each search takes its group
    hits = (LoggedHit.objects.filter(search__case=case).order_by("search__number", "rank")
            .values_list("search_id", "figure_id", "figure__patent__patent_id").iterator(chunk_size=2000))
    rankings = groupby(hits, key=itemgetter(0))
    ranking = next(rankings, None)
    for search in searches.iterator(chunk_size=200):
        shown: list[tuple[int, str]] = []
        if ranking is not None and ranking[0] == search.pk:
            shown = [(figure_id, patent_id) for _, figure_id, patent_id in ranking[1]]
            ranking = next(rankings, None)
        images = list(search.images.all())
        patents = list(dict.fromkeys(patent_id for _, patent_id in shown))
        based_on = search.rerun_of or search.refined_from
        yield (case.application_number, search.number, search.pk, search.created_at.isoformat(),
               search.created_by.username,
               search.origin, based_on.number if based_on else "", _blank(search.like_figure_id), len(images),
               ";".join(image.sha256 for image in images), ";".join(_crop(image.crop) for image in images),
               search.text, search.text_weight, search.k,
               json.dumps(search.filters, sort_keys=True, separators=(",", ":")) if search.filters else "",
               _blank(search.cutoff_date and search.cutoff_date.isoformat()),
               "yes" if search.cutoff_overridden else "no",
               search.model_name, search.model_version, _focus(search),
               "" if search.words_matched is None else ("yes" if search.words_matched else "no"),
               _blank(search.unsearched),
               ";".join(str(figure_id) for figure_id, _ in shown), ";".join(patents))


def _crop(crop: list[float] | None) -> str:
    """A crop box as ``left,top,right,bottom`` fractions; ``whole`` for an uncropped drawing."""
    return ",".join(f"{value:.3f}" for value in crop) if crop else "whole"


def _focus(search: CaseSearch) -> str:
    """``off``; ``on``; or ``on:`` and the classes it voted with their shares."""
    if not search.class_focus_on:
        return "off"
    if not search.class_focus:
        return "on"
    return "on: " + ClassFocus.from_dict(search.class_focus).summary()


def judgments_visible(user: User, case_id: int | None = None) -> QuerySet[Judgment]:
    judgments = Judgment.objects.filter(case__in=case_visible(user))
    if case_id is not None:
        judgments = judgments.filter(case_id=case_id)
    shown = LoggedHit.objects.filter(search_id=OuterRef("search_id"), figure_id=OuterRef("figure_id"))
    return (judgments.select_related("case", "figure__patent", "judged_by", "search")
            .annotate(hit_rank=Subquery(shown.values("rank")[:1]), hit_score=Subquery(shown.values("score")[:1]))
            .order_by("case_id", "figure_id"))


def judgment_rows(user: User, case_id: int | None = None) -> Iterator[tuple[object, ...]]:
    for judgment in judgments_visible(user, case_id).iterator(chunk_size=2000):
        search = judgment.search
        yield (judgment.case_id, judgment.case.application_number, judgment.figure_id,
               judgment.figure.patent.patent_id, _blank(judgment.grade), judgment.category, judgment.note,
               judgment.judged_by.username, judgment.judged_at.isoformat(), _blank(judgment.search_id),
               search.model_name if search else "", _blank(judgment.hit_rank),
               _blank(judgment.hit_score))


def qrels_lines(case: Case) -> Iterator[str]:
    """TREC qrels, ``search_id 0 figure_id grade``: the case's graded judgments, repeated for
    every logged search of the case (all the case's searches seek the same prior art, so each
    is a topic that the case's judgments grade)."""
    graded = list(Judgment.objects.filter(case=case, grade__isnull=False).order_by("figure_id")
                  .values_list("figure_id", "grade"))
    for search_id in CaseSearch.objects.filter(case=case).order_by("number").values_list("pk", flat=True):
        for figure_id, grade in graded:
            yield f"{search_id} 0 {figure_id} {grade}\n"


def run_lines(search: CaseSearch) -> Iterator[str]:
    """TREC run, ``search_id Q0 figure_id rank score tag``: the logged ranking (tag: the model)."""
    tag = safe_name(search.model_name, "run")
    hits = LoggedHit.objects.filter(search=search).order_by("rank").values_list("figure_id", "rank", "score")
    for figure_id, rank, score in hits.iterator(chunk_size=2000):
        yield f"{search.pk} Q0 {figure_id} {rank} {score!r} {tag}\n"


#: What the case file's README says each part is (its order is the archive's).
CASE_FILE_PARTS = (
    ("citations.csv", "the cited prior art, one row per patent (as GET /api/v1/cases/{id}/citations.csv)"),
    ("judgments.csv", "every current judgment of the case (as GET /api/v1/judgments.csv?case={id})"),
    ("searches.csv", "the search log, one row per logged search (as GET /api/v1/cases/{id}/searches.csv)"),
    ("qrels.txt", "TREC qrels of the case's graded judgments (as GET /api/v1/cases/{id}/qrels.txt)"),
    ("runs/", "each logged ranking as a TREC run, search-N.txt (N: the number the pages show)"),
    ("drawings/", "each logged query drawing as stored, search-N-P-name (its crop box is in searches.csv)"),
    ("cited/", "each cited figure's drawing, PATENT-FIGn (or the figure's file name where it has no number)"),
)


def case_file_entries(case: Case, user: User) -> Iterator[tuple[str, Content]]:
    """The case file, for the record outside the application: the case's exports, its logged
    rankings and query drawings, and the cited figures' drawings, as (name in the archive,
    content) for patentsearch.zip_export. Each CSV and text part is the same generator as its own
    download, so the two never differ. A stored drawing whose file is gone from the media folder
    is left out and named in the README (the rest of the record is still worth having)."""
    searches = list(CaseSearch.objects.filter(case=case).order_by("number").prefetch_related("images"))
    stored: dict[str, FieldFile] = {}
    for search in searches:
        for image in search.images.all():
            name = safe_name(image.filename or image.file.name.rsplit("/", 1)[-1], "drawing")
            stored[f"drawings/search-{search.number}-{image.position + 1}-{name}"] = image.file
    for citation in case_citations(case):
        for judgment, shown in citation.judged_figures:
            suffix = figure_suffix(judgment.figure)
            label = shown.replace("FIG. ", "FIG")
            name = "cited/" + safe_name(f"{citation.patent.patent_id}-{label}", "figure")
            name = f"{name}-{judgment.figure_id}" if f"{name}.{suffix}" in stored else name  # two alike labels
            stored[f"{name}.{suffix}"] = judgment.figure.image
    missing = [name for name, file in stored.items() if not file.name or not file.storage.exists(file.name)]
    yield "README.txt", iter([_case_file_readme(case, len(searches), missing)])
    yield "citations.csv", csv_lines(CITATION_HEADER, citation_rows(case))
    yield "judgments.csv", csv_lines(JUDGMENT_HEADER, judgment_rows(user, case.pk))
    yield "searches.csv", csv_lines(SEARCH_LOG_HEADER, search_log_rows(case))
    yield "qrels.txt", qrels_lines(case)
    for search in searches:
        yield f"runs/search-{search.number}.txt", run_lines(search)
    gone = set(missing)
    for name, file in stored.items():
        if name not in gone:
            yield name, _opener(file)


def _opener(stored: FieldFile) -> Callable[[], IO[bytes]]:
    """Opens a stored file for reading when the archive reaches it (not before: one at a time)."""
    return lambda: stored.open("rb")


def _case_file_readme(case: Case, searches: int, missing: list[str]) -> str:
    lines = [
        f"Case file of application {case.application_number}: {case.title}",
        f"Examiner {case.examiner.username}; prior-art cutoff: granted before {case.cutoff_date.isoformat()}; "
        f"{case.get_status_display().lower()}; {searches} logged search{'es' if searches != 1 else ''}.",
        f"Exported by PatentSearch on {timezone.now().isoformat(timespec='seconds')}.",
        "",
        *(f"{name:15} {what.replace('{id}', str(case.pk))}" for name, what in CASE_FILE_PARTS),
        "",
        *([f"Not in this archive: {len(missing)} stored drawing(s) whose file is missing from the media folder:",
           *(f"  {name}" for name in missing), ""] if missing else []),
    ]
    return "\r\n".join(lines)
