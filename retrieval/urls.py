from django.urls import path

from retrieval import apis, views

app_name = "retrieval"

urlpatterns = [
    path("", views.FigureSearchView.as_view(), name="search"),
    path("figures/<int:pk>/image", apis.FigureImageApi.as_view(), name="figure-image"),
]
