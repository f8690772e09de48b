"""Pages of the admin console, under /console/."""

from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.JobListView.as_view(), name="jobs"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job"),
    path("upload/", views.UploadView.as_view(), name="upload"),
    path("models/", views.ModelListView.as_view(), name="models"),
    path("figures/<int:pk>/", views.FigureView.as_view(), name="figure"),
    path("evaluation/", views.EvaluationView.as_view(), name="evaluation"),
    path("users/", views.UsersView.as_view(), name="users"),
    path("users/batch", views.UsersBatchView.as_view(), name="users_batch"),
    path("users/<int:pk>/<slug:action>", views.UserActionView.as_view(), name="user_action"),
]
