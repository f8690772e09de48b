"""REST API (v1) of cases, mounted under /api/v1/."""

from django.urls import path

from cases import apis

urlpatterns = [
    path("cases/", apis.CaseListApi.as_view(), name="api-cases"),
    path("cases/<int:id>/", apis.CaseDetailApi.as_view(), name="api-case"),
    path("cases/<int:id>/searches/", apis.CaseSearchListApi.as_view(), name="api-case-searches"),
    path("cases/<int:id>/searches/<int:search_id>/", apis.CaseSearchDetailApi.as_view(), name="api-case-search"),
    path("cases/<int:id>/searches/<int:search_id>/rerun/", apis.CaseSearchRerunApi.as_view(),
         name="api-case-search-rerun"),
    path("cases/<int:id>/searches/<int:search_id>/images/<int:position>", apis.QueryImageApi.as_view(),
         name="api-case-query-image"),
    path("cases/<int:id>/searches/<int:search_id>/run.txt", apis.RunApi.as_view(), name="api-case-run"),
    path("cases/<int:id>/judgments/<int:figure_id>/", apis.JudgmentApi.as_view(), name="api-case-judgment"),
    path("cases/<int:id>/citations.csv", apis.CitationsCsvApi.as_view(), name="api-case-citations"),
    path("cases/<int:id>/searches.csv", apis.SearchLogCsvApi.as_view(), name="api-case-searches-csv"),
    path("cases/<int:id>/qrels.txt", apis.QrelsApi.as_view(), name="api-case-qrels"),
    path("cases/<int:id>/file.zip", apis.CaseFileApi.as_view(), name="api-case-file"),
    path("judgments.csv", apis.JudgmentsCsvApi.as_view(), name="api-judgments-csv"),
]
