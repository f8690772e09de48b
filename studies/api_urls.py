"""REST API (v1) of this app, mounted under /api/v1/."""

from django.urls import path

from studies import apis

urlpatterns = [
    path("study/tasks/next/", apis.StudyTaskNextApi.as_view(), name="api-study-task-next"),
    path("study/tasks/<int:task_id>/grades/", apis.StudyTaskGradeApi.as_view(), name="api-study-task-grade"),
    path("study/tasks/<int:task_id>/opened/", apis.StudyTaskOpenedApi.as_view(), name="api-study-task-opened"),
    path("study/tasks/<int:task_id>/end/", apis.StudyTaskEndApi.as_view(), name="api-study-task-end"),
    path("study/tasks/<int:task_id>/finish/", apis.StudyTaskFinishApi.as_view(), name="api-study-task-finish"),
    path("study/status/", apis.StudyStatusApi.as_view(), name="api-study-status"),
    path("study/sus/", apis.StudySusApi.as_view(), name="api-study-sus"),
    path("studies/", apis.StudyListApi.as_view(), name="api-study-list"),
    path("studies/<int:pk>/", apis.StudyDetailApi.as_view(), name="api-study-detail"),
    path("studies/<int:pk>/participants/", apis.StudyParticipantsApi.as_view(), name="api-study-participants"),
    path("studies/<int:pk>/events.csv", apis.StudyEventsCsvApi.as_view(), name="api-study-events-csv"),
    path("studies/<int:pk>/outcomes.csv", apis.StudyOutcomesCsvApi.as_view(), name="api-study-outcomes-csv"),
    path("studies/<int:pk>/questionnaires.csv", apis.StudyQuestionnairesCsvApi.as_view(),
         name="api-study-questionnaires-csv"),
]
