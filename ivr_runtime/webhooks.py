"""Twilio's voice webhooks: check the signature, parse the form, call a service, answer TwiML.

Whatever fails inside, the answer is valid TwiML: first the flow's fallback (run by the
service from a clean transaction), and if even that fails (say the database is down) a
static apology built without touching anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import wraps
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    compare,
    get_signature_algorithm,
)

from . import call_control, deadlines, services, twiml, watchdog
from .forms import BadForm, StatusCallback, VoiceRequest, form_summary, int_field

log = logging.getLogger(__name__)

XML = "text/xml; charset=utf-8"


def public_url(request: HttpRequest) -> str:
    """The URL Twilio requested: PUBLIC_BASE_URL + path + query behind a proxy."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


class WebhookForm(dict[str, str]):
    """A webhook's form: each field's last value (as `QueryDict.get` gives), and every
    value with `getall`, the way RequestValidator asks a multi-valued mapping first."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        lists: dict[str, list[str]] = {}
        for name, value in pairs:
            lists.setdefault(name, []).append(value)
        super().__init__((name, values[-1]) for name, values in lists.items())
        self.lists = lists

    def getall(self, name: str) -> list[str]:
        return self.lists[name]


def form_of(request: HttpRequest) -> WebhookForm:
    """The POSTed form, parsed once per request.

    A urlencoded body (what Twilio sends) is parsed as `QueryDict` parses it (the same
    decoding, blank values kept, DATA_UPLOAD_MAX_NUMBER_FIELDS enforced) into a plain dict:
    building a QueryDict cost a twentieth of a webhook. Any other body goes through
    Django's `request.POST`.
    """
    form = getattr(request, "_webhook_form", None)
    if form is None:
        if request.method != "POST":
            form = WebhookForm(())
        elif request.content_type == "application/x-www-form-urlencoded":
            body = request.body
            try:
                text = body.decode(request.encoding or settings.DEFAULT_CHARSET)
            except UnicodeDecodeError:
                text = body.decode("iso-8859-1")
            try:
                form = WebhookForm(
                    parse_qsl(
                        text,
                        keep_blank_values=True,
                        max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
                    )
                )
            except ValueError as exc:  # more fields than allowed
                raise TooManyFieldsSent(str(exc)) from exc
        else:
            form = WebhookForm((k, v) for k, values in request.POST.lists() for v in values)
        request._webhook_form = form  # type: ignore[attr-defined]
    return form


def signature_ok(request: HttpRequest) -> bool:
    """X-Twilio-Signature checked by the twilio library against the URL Twilio used.

    The signature of that URL as it is is computed first; only a mismatch asks the library's
    full `validate`, which also tries the URL with and without its default port.
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False  # never a request signed with an empty key
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER, ""))
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    params = form_of(request)
    url = public_url(request)
    try:
        if compare(validator.compute_signature(url, params, algorithm), signature):
            return True
    except ValueError:  # an algorithm the library does not know: validate() says so
        pass
    return validator.validate(url, params, signature, algorithm=algorithm)


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
        except BadForm as exc:
            return HttpResponseBadRequest(str(exc), content_type="text/plain")
        except Exception:
            log.exception("webhook %s failed", request.path)
            return _xml(twiml.static(twiml.UNAVAILABLE))
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


def _xml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=XML)


def _parse(request: HttpRequest) -> VoiceRequest:
    return VoiceRequest.parse(form_of(request), request.GET, request.get_full_path())


def _guarded(request: VoiceRequest, run: Callable[[], services.Turn]) -> HttpResponse:
    """Run a turn; on an unexpected error, run the flow's fallback instead."""
    try:
        return _xml(run().twiml)
    except Exception as exc:
        log.exception("call %s: turn failed", request.call_sid)
        error = f"{type(exc).__name__}: {exc}"
    try:
        answer = services.call_fail(
            call_sid=request.call_sid, fingerprint=request.fingerprint, error=error
        )
    except Exception:
        log.exception("call %s: fallback failed too", request.call_sid)
        answer = None
    return _xml(answer or twiml.static(twiml.UNAVAILABLE))


@require_POST
@twilio_webhook
def voice(request: HttpRequest) -> HttpResponse:
    """The Voice URL of every number: the flow is the one bound to `To`."""
    parsed = _parse(request)
    return _guarded(parsed, lambda: services.call_start(request=parsed))


@require_POST
@twilio_webhook
def flow_voice(request: HttpRequest, slug: str) -> HttpResponse:
    """The Voice URL of one flow, whatever number was called."""
    parsed = _parse(request)
    return _guarded(parsed, lambda: services.call_start(request=parsed, flow_slug=slug))


@require_POST
@twilio_webhook
def resume(request: HttpRequest) -> HttpResponse:
    """Every action URL (Gather, Dial, Enqueue, Record, Redirect) posts here with ?seq=N."""
    parsed = _parse(request)
    return _guarded(parsed, lambda: services.call_resume(request=parsed))


@require_POST
@twilio_webhook
def fallback(request: HttpRequest) -> HttpResponse:
    """The numbers' Voice Fallback URL: Twilio could not get or use TwiML for a call (from
    us, or from an application the call was handed to). A handed-over call comes back and
    its `redirect` node takes `failed`; any other call runs its flow's fallback."""
    parsed = _parse(request)
    form = form_of(request)
    code = _text_field(form, "ErrorCode", 10)
    # the URL without its query: it may carry what the caller keyed in
    where = _text_field(form, "ErrorUrl", 300).split("?", 1)[0]
    error = f"Twilio error {code or '?'}" + (f" at {where}" if where else "")
    return _guarded(parsed, lambda: services.call_unreachable(request=parsed, error=error))


@require_POST
@twilio_webhook
def recording_status(request: HttpRequest) -> HttpResponse:
    """A whole-call recording's status callback: the recording is listed with the call."""
    call_control.recording_status(form=form_of(request))
    return HttpResponse(status=204)


def _text_field(form: WebhookForm, name: str, limit: int) -> str:
    value = str(form.get(name) or "")[:limit]
    return "".join(ch for ch in value if ch.isprintable()).strip()


@require_POST
@twilio_webhook
def status(request: HttpRequest) -> HttpResponse:
    """Call status callbacks: the call ended (or changed state)."""
    form = form_of(request)
    try:
        update = StatusCallback.parse(form)
    except BadForm as exc:
        log.warning("malformed call status callback: %s", form_summary(form))
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    duration = int_field(form, "CallDuration", -1)  # seconds, posted with the final status
    services.call_status(
        call_sid=update.call_sid,
        status=update.status,
        duration=duration if duration >= 0 else None,
    )
    return HttpResponse(status=204)


@require_POST
@twilio_webhook
def queue_wait(request: HttpRequest) -> HttpResponse:
    """The Enqueue waitUrl: hold music until max_wait, then <Leave/>. No database."""
    max_wait = int_field(request.GET, "max_wait", 300) or 300
    music = (request.GET.get("music") or "")[:2000] or None
    if music and not music.startswith(("http://", "https://")):
        music = None
    return _xml(
        twiml.queue_wait(
            queue_time=int_field(form_of(request), "QueueTime"),
            max_wait=max_wait,
            hold_music=music,
        )
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def ping(request: HttpRequest) -> HttpResponse:
    """Static TwiML, no database, no signature: a health check and the benchmark's floor."""
    return _xml(twiml.PING)
