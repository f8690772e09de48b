"""REST API (v1) of the console, mounted under /api/v1/."""

from django.urls import path

from console import apis

urlpatterns = [
    path("corpora/", apis.CorpusListApi.as_view(), name="api-corpora"),
    path("corpora/<int:id>/describe/", apis.CorpusDescribeApi.as_view(), name="api-corpus-describe"),
    path("jobs/", apis.JobListApi.as_view(), name="api-jobs"),
    path("jobs/<int:id>/", apis.JobDetailApi.as_view(), name="api-job"),
    path("jobs/<int:id>/cancel/", apis.JobCancelApi.as_view(), name="api-job-cancel"),
    path("jobs/<int:id>/retry/", apis.JobRetryApi.as_view(), name="api-job-retry"),
    path("jobs/<int:id>/problems.csv", apis.JobProblemsCsvApi.as_view(), name="api-job-problems"),
    path("models/", apis.ModelListApi.as_view(), name="api-models"),
    path("models/<int:id>/", apis.ModelDetailApi.as_view(), name="api-model"),
    path("models/<int:id>/activate/", apis.ModelActivateApi.as_view(), name="api-model-activate"),
    path("models/<int:id>/rollback/", apis.ModelRollbackApi.as_view(), name="api-model-rollback"),
    path("jobs/<int:id>/report.json", apis.JobReportApi.as_view(), name="api-job-report"),
    path("evaluations/", apis.EvaluationListApi.as_view(), name="api-evaluations"),
    path("evaluations.csv", apis.EvaluationCsvApi.as_view(), name="api-evaluations-csv"),
    path("users/", apis.UserListApi.as_view(), name="api-users"),
    path("users/batch/", apis.UsersBatchApi.as_view(), name="api-users-batch"),
    path("users.csv", apis.UsersCsvApi.as_view(), name="api-users-csv"),
    path("users/<int:id>/", apis.UserDetailApi.as_view(), name="api-user"),
    path("users/<int:id>/password/", apis.UserPasswordApi.as_view(), name="api-user-password"),
    path("users/<int:id>/unlock/", apis.UserUnlockApi.as_view(), name="api-user-unlock"),
    path("users/<int:id>/sessions/end/", apis.UserSessionsApi.as_view(), name="api-user-sessions-end"),
    path("users/<int:id>/cases/", apis.UserCasesApi.as_view(), name="api-user-cases"),
]
