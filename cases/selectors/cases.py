"""Which cases a user may see, and what the case pages show.

An examiner sees only their own cases; an admin sees every case. Anything outside what a user
may see is "not found" (404), never "forbidden", so a case's existence does not leak.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import User
from accounts.roles import SEARCH_ROLES
from cases.grades import Category
from cases.models import Case, CaseSearch, Judgment, JudgmentChange, LoggedHit, QueryImage
from patentsearch.audit import audit_entries
from retrieval.models import Figure

CATEGORY_ORDER = {Category.X: 0, Category.Y: 1, Category.A: 2}


def case_visible(user: User) -> QuerySet[Case]:
    cases = Case.objects.select_related("examiner")
    return cases if user.is_admin_role else cases.filter(examiner=user)


def _count(queryset: QuerySet, expression: str = "pk") -> Coalesce:
    counted = queryset.values("case").annotate(n=Count(expression, distinct=True)).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def case_list(user: User, *, text: str = "", status: str = "", examiner: str = "") -> QuerySet[Case]:
    """The user's cases with their counts: searches, judged figures, cited patents; ``text``
    keeps the cases whose application number or title contains it (any case), ``status`` those
    open or closed, ``examiner`` those of the examiner of that username (an admin's view of
    another's cases)."""
    cases = case_visible(user)
    if text:
        cases = cases.filter(Q(application_number__icontains=text) | Q(title__icontains=text))
    if status:
        cases = cases.filter(status=status)
    if examiner:
        cases = cases.filter(examiner__username=examiner)
    return cases.annotate(
        search_count=_count(CaseSearch.objects.filter(case=OuterRef("pk"))),
        judged_count=_count(Judgment.objects.filter(case=OuterRef("pk")).filter(
            Q(grade__isnull=False) | ~Q(category=""))),
        citation_count=_count(
            Judgment.objects.filter(case=OuterRef("pk")).exclude(category=""), "figure__patent"),
    )


def case_get(user: User, pk: int) -> Case:
    case = case_list(user).filter(pk=pk).first()
    if case is None:
        raise Http404("No such case.")
    return case


def case_search_get(case: Case, pk: int) -> CaseSearch:
    search = (CaseSearch.objects.select_related("created_by", "like_figure__patent", "refined_from", "rerun_of")
              .filter(case=case, pk=pk).first())
    if search is None:
        raise Http404("No such search in this case.")
    return search


def case_searches(case: Case) -> QuerySet[CaseSearch]:
    return (CaseSearch.objects.filter(case=case).select_related("created_by", "like_figure__patent")
            .prefetch_related("images").annotate(hit_count=Count("hits")).order_by("-number"))


def search_source(search: CaseSearch) -> CaseSearch:
    """The logged search whose drawings and text, or "more like this" figure, a search's query
    comes from: itself, or through refines and re-runs the search they descend from (a refine logs
    no drawings of its own; its query is that search's, moved by the judgments)."""
    while search.origin in (CaseSearch.Origin.REFINE, CaseSearch.Origin.RERUN):
        parent = search.refined_from if search.origin == CaseSearch.Origin.REFINE else search.rerun_of
        if parent is None:
            break
        search = parent
    return search


def search_has_drawing(search: CaseSearch) -> bool:
    """Whether a logged search's query had a drawing part (its drawings, a "more like this"
    figure, or a refine's moved vector), through the re-runs it descends from; False: a text alone."""
    while search.origin == CaseSearch.Origin.RERUN and search.rerun_of is not None:
        search = search.rerun_of
    if search.origin in (CaseSearch.Origin.LIKE_FIGURE, CaseSearch.Origin.REFINE):
        return True
    return search.images.exists()


def search_seed(search: CaseSearch) -> Figure | None:
    """The "more like this" figure a search's query descends from, if any."""
    source = search_source(search)
    return source.like_figure if source.origin == CaseSearch.Origin.LIKE_FIGURE else None


def query_image_get(case: Case, search_pk: int, position: int) -> QueryImage:
    image = QueryImage.objects.filter(search__case=case, search_id=search_pk, position=position).first()
    if image is None:
        raise Http404("No such query drawing.")
    return image


def search_hits(search: CaseSearch) -> list[LoggedHit]:
    """The logged ranking, exactly as shown, with figures and patents."""
    return list(LoggedHit.objects.filter(search=search).select_related("figure__patent", "figure__corpus")
                .order_by("rank"))


def case_judgments(case: Case) -> dict[int, Judgment]:
    """The case's current judgments by figure id (shown on every search of the case)."""
    judgments = Judgment.objects.filter(case=case).select_related("search", "judged_by")
    return {j.figure_id: j for j in judgments}


def judgment_history(case: Case, figure_id: int) -> list[JudgmentChange]:
    return list(JudgmentChange.objects.filter(judgment__case=case, judgment__figure_id=figure_id)
                .select_related("changed_by").order_by("changed_at", "id"))


def judgment_histories(case: Case, figure_ids: list[int]) -> dict[int, list[JudgmentChange]]:
    """The change history of the case's judgments of these figures, oldest first, by figure id."""
    changes = (JudgmentChange.objects.filter(judgment__case=case, judgment__figure_id__in=figure_ids)
               .select_related("changed_by", "judgment").order_by("changed_at", "id"))
    histories: dict[int, list[JudgmentChange]] = {}
    for change in changes:
        histories.setdefault(change.judgment.figure_id, []).append(change)
    return histories


@dataclass(frozen=True)
class RerunDiff:
    """How a re-run's ranking differs from the logged one: figures that are new, figures gone."""

    new: list[LoggedHit]
    dropped: list[LoggedHit]
    kept: int


def search_diff(original: CaseSearch, rerun: CaseSearch) -> RerunDiff:
    before, after = search_hits(original), search_hits(rerun)
    before_ids, after_ids = {h.figure_id for h in before}, {h.figure_id for h in after}
    return RerunDiff(new=[h for h in after if h.figure_id not in before_ids],
                     dropped=[h for h in before if h.figure_id not in after_ids],
                     kept=len(before_ids & after_ids))


@dataclass
class Citation:
    """One cited patent of a case: its cited figures and the strongest category and grade."""

    patent: object
    category: str
    judgments: list[Judgment] = field(default_factory=list)
    #: Granted on or after the case's cutoff (cited from a search that moved or dropped it):
    #: not prior art by the date, which the citation pages mark.
    after_cutoff: bool = False

    @property
    def figures(self) -> list[str]:
        return [figure_label(j.figure) for j in self.judgments]

    @property
    def figures_shown(self) -> list[str]:
        """The labels as a page shows them: "FIG. 2" where the corpus numbered the figure."""
        return [figure_shown(j.figure) for j in self.judgments]

    @property
    def judged_figures(self) -> list[tuple[Judgment, str]]:
        """Each cited figure's judgment with its label as shown (the citation page's drawings)."""
        return list(zip(self.judgments, self.figures_shown, strict=True))

    @property
    def best_grade(self) -> int | None:
        grades = [j.grade for j in self.judgments if j.grade is not None]
        return max(grades) if grades else None

    @property
    def note(self) -> str:
        """The cited figures' notes: one as it is, several each after its figure ("FIG. 2: …")."""
        noted = [(shown, j.note) for shown, j in zip(self.figures_shown, self.judgments, strict=True) if j.note]
        if len(noted) == 1:
            return noted[0][1]
        return " | ".join(f"{shown}: {note}" for shown, note in noted)

    @property
    def latest(self) -> Judgment:
        return max(self.judgments, key=lambda j: j.judged_at)


def figure_label(figure: object) -> str:
    """A figure's label, as the search API names it (``figure_label``: the figure number of the
    corpus, e.g. "2"); a figure without one is named by its file (and page)."""
    label = getattr(figure, "figure_label", "")
    if label:
        return label
    page = getattr(figure, "page", 0)
    return f"{figure.source_file}" + (f" p{page + 1}" if page else "")  # type: ignore[attr-defined]


def figure_shown(figure: object) -> str:
    """A figure's label as the pages show it: "FIG. 2" where the corpus numbered the figure, else
    :func:`figure_label`."""
    number = getattr(figure, "figure_label", "")
    return f"FIG. {number}" if number else figure_label(figure)


def figure_suffix(figure: object) -> str:
    """The extension of a figure's stored image ("png"), for a file made of it."""
    name = figure.image.name  # type: ignore[attr-defined]
    return name.rsplit(".", 1)[-1].lower() if "." in name else "png"


def query_figures(ids: Iterable[int], *, limit: int) -> list[tuple[int, str]]:
    """Corpus figures to put in a case's query composer as drawings ("search with this drawing"):
    each one's id and a file name that says which figure it is ("USD800001 FIG. 2.png", the name
    the search log keeps), in the order asked, at most ``limit``; unknown ids are left out."""
    wanted = list(dict.fromkeys(ids))[:limit]
    figures = Figure.objects.filter(pk__in=wanted).select_related("patent").in_bulk()
    drawings = []
    for pk in wanted:
        figure = figures.get(pk)
        if figure is None:
            continue
        drawings.append((pk, f"{figure.patent.patent_id} {figure_shown(figure)}.{figure_suffix(figure)}".replace("/", "-")))
    return drawings


def _citing(case: Case) -> QuerySet[Judgment]:
    """The case's judgments that cite their figure (a category given)."""
    return Judgment.objects.filter(case=case).exclude(category="")


def case_cited(case: Case) -> QuerySet:
    """The case's cited patents, one row each (``{"patent": id, "rank": n}``), in the citation
    list's order: X before Y before A (``rank``: the CATEGORY_ORDER of the patent's strongest
    category), then by patent number (unique). What a page of citations pages over;
    ``case_citations`` fills a page in."""
    rank = SqlCase(*(When(category=c, then=Value(n)) for c, n in CATEGORY_ORDER.items()),
                   output_field=IntegerField())
    return (_citing(case).values(patent=F("figure__patent"))
            .annotate(rank=Min(rank)).order_by("rank", "figure__patent__patent_id"))


def case_citations(case: Case, cited: Iterable[dict] | None = None) -> list[Citation]:
    """Cited patents (any figure with a category) in ``case_cited``'s order, each with the
    category of its row's rank: all of them, or those of ``cited`` (a page of ``case_cited(case)``)."""
    rows = list(case_cited(case) if cited is None else cited)
    judgments = _citing(case).select_related("figure__patent", "judged_by").order_by("figure_id")
    if cited is not None:
        judgments = judgments.filter(figure__patent__in=[row["patent"] for row in rows])
    by_patent: dict[int, list[Judgment]] = {}
    for judgment in judgments:
        by_patent.setdefault(judgment.figure.patent_id, []).append(judgment)
    category_of = {n: category for category, n in CATEGORY_ORDER.items()}
    citations = []
    for row in rows:
        cited_judgments = by_patent.get(row["patent"])
        if cited_judgments:  # none when the category was cleared between the two reads
            patent = cited_judgments[0].figure.patent
            late = patent.grant_date is not None and patent.grant_date >= case.cutoff_date
            citations.append(Citation(patent=patent, category=category_of[row["rank"]], judgments=cited_judgments,
                                      after_cutoff=late))
    return citations


def case_notes(case: Case) -> QuerySet[Judgment]:
    """The case's judgments with a note, newest first (the judgment's id breaks ties)."""
    return (Judgment.objects.filter(case=case).exclude(note="")
            .select_related("figure__patent", "judged_by").order_by("-judged_at", "-id"))


def open_case_counts(user_ids: list[int]) -> dict[int, int]:
    """How many open cases each of these users holds (those with none are left out)."""
    rows = (Case.objects.filter(examiner_id__in=user_ids, status=Case.Status.OPEN)
            .values("examiner_id").annotate(n=Count("pk")))
    return {row["examiner_id"]: row["n"] for row in rows}


def case_examiners() -> QuerySet[User]:
    """Who cases can be given to: active users whose role searches, by name."""
    return User.objects.filter(is_active=True, role__in=SEARCH_ROLES).order_by("username")


def case_examiner_choices(case: Case) -> list[User]:
    """Who a case can be given to, its examiner first."""
    return sorted(case_examiners(), key=lambda u: u.pk != case.examiner_id)


def case_last_move(case: Case) -> LogEntry | None:
    """The case's latest move to another examiner (case_reassign's log entry), if it was moved."""
    return audit_entries(Case, pk=case.pk).first()
