"""Maps every error to one JSON shape: {"message": ..., "extra": {...}}: DRF's exception handler for
the API views, and Django's error handlers (``handler404`` etc. in patentsearch/urls.py) for
requests under /api/ that no API view answered; pages keep their HTML error pages."""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.forms.utils import pretty_name
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from patentsearch.exceptions import ApplicationError, UnavailableError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, UnavailableError):
        return Response({"message": exc.message, "extra": exc.extra}, status=503,
                        headers={"Retry-After": str(exc.retry_after_s)})
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=400)
    if isinstance(exc, RequestDataTooBig):
        return Response({"message": f"The request is too large: {exc}.", "extra": {}}, status=413)
    if isinstance(exc, SuspiciousOperation):
        return Response({"message": f"The request was refused: {exc}.", "extra": {}}, status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": _first_message(response.data), "extra": {"fields": response.data}}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"message": str(response.data["detail"]), "extra": {}}
    return response


#: The key of a form-wide error: DRF's, and Django's forms'.
FORM_WIDE = ("non_field_errors", "__all__")


def error_messages(form: Any, errors: Any = None) -> list[str]:
    """A checked form's errors (a DRF serializer's or a Django form's) as lines for a page, in the
    words the page shows: each field's errors after the field's label ("Granted from: Enter a valid
    date."), a form-wide error alone. The API keeps its keys and wording (exception_handler).

    A message whose API wording names fields reads as the form's ``page_messages`` words it for its
    error code, where it has one. ``errors``: other errors about the form's fields (a service's
    problems, as {field: [message]}) instead of the form's own; a key that is no field of the form
    reads as a name ("task 2": "Task 2").
    """
    labels = {name: str(field.label or pretty_name(name)) for name, field in form.fields.items()}
    reworded = getattr(form, "page_messages", {})
    tree = form.errors if errors is None else errors
    lines = []
    for key, value in tree.items():
        label = "" if key in FORM_WIDE else labels.get(key) or pretty_name(str(key))
        for message in _messages(value):
            text = reworded.get(getattr(message, "code", None), str(message))
            lines.append(f"{label}: {text}" if label else text)
    return lines


def _messages(errors: Any) -> list[Any]:
    """The messages of a DRF validation error tree, as they are (an ErrorDetail keeps its code);
    an inner key before its message: a list's item by its place ("item 1"), a nested field by name."""
    if isinstance(errors, dict):
        return [f"item {key + 1}: {message}" if isinstance(key, int) else f"{pretty_name(str(key))}: {message}"
                for key, value in errors.items() for message in _messages(value)]
    if isinstance(errors, list):
        return [message for item in errors for message in _messages(item)]
    return [errors]


def _first_message(data: Any) -> str:
    """A readable one-line summary of a DRF validation error tree."""
    if isinstance(data, dict):
        for key, value in data.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)


API_PREFIX = "/api/"


def _api_error(request: HttpRequest, status: int, message: str) -> JsonResponse | None:
    """The error shape for a request under /api/ that no API view answered (unknown path,
    or an error raised before DRF); None for a page, which gets the HTML error page."""
    if not request.path.startswith(API_PREFIX):
        return None
    return JsonResponse({"message": message, "extra": {}}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api_error(request, 400, "The request was refused as malformed.") or defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _api_error(request, 403, "You do not have permission to do this.") or defaults.permission_denied(
        request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = f"No API endpoint at {request.path}: the endpoints are listed at /api/v1/docs/."
    return _api_error(request, 404, message) or defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    message = "Something went wrong on the server; the error was logged."
    return _api_error(request, 500, message) or defaults.server_error(request)
