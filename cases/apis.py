"""REST API (v1) of cases: thin views over cases.services and cases.selectors.

Every case-scoped endpoint first looks the case up among those the user may see
(``case_get``), so another examiner's case is a 404 everywhere. Logged searches have no
update or delete endpoint: PUT, PATCH and DELETE on them are 405.
"""

from __future__ import annotations

import json

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import serializers as s
from cases.query_images import StoredDrawingMissingError, png_bytes, stored_query_image
from cases.selectors.cases import (
    case_get,
    case_judgments,
    case_list,
    case_search_get,
    case_searches,
    judgment_history,
    query_image_get,
    search_diff,
    search_hits,
)
from cases.selectors.exports import (
    CITATION_HEADER,
    JUDGMENT_HEADER,
    SEARCH_LOG_HEADER,
    case_file_entries,
    citation_rows,
    judgment_rows,
    qrels_lines,
    run_lines,
    search_log_rows,
)
from cases.services.cases import case_create, case_update
from cases.services.judgments import judgment_set
from cases.services.searches import case_search_rerun, case_search_run
from patentsearch.csv_export import csv_response
from patentsearch.filenames import safe_name
from patentsearch.pagination import Pagination, paged_schema
from patentsearch.parsers import JSONParser
from patentsearch.permissions import CanSearch
from patentsearch.throttles import SearchRateThrottle
from patentsearch.zip_export import zip_response


class IsCaseWorker(CanSearch):
    """Cases are prior-art searches: who may search works cases (examiners and admins by their
    roles; study participants do not)."""

    message = "Only examiners and admins work on cases."


class _DownloadRenderer(BaseRenderer):
    """Lets clients ask for the download's type (Accept: text/csv); errors still come as JSON text."""

    charset = "utf-8"

    def render(
        self, data: object, accepted_media_type: str | None = None, renderer_context: dict | None = None
    ) -> bytes:
        return json.dumps(data).encode("utf-8")


class CsvRenderer(_DownloadRenderer):
    media_type, format = "text/csv", "csv"


class TextRenderer(_DownloadRenderer):
    media_type, format = "text/plain", "txt"


class PngRenderer(_DownloadRenderer):
    media_type, format = "image/png", "png"


class ZipRenderer(_DownloadRenderer):
    media_type, format = "application/zip", "zip"
    charset = None


class CaseApi(APIView):
    permission_classes = [permissions.IsAuthenticated, IsCaseWorker]


def search_data(search: object, request: Request) -> dict:
    context = {"request": request, "hits": search_hits(search), "judgments": case_judgments(search.case)}
    return s.CaseSearchOutputSerializer(search, context=context).data


class CaseListApi(CaseApi):
    """The user's cases (admins: all) with counts; create a case."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(**paged_schema(s.CaseOutputSerializer, "api_v1_cases_list", filters=s.CaseFilterSerializer))
    def get(self, request: Request) -> Response:
        filters = s.CaseFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(case_list(request.user, **filters.filters()), request, view=self)
        return paginator.get_paginated_response(s.CaseOutputSerializer(page, many=True).data)

    @extend_schema(request=s.CaseInputSerializer, responses={201: s.CaseOutputSerializer})
    def post(self, request: Request) -> Response:
        form = s.CaseInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        case = case_create(examiner=request.user, **form.validated_data)
        return Response(s.CaseOutputSerializer(case_get(request.user, case.pk)).data, status=status.HTTP_201_CREATED)


class CaseDetailApi(CaseApi):
    """One case; PATCH changes its fields, or closes (status=closed) / reopens (status=open) it."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses=s.CaseOutputSerializer)
    def get(self, request: Request, id: int) -> Response:
        return Response(s.CaseOutputSerializer(case_get(request.user, id)).data)

    @extend_schema(request=s.CasePatchSerializer, responses=s.CaseOutputSerializer)
    def patch(self, request: Request, id: int) -> Response:
        case = case_get(request.user, id)
        form = s.CasePatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        case_update(case=case, **form.validated_data)
        return Response(s.CaseOutputSerializer(case_get(request.user, id)).data)


class CaseSearchListApi(CaseApi):
    """The case's search log (newest first); POST runs a search and logs it."""

    parser_classes = [MultiPartParser, FormParser]

    def get_throttles(self) -> list:
        return [SearchRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(**paged_schema(s.CaseSearchSummarySerializer, "api_v1_cases_searches_list"))
    def get(self, request: Request, id: int) -> Response:
        case = case_get(request.user, id)
        paginator = Pagination()
        page = paginator.paginate_queryset(case_searches(case), request, view=self)
        return paginator.get_paginated_response(s.CaseSearchSummarySerializer(page, many=True).data)

    @extend_schema(request=s.CaseSearchInputSerializer, responses={201: s.CaseSearchOutputSerializer})
    def post(self, request: Request, id: int) -> Response:
        case = case_get(request.user, id)
        form = s.CaseSearchInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        search = case_search_run(case=case, user=request.user, **form.service_arguments())
        return Response(search_data(search, request), status=status.HTTP_201_CREATED)


class CaseSearchDetailApi(CaseApi):
    """A logged search: its query and the ranking exactly as shown. It cannot be changed."""

    @extend_schema(responses=s.CaseSearchOutputSerializer)
    def get(self, request: Request, id: int, search_id: int) -> Response:
        search = case_search_get(case_get(request.user, id), search_id)
        return Response(search_data(search, request))


class CaseSearchRerunApi(CaseApi):
    """Repeat a logged search against today's index and model (``k``: deeper, or shallower);
    logs a new search and answers with it and what is new and what dropped out compared with
    the logged ranking."""

    throttle_classes = [SearchRateThrottle]

    @extend_schema(request=s.RerunInputSerializer, responses={201: s.RerunOutputSerializer})
    def post(self, request: Request, id: int, search_id: int) -> Response:
        original = case_search_get(case_get(request.user, id), search_id)
        form = s.RerunInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        rerun = case_search_rerun(search=original, user=request.user, k=form.validated_data.get("k"))
        diff = search_diff(original, rerun)
        context = {"request": request, "judgments": case_judgments(rerun.case)}
        body = {"search": search_data(rerun, request),
                "new": s.LoggedHitSerializer(diff.new, many=True, context=context).data,
                "dropped": s.LoggedHitSerializer(diff.dropped, many=True, context=context).data,
                "kept": diff.kept}
        return Response(body, status=status.HTTP_201_CREATED)


class QueryImageApi(CaseApi):
    """A logged query drawing as PNG; ?cropped=1 for the region that was searched."""

    renderer_classes = [JSONRenderer, PngRenderer]

    @extend_schema(parameters=[OpenApiParameter("cropped", bool)], responses={(200, "image/png"): bytes})
    def get(self, request: Request, id: int, search_id: int, position: int) -> HttpResponse:
        image = query_image_get(case_get(request.user, id), search_id, position)
        cropped = request.query_params.get("cropped") in ("1", "true")
        try:
            drawing = stored_query_image(image, cropped=cropped)
        except StoredDrawingMissingError as exc:  # as a figure whose file is gone: nothing to show here
            raise Http404(exc.message) from exc
        response = HttpResponse(png_bytes(drawing), content_type="image/png")
        response["Cache-Control"] = "private, max-age=86400"
        return response


class JudgmentApi(CaseApi):
    """The case's judgment of a figure (grade 0-3, category X/Y/A, note) and its history.
    PUT sets the fields sent; fields left out keep their value."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses=s.JudgmentOutputSerializer)
    def get(self, request: Request, id: int, figure_id: int) -> Response:
        case = case_get(request.user, id)
        judgment = case_judgments(case).get(figure_id)
        if judgment is None:
            return Response({"message": "This figure has not been judged in this case.", "extra": {}}, status=404)
        context = {"history": judgment_history(case, figure_id)}
        return Response(s.JudgmentOutputSerializer(judgment, context=context).data)

    @extend_schema(request=s.JudgmentInputSerializer, responses=s.JudgmentOutputSerializer)
    def put(self, request: Request, id: int, figure_id: int) -> Response:
        case = case_get(request.user, id)
        form = s.JudgmentInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = dict(form.validated_data)
        if isinstance(values.get("category"), str):
            values["category"] = values["category"].strip().upper()
        judgment = judgment_set(case=case, figure_id=figure_id, user=request.user, **values)
        context = {"history": judgment_history(case, figure_id)}
        return Response(s.JudgmentOutputSerializer(judgment, context=context).data)


class CitationsCsvApi(CaseApi):
    """The case's citation list: one row per cited patent (any figure with a category)."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, id: int) -> StreamingHttpResponse:
        case = case_get(request.user, id)
        return csv_response(f"citations-{_safe(case.application_number)}.csv", CITATION_HEADER, citation_rows(case))


class SearchLogCsvApi(CaseApi):
    """The case's search log for the file: one row per logged search, oldest first, with the query
    as it was run and what it showed."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request, id: int) -> StreamingHttpResponse:
        case = case_get(request.user, id)
        return csv_response(f"searches-{_safe(case.application_number)}.csv", SEARCH_LOG_HEADER, search_log_rows(case))


class JudgmentsCsvApi(CaseApi):
    """Relevance judgments: one row per current judgment of the cases the user may see."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(parameters=[s.JudgmentsCsvQuerySerializer], responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request: Request) -> StreamingHttpResponse:
        query = s.JudgmentsCsvQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        case_id, filename = query.validated_data.get("case"), "judgments.csv"
        if case_id is not None:  # one case's: named by it, as its other exports are
            case = case_get(request.user, case_id)
            case_id, filename = case.pk, f"judgments-{_safe(case.application_number)}.csv"
        return csv_response(filename, JUDGMENT_HEADER, judgment_rows(request.user, case_id))


class QrelsApi(CaseApi):
    """TREC qrels of the case: ``search_id 0 figure_id grade`` for every logged search."""

    renderer_classes = [JSONRenderer, TextRenderer]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request, id: int) -> StreamingHttpResponse:
        case = case_get(request.user, id)
        return _text(f"qrels-{_safe(case.application_number)}.txt", qrels_lines(case))


class RunApi(CaseApi):
    """A logged ranking in TREC run format: ``search_id Q0 figure_id rank score tag``."""

    renderer_classes = [JSONRenderer, TextRenderer]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request, id: int, search_id: int) -> StreamingHttpResponse:
        search = case_search_get(case_get(request.user, id), search_id)
        return _text(f"run-{search.pk}.txt", run_lines(search))


class CaseFileApi(CaseApi):
    """The case file in one ZIP, for the record outside the application: the citation list, the
    judgments, the search log and qrels (each as its own download has it), every logged ranking
    as a TREC run, every query drawing as stored and the cited figures' drawings, with a README
    that says what each part is."""

    renderer_classes = [JSONRenderer, ZipRenderer]

    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request: Request, id: int) -> FileResponse:
        case = case_get(request.user, id)
        return zip_response(f"case-{_safe(case.application_number)}.zip", case_file_entries(case, request.user))


def _text(filename: str, lines: object) -> StreamingHttpResponse:
    response = StreamingHttpResponse((line.encode("utf-8") for line in lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _safe(name: str) -> str:
    return safe_name(name, "case")
