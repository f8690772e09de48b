"""Pages of this app (HTML)."""

from django.urls import path

from studies import views

app_name = "studies"

urlpatterns = [
    path("", views.StudyHomeView.as_view(), name="home"),
    path("run/", views.StudyRunView.as_view(), name="run"),
    path("new/", views.StudyCreateView.as_view(), name="new"),
    path("<int:pk>/", views.StudyDetailView.as_view(), name="detail"),
    path("<int:pk>/participants/", views.StudyParticipantsView.as_view(), name="participants"),
]
