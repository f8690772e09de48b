"""Request bodies are bounded before Django reads (or spools to disk) any of them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    """Refuse a body whose declared length is over PATENTSEARCH_MAX_REQUEST_BYTES with 413.

    The proxy in front (docker/Caddyfile) enforces the same limit; this keeps it when the app
    is reached directly. Upload paths named in PATENTSEARCH_LARGE_BODY_PATHS (corpus archives)
    have their own, larger limit. API paths get the API's error shape, pages a short text.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        limit = getattr(settings, "PATENTSEARCH_LARGE_BODY_PATHS", {}).get(
            request.path, settings.PATENTSEARCH_MAX_REQUEST_BYTES
        )
        if length < 0 or length > limit:
            message = (
                f"The request body is {length:,} bytes; the limit is {limit:,}."
                if length >= 0 else "The request has an invalid Content-Length."
            )
            status = 413 if length >= 0 else 400
            if request.path.startswith("/api/"):
                return JsonResponse({"message": message, "extra": {"limit_bytes": limit}}, status=status)
            return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
