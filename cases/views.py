"""Pages of cases (server-rendered; static/js/case*.js adds keys, crop boxes and judging).

Thin views: each looks the case up among those the user may see (404 otherwise), validates with
the API's serializers, and calls one service or selector. Judging from the page goes through the
API (PUT /api/v1/cases/{id}/judgments/{figure_id}/) so that both share one code path.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import View
from rest_framework.exceptions import ValidationError

from accounts.selectors import user_named
from cases import serializers as s
from cases.grades import GRADE_WORDS, Category, Grade
from cases.models import Case, CaseSearch
from cases.selectors.cases import (
    case_citations,
    case_cited,
    case_examiner_choices,
    case_get,
    case_judgments,
    case_last_move,
    case_list,
    case_notes,
    case_search_get,
    case_searches,
    case_visible,
    figure_label,
    judgment_histories,
    query_figures,
    search_diff,
    search_has_drawing,
    search_hits,
    search_seed,
    search_source,
)
from cases.services.cases import case_create, case_reassign, case_update
from cases.services.searches import case_search_rerun, case_search_run
from patentsearch.api import error_messages
from patentsearch.exceptions import ApplicationError
from patentsearch.ids import parse_id
from patentsearch.pages import page_of
from patentsearch.permissions import SEARCH_PRIOR_ART
from patentsearch.throttles import search_rate_refusal
from retrieval.models import Patent
from retrieval.search_input import CommaListField, deeper_k, form_data
from retrieval.selectors.class_focus import ClassFocus
from retrieval.selectors.corpora import corpus_ids_for, corpus_list
from retrieval.selectors.models import active_model
from retrieval.selectors.search import (
    catalogue_unsearched,
    catalogue_unsearched_text,
    excluded_terms,
)


def _script(request: HttpRequest) -> bool:
    """The composer's script sent it (it asks for JSON): it gets JSON back, never a page."""
    return "application/json" in request.headers.get("Accept", "")


class CaseWorkerMixin(LoginRequiredMixin):
    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.has_perm(SEARCH_PRIOR_ART):  # cases are prior-art searches
            raise Http404("Cases are for examiners.")
        response = super().dispatch(request, *args, **kwargs)
        # A case is a confidential application, and its pages change with every search and
        # judgment: no cache keeps them, and Back fetches the page as it is now, not a copy that
        # has neither the last search nor the last grades.
        add_never_cache_headers(response)
        return response

    def handle_no_permission(self) -> HttpResponse:
        """A script whose session ended (a page left open overnight) is told so in JSON: the login
        page it would be sent to is not an answer it can show, and the drawings on its page stay."""
        if not self.request.user.is_authenticated and _script(self.request):
            return JsonResponse({"errors": [
                "Your session has ended: log in again in another tab, then search again here; "
                "your drawings and choices are still on this page."
            ]}, status=401)
        return super().handle_no_permission()


CASES_PER_PAGE = 50
# The case page's lists, each paged under its own parameter (the search log's is "page").
SEARCHES_PER_PAGE = 25
CITATIONS_PER_PAGE = 25
NOTES_PER_PAGE = 25


class CaseListView(CaseWorkerMixin, View):
    template_name = "cases/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        context = _case_list_context(request)
        return render(request, self.template_name, context, status=400 if context["filter_errors"] else 200)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = s.CaseInputSerializer(data=request.POST)
        try:
            if not form.is_valid():
                raise ApplicationError("; ".join(error_messages(form)))
            case = case_create(examiner=request.user, **form.validated_data)
        except ApplicationError as exc:
            errors = error_messages(form) if form.errors else [exc.message]
            context = _case_list_context(request, form=request.POST, errors=errors)
            return render(request, self.template_name, context, status=400)
        return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))


def _case_list_context(request: HttpRequest, **extra: object) -> dict:
    """The cases list, narrowed by the find box and the status (?q=, ?status=, as the API)."""
    chosen = s.CaseFilterSerializer(data=request.GET)
    valid = chosen.is_valid()
    filters = chosen.filters() if valid else {"text": "", "status": "", "examiner": ""}
    cases = page_of(request, case_list(request.user, **filters), CASES_PER_PAGE)
    return {"cases": cases, "form": {}, "filters": filters, "filtered": any(filters.values()),
            "filter_errors": [] if valid else error_messages(chosen), **extra}


def _case_context(request: HttpRequest, case: Case, **extra: object) -> dict:
    citations = page_of(request, case_cited(case), CITATIONS_PER_PAGE, "citations_page")
    citations.object_list = case_citations(case, citations.object_list)  # the page's rows, filled in
    return {
        "case": case, "searches": page_of(request, case_searches(case), SEARCHES_PER_PAGE),
        "citations": citations, "notes": page_of(request, case_notes(case), NOTES_PER_PAGE, "notes_page"),
        "corpora": corpus_list(), "active_model": (model := active_model()),
        "examiner_choices": case_examiner_choices(case) if request.user.is_admin_role else [],
        "last_move": case_last_move(case),
        "unencoded": catalogue_unsearched(model) if model is not None else 0,
        "unindexed": catalogue_unsearched_text(),
        "max_images": settings.CASES_MAX_QUERY_IMAGES, "max_k": settings.RETRIEVAL_MAX_K,
        "beta": settings.CASES_ROCCHIO_BETA, "gamma": settings.CASES_ROCCHIO_GAMMA, **extra,
    }


class CaseDetailView(CaseWorkerMixin, View):
    """The case: its details, the query composer, the search log, flagged prior art, notes."""

    template_name = "cases/detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = case_get(request.user, pk)
        # ?drawing=FIGURE_ID (a review card's "search with this drawing"): the composer starts with it
        ids = [i for i in (parse_id(v) for v in request.GET.getlist("drawing")) if i is not None]
        figures = query_figures(ids, limit=settings.CASES_MAX_QUERY_IMAGES) if ids and not case.is_closed else []
        preload = [{"url": reverse("retrieval:figure-image", args=[pk]), "name": name} for pk, name in figures]
        return render(request, self.template_name, _case_context(request, case, preload_drawings=preload))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Edit the case (action=update), close or reopen it."""
        case = case_get(request.user, pk)
        action = request.POST.get("action", "update")
        # a plain dict: from a QueryDict a cleared field would read as left out and keep its value
        form = s.CasePatchSerializer(data=request.POST.dict())
        try:
            if action in ("close", "reopen"):
                case_update(case=case, status="closed" if action == "close" else "open")
            elif action == "reassign":
                examiner = user_named(request.POST.get("examiner", ""))
                if examiner is None:
                    raise ApplicationError("Choose the examiner to give the case to.")
                case_reassign(case=case, examiner=examiner, by=request.user)
                if not case_visible(request.user).filter(pk=pk).exists():  # given away by its examiner: not theirs
                    return HttpResponseRedirect(reverse("cases:list"))
            else:
                if not form.is_valid():
                    raise ApplicationError("; ".join(error_messages(form)))
                case_update(case=case, **form.validated_data)
        except ApplicationError as exc:  # the edit form shows what was sent, not the stored values
            editing = action not in ("close", "reopen", "reassign")  # the edit form was sent
            edit = request.POST if editing else None
            errors = error_messages(form) if editing and form.errors else [exc.message]
            context = _case_context(request, case_get(request.user, pk), errors=errors, edit=edit)
            return render(request, self.template_name, context, status=400)
        return HttpResponseRedirect(reverse("cases:detail", args=[pk]))


class CaseSearchCreateView(CaseWorkerMixin, View):
    """The composer's form: run a search in the case, then show it.

    The composer's script sends the form asking for JSON (``Accept: application/json``): it gets
    the search page's URL, or the page's error lines, and keeps the drawings, crops and choices
    on the page, which a reloaded page cannot (a file input cannot be filled again). Without the
    script the form posts as a page: the search page, or the case page with the errors."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = case_get(request.user, pk)
        script = _script(request)
        refusal = search_rate_refusal(request, self)
        if refusal is not None:
            return self._refused(request, case, refusal, 429, script)
        form = s.CaseSearchInputSerializer(data={**form_data(request.POST), "images": request.FILES.getlist("images")})
        try:
            if not form.is_valid():
                raise ApplicationError("; ".join(error_messages(form)))
            search = case_search_run(case=case, user=request.user, **form.service_arguments())
        except ApplicationError as exc:
            return self._refused(request, case, exc.message, 400, script)
        url = reverse("cases:search", args=[pk, search.pk])
        return JsonResponse({"url": url}, status=201) if script else HttpResponseRedirect(url)

    @staticmethod
    def _refused(request: HttpRequest, case: Case, error: str, status: int, script: bool) -> HttpResponse:
        if script:
            return JsonResponse({"errors": [error]}, status=status)
        context = _case_context(request, case, errors=[error], query=request.POST,
                                selected_corpora=_chosen_corpora(request.POST.getlist("corpus")))
        return render(request, CaseDetailView.template_name, context, status=status)


def _chosen_corpora(values: list[str]) -> list[int]:
    """The corpora a refused search had chosen, read as the search form reads them (ids or
    names, repeated or comma-separated); none when they cannot be read."""
    try:
        return corpus_ids_for(CommaListField().to_internal_value(values))[0]
    except ValidationError:
        return []


class CaseSearchView(CaseWorkerMixin, View):
    """A logged search: the ranking as shown, grouped by patent, with the case's judgments."""

    template_name = "cases/search.html"

    def get(self, request: HttpRequest, pk: int, search_pk: int) -> HttpResponse:
        case = case_get(request.user, pk)
        return render(request, self.template_name, _search_context(case, case_search_get(case, search_pk)))


def _search_context(case: Case, search: CaseSearch, **extra: object) -> dict:
    """The search page: the logged ranking grouped by patent, with the case's judgments."""
    hits, judgments = search_hits(search), case_judgments(case)
    for hit in hits:
        hit.judgment = judgments.get(hit.figure_id)
    diff = search_diff(search.rerun_of, search) if search.rerun_of_id else None
    focus = ClassFocus.from_dict(search.class_focus) if search.class_focus else None
    return {
        "case": case, "search": search, "groups": _groups(hits), "hit_count": len(hits),
        # "Search deeper": a re-run with more hits, where the list may go on
        "deeper_k": None if case.is_closed else deeper_k(search.k, len(hits)),
        **_review_context(search), "diff": diff,
        "new_ids": {h.figure_id for h in diff.new} if diff else set(),
        "beta": settings.CASES_ROCCHIO_BETA, "gamma": settings.CASES_ROCCHIO_GAMMA,
        "focus": focus,
        # the unsearched count is of text rows (a text alone), not of vectors
        "unsearched_by_text": bool(search.unsearched) and not search_has_drawing(search),
        # its text's "-word" terms, which left out every figure holding them (a refine keeps its base's)
        "excluded": excluded_terms(search.text),
        # the "class ↑" mark of a figure whose class the logged focus voted for
        "voted": focus.voted() if focus else {},
        **extra,
    }


def _review_context(search: CaseSearch | None) -> dict:
    """What the review cards and dialogs (cases/_card_judging.html, cases/_review_dialogs.html)
    read, on a search page and a patent page: the query's drawings or seed for the compare view
    (a refine's are those of the search it refines; none without a search), the judging buttons
    and the page script's words for a grade (cases.grades, one owner)."""
    source = search_source(search) if search is not None else None
    return {"images": list(source.images.all()) if source else [], "image_search": source,
            "seed": search_seed(search) if search is not None else None,
            "grades": Grade.choices, "categories": Category.choices, "grade_words": GRADE_WORDS}


class CaseSearchActionView(CaseWorkerMixin, View):
    """Buttons of a search page: re-run it, refine it with the judgments, more like a figure."""

    def post(self, request: HttpRequest, pk: int, search_pk: int, action: str) -> HttpResponse:
        case = case_get(request.user, pk)
        search = case_search_get(case, search_pk)
        if action not in ("rerun", "refine", "like"):
            raise Http404("No such action.")
        refusal = search_rate_refusal(request, self)
        if refusal is not None:
            return render(request, CaseSearchView.template_name,
                          _search_context(case, search, action_errors=[refusal]), status=429)
        try:
            if action == "rerun":  # as it ran, or deeper ("Search deeper": a larger k)
                form = s.RerunInputSerializer(data=request.POST)
                if not form.is_valid():
                    raise ApplicationError("; ".join(error_messages(form)))
                new = case_search_rerun(search=search, user=request.user, k=form.validated_data.get("k"))
            elif action == "refine":
                new = case_search_run(case=case, user=request.user, k=search.k, refine=search.pk)
            else:  # like (the actions were checked above)
                form = s.LikeFigureInputSerializer(data=request.POST)
                if not form.is_valid():
                    raise ApplicationError("; ".join(error_messages(form)))
                new = case_search_run(
                    case=case, user=request.user, k=search.k, filters=search.filters,
                    like_figure=form.validated_data["figure"],
                    cutoff=search.cutoff_date, ignore_cutoff=search.cutoff_date is None,
                    class_focus=search.class_focus_on,
                )
        except ApplicationError as exc:  # said on the search page the button was pressed on
            context = _search_context(case, search, action_errors=[exc.message])
            return render(request, CaseSearchView.template_name, context, status=400)
        return HttpResponseRedirect(reverse("cases:search", args=[pk, new.pk]))


class PatentView(CaseWorkerMixin, View):
    """All figures of a patent with its metadata and this case's judgments of them."""

    def get(self, request: HttpRequest, pk: int, patent_id: str) -> HttpResponse:
        case = case_get(request.user, pk)
        patent = Patent.objects.filter(patent_id=patent_id).select_related("corpus").first()
        if patent is None:
            raise Http404("No such patent.")
        figures = list(patent.figures.order_by("source_file", "page"))
        judgments = case_judgments(case)
        histories = judgment_histories(case, [f.pk for f in figures])
        from_search = _from_search(request, case)  # its drawings (or seed) beside each figure in the compare view
        context = {"case": case, "patent": patent, "from_search": from_search,
                   "figures": [(f, figure_label(f), judgments.get(f.pk), histories.get(f.pk, [])) for f in figures],
                   **_review_context(from_search)}
        return render(request, "cases/patent.html", context)


def _from_search(request: HttpRequest, case: object) -> object | None:
    """The case's search the examiner came from (?search=ID), for the way back; None when absent or not one."""
    search_id = parse_id(request.GET.get("search", ""))
    if search_id is None:
        return None
    try:
        return case_search_get(case, search_id)
    except Http404:
        return None


class CitationsView(CaseWorkerMixin, View):
    """The printable citation list of the case."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = case_get(request.user, pk)
        return render(request, "cases/citations.html", {"case": case, "citations": case_citations(case)})


def _groups(hits: list) -> list[dict]:
    groups: dict[str, dict] = {}
    for hit in hits:
        key = hit.figure.patent.patent_id
        group = groups.setdefault(key, {"patent": hit.figure.patent, "best_rank": hit.rank,
                                        "best_score": hit.score, "hits": []})
        group["hits"].append(hit)
    return list(groups.values())
