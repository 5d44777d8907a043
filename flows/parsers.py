"""The API's request parsers (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).

JSON bodies are read with the strict reader every flow document goes through
(flows.spec.jsontext): a repeated key, NaN, a lone surrogate or nesting too deep is a 400
naming where. Every body is bounded by DATA_UPLOAD_MAX_MEMORY_SIZE, uploaded files
included (Django itself only bounds a multipart body's plain fields): past it Django's
RequestDataTooBig is raised, which flows.api_errors answers with a 413.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from flows.spec import jsontext


class StrictJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:  # type: ignore[no-untyped-def]
        encoding = parsers.get_encoding(parser_context or {})
        # DRF hands JSON parsers the request's body, which Django has bounded already
        raw = stream.read()
        try:
            text = raw if encoding.lower().replace("_", "-") == "utf-8" else raw.decode(encoding)
            return jsontext.loads(text, max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        except jsontext.JSONTooLarge as exc:
            raise RequestDataTooBig(exc.message) from exc
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error: the body is not {encoding} text.") from exc
        except jsontext.JSONTextError as exc:
            raise ParseError(f"JSON parse error: {exc.message}") from exc


class BoundedMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:  # type: ignore[no-untyped-def]
        request = (parser_context or {}).get("request")
        meta = request.META if request is not None else {}
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            raise RequestDataTooBig(
                f"The request body is {length:,} bytes; the limit is {limit:,} bytes."
            )
        return super().parse(stream, media_type, parser_context)
