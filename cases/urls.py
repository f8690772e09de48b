"""Pages of this app (HTML)."""

from django.urls import path, register_converter
from django.urls.converters import StringConverter

from cases import views
from retrieval.models import Patent


class PatentIdConverter(StringConverter):
    """A patent id as one can be stored: no slash, no NUL (PostgreSQL text cannot hold one: the
    lookup failed with a 500), no longer than the column. Anything else is no page (404)."""

    regex = f"[^/\x00]{{1,{Patent._meta.get_field('patent_id').max_length}}}"


register_converter(PatentIdConverter, "patent_id")

app_name = "cases"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="list"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="detail"),
    path("<int:pk>/search", views.CaseSearchCreateView.as_view(), name="search-create"),
    path("<int:pk>/searches/<int:search_pk>/", views.CaseSearchView.as_view(), name="search"),
    path("<int:pk>/searches/<int:search_pk>/<slug:action>", views.CaseSearchActionView.as_view(),
         name="search-action"),
    path("<int:pk>/patents/<patent_id:patent_id>/", views.PatentView.as_view(), name="patent"),
    path("<int:pk>/citations/", views.CitationsView.as_view(), name="citations"),
]
