"""The one seam to Twilio's REST API: the only module that imports twilio.rest.

`TWILIO_API_BASE_URL` points the client at a Twilio-compatible provider or a local fake.
Every failure is raised as `SendError`, which says whether trying again may help
(`transient`) and whether the provider may have acted on the request even so
(`ambiguous`: a read timeout, a connection dropped after the request went out, an answer
that cannot be read). Without an account (`TWILIO_REST_ENABLED` False, as in `make run`)
nothing is sent: every call raises `NotConfigured` before any request is made.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

#: list lookups used to reconcile: at most this many recent records are read
LOOKUP_LIMIT = 50
#: how far the provider's clock may run behind ours: a lookup for what an attempt may have
#: done starts this much before the attempt did (what it finds that another of our rows
#: holds is not the attempt's)
CLOCK_SLACK = timedelta(seconds=60)


class SendError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        transient: bool = False,
        ambiguous: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.transient = transient
        self.ambiguous = ambiguous


class NotConfigured(SendError):
    """No Twilio account: the request was not made (permanent until one is configured)."""

    #: `OutboundMessage.error_code` of a text kept unsent for this reason
    CODE = "not-configured"

    def __init__(self) -> None:
        missing = " and ".join(
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", settings.TWILIO_ACCOUNT_SID),
                ("TWILIO_AUTH_TOKEN", settings.TWILIO_AUTH_TOKEN),
            )
            if not value
        )
        why = f"{missing} unset" if missing else "TWILIO_REST_ENABLED off"
        super().__init__(f"not sent: no Twilio account configured ({why})")


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str


def client() -> Client:
    if not settings.TWILIO_REST_ENABLED:
        raise NotConfigured()
    http = TwilioHttpClient(timeout=settings.TWILIO_HTTP_TIMEOUT)
    twilio = Client(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN or "unset", http_client=http
    )
    if settings.TWILIO_API_BASE_URL:
        twilio.api.base_url = settings.TWILIO_API_BASE_URL.rstrip("/")
    return twilio


def _error(exc: Exception) -> SendError:
    """Classify a failure: 5xx, 429 and network errors are transient, other 4xx permanent;
    an answer that cannot be read is transient and ambiguous."""
    if isinstance(exc, TwilioRestException):
        status = exc.status
        transient = status is None or status >= 500 or status == 429
        return SendError(str(exc.msg or exc), status=status, code=exc.code, transient=transient)
    if isinstance(exc, TwilioException):
        # Not a REST error: a list page answered with anything but 200 ("Unable to fetch
        # page"), or a page that cannot be parsed. It says nothing about the message.
        response = exc.args[1] if len(exc.args) > 1 else None
        status = getattr(response, "status_code", None)
        shown = f"{exc.args[0] if exc.args else exc}" + (f" (HTTP {status})" if status else "")
        return SendError(shown, status=status, transient=True, ambiguous=True)
    if isinstance(exc, ValueError):
        # A 2xx whose body is not JSON: the provider answered and may have acted.
        return SendError(f"unreadable answer: {exc}", transient=True, ambiguous=True)
    if isinstance(exc, requests.ConnectTimeout):
        return SendError(f"connect timeout: {exc}", transient=True)
    if isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc):
        # Refused before anything was sent: the provider cannot have acted on it.
        return SendError(f"cannot connect: {exc}", transient=True)
    if isinstance(exc, requests.RequestException | OSError):
        # A read timeout or a dropped connection: the request may have been taken.
        return SendError(f"{type(exc).__name__}: {exc}", transient=True, ambiguous=True)
    return SendError(f"{type(exc).__name__}: {exc}", transient=False)


#: what a request to the provider can raise (JSONDecodeError is a ValueError)
_FAILURES = (TwilioException, requests.RequestException, OSError, ValueError)


def sms_send(*, to: str, from_: str, body: str, status_callback: str | None = None) -> Sent:
    try:
        message = client().messages.create(
            to=to,
            from_=from_,
            body=body,
            **({"status_callback": status_callback} if status_callback else {}),
        )
    except _FAILURES as exc:
        raise _error(exc) from exc
    return Sent(sid=message.sid or "", status=message.status or "queued")


def sms_sent_since(*, to: str, from_: str, body: str, since: datetime) -> list[Sent]:
    """The outbound messages with this body sent to `to` from `from_` since `since` (less
    CLOCK_SLACK), oldest first: the caller tells its own apart by the SIDs it already holds.

    Twilio filters by the day only: the time and the body are compared here.
    """
    since = _slackened(since)
    try:
        found = client().messages.list(
            to=to, from_=from_ or None, date_sent_after=since, limit=LOOKUP_LIMIT
        )
    except _FAILURES as exc:
        raise _error(exc) from exc
    return [
        Sent(sid=message.sid or "", status=str(message.status or ""))
        for message in reversed(found)
        if (message.body or "") == body
        and str(message.direction or "outbound").startswith("outbound")
        and (message.date_created is None or message.date_created >= since)
    ]


def _slackened(since: datetime) -> datetime:
    """Where a lookup starts: CLOCK_SLACK before `since`, to the second (the provider's
    times have no fraction)."""
    return (since - CLOCK_SLACK).replace(microsecond=0)


def first_not_held(found: list[Sent], held: Collection[str]) -> Sent | None:
    """The first record found that no row of ours holds already."""
    return next((sent for sent in found if sent.sid not in held), None)


def call_create(
    *,
    to: str,
    from_: str,
    url: str,
    status_callback: str | None = None,
    machine_detection: bool = False,
    fallback_url: str | None = None,
) -> Sent:
    """`machine_detection`: Twilio's answering-machine detection (the answer webhook then
    carries AnsweredBy)."""
    extra: dict[str, object] = {}
    if status_callback:
        extra = {
            "status_callback": status_callback,
            "status_callback_event": ["completed"],
            "status_callback_method": "POST",
        }
    if machine_detection:
        extra["machine_detection"] = "Enable"
    if fallback_url:
        extra.update(fallback_url=fallback_url, fallback_method="POST")
    try:
        call = client().calls.create(to=to, from_=from_, url=url, method="POST", **extra)
    except _FAILURES as exc:
        raise _error(exc) from exc
    return Sent(sid=call.sid or "", status=str(call.status or "queued"))


def calls_placed_since(*, to: str, from_: str, since: datetime) -> list[Sent]:
    """The outbound calls to `to` from `from_` started since `since` (less CLOCK_SLACK),
    oldest first: the caller tells its own apart by the SIDs it already holds."""
    since = _slackened(since)
    try:
        found = client().calls.list(
            to=to, from_=from_ or None, start_time_after=since, limit=LOOKUP_LIMIT
        )
    except _FAILURES as exc:
        raise _error(exc) from exc
    return [
        Sent(sid=call.sid or "", status=str(call.status or ""))
        for call in reversed(found)
        if call.start_time is None or call.start_time >= since
    ]


def recording_start(*, call_sid: str, channels: str, status_callback: str | None) -> Sent:
    """Start recording a call in progress (both legs once it is bridged); the recording's
    status callback posts its URL when it is ready."""
    extra: dict[str, object] = {}
    if status_callback:
        extra = {
            "recording_status_callback": status_callback,
            "recording_status_callback_event": ["completed", "absent", "failed"],
            "recording_status_callback_method": "POST",
        }
    try:
        recording = client().calls(call_sid).recordings.create(recording_channels=channels, **extra)
    except _FAILURES as exc:
        raise _error(exc) from exc
    return Sent(sid=recording.sid or "", status=str(recording.status or "in-progress"))


def recording_stop(*, call_sid: str) -> Sent:
    """Stop the recording under way on a call (`Twilio.CURRENT`)."""
    try:
        recording = client().calls(call_sid).recordings("Twilio.CURRENT").update(status="stopped")
    except _FAILURES as exc:
        raise _error(exc) from exc
    return Sent(sid=recording.sid or "", status=str(recording.status or "stopped"))


def call_redirect(*, call_sid: str, url: str) -> Sent:
    """Make a call in progress request `url` for its TwiML now (wherever it is)."""
    try:
        call = client().calls(call_sid).update(url=url, method="POST")
    except _FAILURES as exc:
        raise _error(exc) from exc
    return Sent(sid=call.sid or call_sid, status=str(call.status or ""))


def recording_find(*, call_sid: str) -> Sent | None:
    """A recording under way on the call, if the provider has one."""
    try:
        found = client().calls(call_sid).recordings.list(limit=LOOKUP_LIMIT)
    except _FAILURES as exc:
        raise _error(exc) from exc
    for recording in found:
        if str(recording.status or "") in ("in-progress", "paused"):
            return Sent(sid=recording.sid or "", status=str(recording.status))
    return None
