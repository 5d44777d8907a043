"""The edge of every webhook (voice, SMS, callbacks, outbound calls): the form read within
its limits, the signature checked (403), one deadline for the webhook's HTTP requests, the
watchdog armed, and never a 5xx."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt

from ivr_runtime.turns import deadlines
from ivr_runtime.twilio import twiml
from ivr_runtime.twilio.forms import BadForm, form_of, form_summary
from ivr_runtime.twilio.signature import signature_ok
from ivr_runtime.voice import watchdog

log = logging.getLogger(__name__)

XML = "text/xml; charset=utf-8"


def xml_response(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=XML)


def twilio_webhook(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """csrf-exempt, no login, signature checked (403), never a 5xx; one deadline for all of
    the webhook's HTTP requests (deadlines.py)."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        refused = _unreadable(request)
        if refused is not None:
            return refused
        if settings.TWILIO_VALIDATE_SIGNATURES or not settings.DEBUG:
            try:
                valid = signature_ok(request)
            except Exception:
                log.exception("signature check failed")
                valid = False
            if not valid:
                return HttpResponseForbidden("invalid Twilio signature", content_type="text/plain")
        origin = "" if settings.PUBLIC_BASE_URL else f"{request.scheme}://{request.get_host()}"
        token = twiml.ORIGIN.set(origin)
        try:
            with watchdog.armed():
                return view(request, *args, **kwargs)
        except BadForm as exc:  # the form lacks or garbles what the webhook needs
            log.warning("malformed webhook %s: %s", request.path, form_summary(form_of(request)))
            return HttpResponseBadRequest(str(exc), content_type="text/plain")
        except Exception:
            log.exception("webhook %s failed", request.path)
            return xml_response(twiml.static(twiml.UNAVAILABLE))
        finally:
            twiml.ORIGIN.reset(token)

    return deadlines.within_webhook_deadline(wrapped)  # from the start of the webhook


def _unreadable(request: HttpRequest) -> HttpResponse | None:
    """The answer to a body too large (413) or with too many fields (400), else None.

    The form is read first, before the signature is checked: the signature covers the
    form, and a body Django refuses to read would otherwise look like a bad signature.
    """
    try:
        form_of(request)
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        log.warning(
            "webhook %s refused: the body is over %s bytes (Content-Length %s)",
            request.path,
            limit,
            str(request.META.get("CONTENT_LENGTH"))[:20],
        )
        return HttpResponse(
            f"The request body is larger than the limit of {limit:,} bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE).",
            status=413,
            content_type="text/plain",
        )
    except TooManyFieldsSent:
        log.warning("webhook %s refused: too many form fields", request.path)
        return HttpResponseBadRequest(
            f"More than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields "
            "(DATA_UPLOAD_MAX_NUMBER_FIELDS).",
            content_type="text/plain",
        )
    except Exception as exc:  # a malformed multipart body, say: nothing Twilio sends
        log.warning("webhook %s refused: unreadable form (%s)", request.path, str(exc)[:200])
        return HttpResponseBadRequest("The form could not be read.", content_type="text/plain")
    return None
