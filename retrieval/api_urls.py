from django.urls import path

from retrieval.apis import FigureSearchApi

urlpatterns = [
    path("search/", FigureSearchApi.as_view(), name="api-figure-search"),
]
