"""Control characters in a URL are refused before any view (or database) sees them.

No path or query parameter of the API, the designer or the admin has a use for them, and
PostgreSQL refuses NUL in any text, so `?search=%00` would otherwise end in a 500 from
whichever query used it first. The answer is a 400 naming the parameter: JSON on the API
(the shape of flows.api_errors' field errors), text elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _problem(request: HttpRequest) -> tuple[str, str] | None:
    """(the parameter, the sentence) of the first control character in the URL."""
    if _CONTROL.search(request.path):
        return "path", "The URL's path contains a control character."
    if not request.META.get("QUERY_STRING"):
        return None
    for name, values in request.GET.lists():
        for value in (name, *values):
            found = _CONTROL.search(value)
            if found:
                code = f"U+{ord(found.group()):04X}"
                shown = _CONTROL.sub("?", name)[:64]
                return (
                    shown,
                    f"The query parameter {shown!r} contains a control character ({code}).",
                )
    return None


class RefuseControlCharacters:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _problem(request)
        if problem is None:
            return self.get_response(request)
        name, message = problem
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "fields": {name: [message]}}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
