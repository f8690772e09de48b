"""Pages of this app (HTML)."""

from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="list"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="detail"),
    path("<int:pk>/search", views.CaseSearchCreateView.as_view(), name="search-create"),
    path("<int:pk>/searches/<int:search_pk>/", views.CaseSearchView.as_view(), name="search"),
    path("<int:pk>/searches/<int:search_pk>/<slug:action>", views.CaseSearchActionView.as_view(),
         name="search-action"),
    path("<int:pk>/patents/<str:patent_id>/", views.PatentView.as_view(), name="patent"),
    path("<int:pk>/citations/", views.CitationsView.as_view(), name="citations"),
]
