"""Twilio's voice webhooks: parse the form, call a service, answer TwiML (the signature,
the form's limits and the deadline are the edge's: ivr_runtime.edge).

Whatever fails inside, the answer is valid TwiML: first the flow's fallback (run by the
service from a clean transaction), and if even that fails (say the database is down) a
static apology built without touching anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ivr_runtime.edge import twilio_webhook, xml_response
from ivr_runtime.twilio import twiml
from ivr_runtime.twilio.forms import (
    StatusCallback,
    TranscriptionCallback,
    VoiceRequest,
    form_of,
    int_field,
    text_field,
)
from ivr_runtime.voice import call_control, recordings, services

log = logging.getLogger(__name__)


def _parse(request: HttpRequest) -> VoiceRequest:
    return VoiceRequest.parse(form_of(request), request.GET, request.get_full_path())


def answer_turn(request: VoiceRequest, run: Callable[[], services.Turn]) -> HttpResponse:
    """Run a turn and answer its TwiML; on an unexpected error, run the flow's fallback
    instead (every voice webhook answers this way: calls, callbacks, outbound calls)."""
    try:
        return xml_response(run().twiml)
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
    return xml_response(answer or twiml.static(twiml.UNAVAILABLE))


@require_POST
@twilio_webhook
def voice(request: HttpRequest) -> HttpResponse:
    """The Voice URL of every number: the flow is the one bound to `To`."""
    parsed = _parse(request)
    return answer_turn(parsed, lambda: services.call_start(request=parsed))


@require_POST
@twilio_webhook
def flow_voice(request: HttpRequest, slug: str) -> HttpResponse:
    """The Voice URL of one flow, whatever number was called."""
    parsed = _parse(request)
    return answer_turn(parsed, lambda: services.call_start(request=parsed, flow_slug=slug))


@require_POST
@twilio_webhook
def resume(request: HttpRequest) -> HttpResponse:
    """Every action URL (Gather, Dial, Enqueue, Record, Redirect) posts here with ?seq=N."""
    parsed = _parse(request)
    return answer_turn(parsed, lambda: services.call_resume(request=parsed))


@require_POST
@twilio_webhook
def fallback(request: HttpRequest) -> HttpResponse:
    """The numbers' Voice Fallback URL: Twilio could not get or use TwiML for a call (from
    us, or from an application the call was handed to). A handed-over call comes back and
    its `redirect` node takes `failed`; any other call runs its flow's fallback."""
    parsed = _parse(request)
    form = form_of(request)
    code = text_field(form, "ErrorCode", 10)
    # the URL without its query: it may carry what the caller keyed in
    where = text_field(form, "ErrorUrl", 300).split("?", 1)[0]
    error = f"Twilio error {code or '?'}" + (f" at {where}" if where else "")
    return answer_turn(parsed, lambda: services.call_unreachable(request=parsed, error=error))


@require_POST
@twilio_webhook
def recording_status(request: HttpRequest) -> HttpResponse:
    """A whole-call recording's status callback: the recording is listed with the call."""
    call_control.recording_status(form=form_of(request))
    return HttpResponse(status=204)


@require_POST
@twilio_webhook
def status(request: HttpRequest) -> HttpResponse:
    """Call status callbacks: the call ended (or changed state)."""
    form = form_of(request)
    update = StatusCallback.parse(form)  # a BadForm is the edge's 400
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
    return xml_response(
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
    return xml_response(twiml.PING)


@require_POST
@twilio_webhook
def transcription(request: HttpRequest) -> HttpResponse:
    """A voicemail's transcription (the `<Record>`'s transcribeCallback)."""
    form = form_of(request)
    callback = TranscriptionCallback.parse(form)  # a BadForm is the edge's 400
    recordings.recording_transcribed(callback=callback)
    return HttpResponse(status=204)
