"""Every API error is JSON with a `detail` sentence; the services' exceptions get their status.

    400 {"detail", "problems": [Problem]}         the definition has errors
    400 {"detail", "errors": [{file, path, ...}]} an import failed (nothing was changed)
    400 {"detail", "fields": {name: [message]}}   a request field is missing or of the wrong type
    404 {"detail"}                                no such flow, version or number
    409 {"detail", "revision", "updated_by", "updated_at"}  the draft changed meanwhile
    409 {"detail", "slug"}                        the slug is taken
    413 {"detail", "limit"}                       the body is over DATA_UPLOAD_MAX_MEMORY_SIZE

Anything unexpected is logged with its traceback and answered with a JSON 500, never with
an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import exceptions, status
from rest_framework.fields import DateTimeField, get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from flows import imports, numbers, services
from flows.spec import DefinitionParseError, Problem
from flows.spec.migrations import UnknownFormat

logger = logging.getLogger(__name__)


def stale_revision_message(exc: services.StaleRevision) -> str:
    who = exc.updated_by.get_username() if exc.updated_by else "someone"
    when = exc.updated_at.strftime("%Y-%m-%d %H:%M:%S %Z") if exc.updated_at else "an unknown time"
    return f"Changed by {who} at {when}. Reload, or overwrite their changes."


def _domain_response(exc: services.FlowServiceError) -> Response | None:
    if isinstance(exc, services.InvalidDefinition):
        body = {"detail": str(exc), "problems": [p.as_dict() for p in exc.problems]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, imports.ImportFailed):
        body = {"detail": str(exc), "errors": [e.as_dict() for e in exc.errors]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, numbers.InvalidNumber):
        body = {"detail": f"number: {exc}", "fields": {"number": [str(exc)]}}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, services.StaleRevision):
        body = {
            "detail": stale_revision_message(exc),
            "revision": exc.revision,
            "updated_by": exc.updated_by.get_username() if exc.updated_by else None,
            "updated_at": DateTimeField().to_representation(exc.updated_at),
        }
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, services.FlowExists):
        return Response({"detail": str(exc), "slug": exc.slug}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, services.VersionNotFound | numbers.NumberNotBound):
        return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
    return None


def _first_message(errors: Any, field: str = "") -> str:
    """'definition: Expected a JSON object' from DRF's nested {field: [messages]} errors."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key == "non_field_errors":
                path = field
            elif isinstance(key, int):  # an item of a list field
                path = f"{field}[{key}]"
            else:
                path = f"{field}.{key}" if field else str(key)
            return _first_message(value, path)
    if isinstance(errors, list) and errors:
        return _first_message(errors[0], field)
    return f"{field}: {errors}" if field else str(errors)


def _validation_response(exc: exceptions.ValidationError) -> Response:
    fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    body = {"detail": _first_message(fields), "fields": fields}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _problems_response(problem: Problem) -> Response:
    body = {"detail": "The flow definition has errors.", "problems": [problem.as_dict()]}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _too_large_response() -> Response:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = (
        f"The request body is larger than the limit of {limit:,} bytes "
        "(DATA_UPLOAD_MAX_MEMORY_SIZE): send a smaller document, or one flow per request."
    )
    return Response(
        {"detail": detail, "limit": limit}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django refuses the body when it is read (request.data): the client's fault, not a 500
    if isinstance(exc, RequestDataTooBig):
        return _too_large_response()
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a malformed body
        return Response({"detail": f"Bad request: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
    # the format's own errors, when a service lets them through, are problems of the input
    if isinstance(exc, UnknownFormat):
        return _problems_response(Problem(str(exc), "$.format"))
    if isinstance(exc, DefinitionParseError):
        return _problems_response(exc.as_problem())
    if isinstance(exc, services.FlowServiceError):
        response = _domain_response(exc)
        if response is not None:
            set_rollback()
            return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(get_error_detail(exc))
    if isinstance(exc, ProtectedError):
        set_rollback()
        detail = "It is still in use (calls were made on it), so it cannot be deleted."
        return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return _validation_response(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "an API view")
        set_rollback()
        detail = "Something went wrong on our side. It has been logged; please try again."
        return Response({"detail": detail}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return response
