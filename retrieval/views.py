"""Server-rendered pages: thin views over selectors and services."""

from __future__ import annotations

import base64
import io

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View
from PIL import Image

from patentsearch.api import error_messages
from patentsearch.exceptions import ApplicationError
from patentsearch.permissions import SEARCH_PRIOR_ART
from patentsearch.throttles import search_rate_refusal
from retrieval.search_input import SearchInputSerializer, checkbox_value, deeper_k, form_data
from retrieval.selectors.corpora import corpus_list
from retrieval.selectors.models import active_model
from retrieval.selectors.search import (
    catalogue_unsearched,
    catalogue_unsearched_text,
    figure_search,
    search_filters,
)


class FigureSearchView(LoginRequiredMixin, PermissionRequiredMixin, View):
    template_name = "retrieval/search.html"
    permission_required = SEARCH_PRIOR_ART

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # Study participants search only inside their (blind) study tasks: this page names the model.
        if request.user.is_authenticated and not request.user.has_perm(SEARCH_PRIOR_ART):
            return redirect("studies:run")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self._context())

    def post(self, request: HttpRequest) -> HttpResponse:
        error = search_rate_refusal(request, self)
        if error is not None:
            context = self._context(errors=[error], query=request.POST, class_focus=_focus_box(request))
            return render(request, self.template_name, context, status=429)
        form = SearchInputSerializer(data={**form_data(request.POST), **request.FILES.dict()},
                                     context={"request": request})
        if not form.is_valid():  # the form keeps what was typed
            context = self._context(errors=error_messages(form), query=request.POST,
                                    class_focus=_focus_box(request))
            return render(request, self.template_name, context, status=400)
        data = form.validated_data
        try:
            result = figure_search(
                image=data.get("image"), text=data["text"], text_weight=data["text_weight"],
                k=data["k"], filters=search_filters(data), class_focus=data["class_focus"],
            )
        except ApplicationError as exc:
            context = self._context(errors=[exc.message], query=request.POST, class_focus=data["class_focus"])
            return render(request, self.template_name, context, status=400)
        context = self._context(
            result=result, query=request.POST, query_image=_thumbnail(data.get("image")),
            query_token=data["query_token"], selected_corpora=data.get("corpus", []),
            class_focus=data["class_focus"], voted=result.focus.voted() if result.focus else {},
            deeper_k=deeper_k(data["k"], len(result.hits)),
        )
        return render(request, self.template_name, context)

    @staticmethod
    def _context(**extra: object) -> dict[str, object]:
        model = active_model()
        return {
            "corpora": corpus_list(),
            "active_model": model,
            "unencoded": catalogue_unsearched(model) if model is not None else 0,
            "unindexed": catalogue_unsearched_text(),
            "max_k": settings.RETRIEVAL_MAX_K,
            "default_k": settings.RETRIEVAL_DEFAULT_K,
            "class_focus": True,
            **extra,
        }


def _focus_box(request: HttpRequest) -> bool:
    """The class focus box as sent, to show it again beside an error: ticked unless sent "false"."""
    return checkbox_value(request.POST, "class_focus").get("class_focus", "true") != "false"


def _thumbnail(image: Image.Image | None, size: int = 640) -> str:
    """The query drawing as a small PNG data URI, shown beside the results."""
    if image is None:
        return ""
    thumb = image.convert("L")
    thumb.thumbnail((size, size))
    buffer = io.BytesIO()
    thumb.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
