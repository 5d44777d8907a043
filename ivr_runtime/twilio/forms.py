"""Twilio's webhook forms, parsed at the edge into typed, bounded values."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest

from flows.nodes.runtime import Event, Returned

_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: a whole number, or a decimal one, in ASCII digits only ("²" and "٣" are digits to
#: str.isdigit and int(), never to Twilio)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_STATUS = re.compile(r"[a-z][a-z-]{0,31}", re.ASCII)
#: the query parameters an application a call was handed to may add to its return URL
_RETURNED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}", re.ASCII)
_RETURNED_MAX = 20
_OUR_PARAMETERS = frozenset({"seq", "replay", "handover"})
#: what a log line shows of a form it could not use
_LOGGED_FIELDS = 12
_LOGGED_CHARS = 80


class BadForm(ValueError):
    pass


def _text(form: Mapping[str, str], name: str, limit: int = 200) -> str:
    """The field, without unprintable characters, cut to `limit` and stripped."""
    value = str(form.get(name) or "")
    if not value.isprintable():  # rare: the whole value checked at once otherwise
        value = "".join(ch for ch in value if ch.isprintable())
    return value[:limit].strip()


def text_field(form: Mapping[str, str], name: str, limit: int = 200) -> str:
    """A text field of a form or a query, printable, cut to `limit` and stripped."""
    return _text(form, name, limit)


def _address(form: Mapping[str, str], name: str) -> str:
    """From or To: a control character in it is a bad form (never from Twilio), not a
    number to look up with the character dropped."""
    value = str(form.get(name) or "")
    if _CONTROL.search(value):
        raise BadForm(f"{name} contains a control character")
    return _text(form, name, 64)


def int_field(form: Mapping[str, str], name: str, default: int = 0) -> int:
    """A non-negative whole number from a form or query field (`default` when absent or garbage)."""
    value = _text(form, name, 12)
    if not _NUMBER.fullmatch(value):  # "", "abc", "nan", "inf", "²"
        return default
    try:
        return max(0, min(int(float(value)), 10**7))
    except OverflowError:  # "1e999"
        return default


def seq_field(query: Mapping[str, str]) -> int | None:
    """The turn a request answers (`?seq=N`); None when absent or not ASCII digits."""
    value = _text(query, "seq", 9)
    return int(value) if value.isascii() and value.isdigit() else None


def form_summary(form: Mapping[str, str]) -> str:
    """A bounded, printable view of a form for a log line: the first fields, each cut."""

    def shown(text: object) -> str:
        text = str(text)
        cut = text[:_LOGGED_CHARS] + ("..." if len(text) > _LOGGED_CHARS else "")
        return repr(_CONTROL.sub("?", cut))

    names = list(form)[:_LOGGED_FIELDS]
    parts = [f"{shown(name)}: {shown(form[name])}" for name in names]
    if len(form) > len(names):
        parts.append(f"... {len(form) - len(names)} more fields")
    return "{" + ", ".join(parts) + "}"


def _float(form: Mapping[str, str], name: str) -> float | None:
    try:
        value = float(_text(form, name, 20))
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def fingerprint(full_path: str, form: Mapping[str, str]) -> str:
    """Identifies a request: its path and query, and its form, order aside."""
    digest = hashlib.sha256(full_path.encode())
    for key in sorted(form):
        digest.update(b"\0" + str(key).encode() + b"=" + str(form[key]).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class VoiceRequest:
    call_sid: str
    caller: str
    to: str
    call_status: str
    digits: str
    speech: str
    confidence: float | None
    dial_status: str
    dial_duration: int
    queue_result: str
    queue_time: int
    recording_url: str
    recording_sid: str
    recording_duration: int
    seq: int | None
    replay: bool
    fingerprint: str
    #: AnsweredBy: human, machine_start, fax, unknown (answering-machine detection)
    answered_by: str = ""
    #: a call handed to another application: the parameters it added to the return URL,
    #: "timeout" when the runtime took the call back, or why it could not be reached
    returned: tuple[tuple[str, str], ...] = ()
    handover: str = ""
    unreachable: str = ""

    @classmethod
    def parse(
        cls, form: Mapping[str, str], query: Mapping[str, str], full_path: str
    ) -> VoiceRequest:
        call_sid = str(form.get("CallSid") or "")
        if not _SID.fullmatch(call_sid):
            raise BadForm("CallSid is missing or malformed")
        return cls(
            call_sid=call_sid,
            caller=_address(form, "From"),
            to=_address(form, "To"),
            call_status=_text(form, "CallStatus", 32),
            digits=_text(form, "Digits", 64),
            speech=_text(form, "SpeechResult", 1000),
            confidence=_float(form, "Confidence"),
            dial_status=_text(form, "DialCallStatus", 32),
            dial_duration=int_field(form, "DialCallDuration"),
            queue_result=_text(form, "QueueResult", 32),
            queue_time=int_field(form, "QueueTime"),
            recording_url=_text(form, "RecordingUrl", 1000),
            recording_sid=_text(form, "RecordingSid", 64),
            recording_duration=int_field(form, "RecordingDuration"),
            seq=seq_field(query),
            replay=_text(query, "replay", 2) == "1",
            fingerprint=fingerprint(full_path, form),
            answered_by=_text(form, "AnsweredBy", 32),
            returned=_returned(query),
            handover=_text(query, "handover", 16),
        )

    def placed(self) -> VoiceRequest:
        """This webhook of a call we placed (an outbound call, a callback): Twilio posts
        our number as From there, and the flow's caller is the other end."""
        return dataclasses.replace(self, caller=self.to, to=self.caller)

    def event(self, waiting: str) -> Event:
        """The engine event for the wait the call is at."""
        if waiting == "redirect":
            return Event(kind="redirect", result=self._returned())
        kind = waiting if waiting in ("input", "dial", "queue", "record") else "input"
        return Event(
            kind=kind,  # type: ignore[arg-type]
            digits=self.digits,
            speech=self.speech,
            confidence=self.confidence,
            dial_status=self.dial_status,
            dial_duration=self.dial_duration,
            queue_result=self.queue_result,
            queue_time=self.queue_time,
            recording_url=self.recording_url,
            recording_sid=self.recording_sid,
            recording_duration=self.recording_duration,
        )

    def _returned(self) -> Returned:
        if self.unreachable:
            return Returned(outcome="unreachable", error=self.unreachable)
        if self.handover == "timeout":
            return Returned(outcome="timeout")
        return Returned(outcome="return", params=self.returned)


def _returned(query: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    names = [n for n in query if n not in _OUR_PARAMETERS and _RETURNED_NAME.fullmatch(str(n))]
    return tuple((name, _text(query, name, 200)) for name in names[:_RETURNED_MAX])


@dataclass(frozen=True)
class StatusCallback:
    """A call status callback: the call and its new status, or BadForm."""

    call_sid: str
    status: str

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> StatusCallback:
        call_sid = str(form.get("CallSid") or "")
        status = str(form.get("CallStatus") or "").strip().lower()
        if not _SID.fullmatch(call_sid) or not _STATUS.fullmatch(status):
            raise BadForm("CallSid and CallStatus are required (a call SID and a status word)")
        return cls(call_sid, status)


@dataclass(frozen=True)
class TranscriptionCallback:
    """A `<Record transcribe>`'s transcription (transcribeCallback), or BadForm."""

    recording_sid: str
    call_sid: str
    transcription_sid: str
    status: str
    text: str
    recording_url: str

    #: more than two minutes of speech (the most Twilio transcribes) can hold
    TEXT_LIMIT = 10_000

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> TranscriptionCallback:
        recording_sid = str(form.get("RecordingSid") or "")
        call_sid = str(form.get("CallSid") or "")
        transcription_sid = str(form.get("TranscriptionSid") or "")
        status = str(form.get("TranscriptionStatus") or "").strip().lower()
        if not _SID.fullmatch(recording_sid) or (call_sid and not _SID.fullmatch(call_sid)):
            raise BadForm("RecordingSid is required (a recording SID)")
        if transcription_sid and not _SID.fullmatch(transcription_sid):
            raise BadForm("TranscriptionSid is not a SID")
        if status not in {"completed", "failed"}:
            raise BadForm("TranscriptionStatus is completed or failed")
        text = str(form.get("TranscriptionText") or "")
        text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")
        return cls(
            recording_sid=recording_sid,
            call_sid=call_sid,
            transcription_sid=transcription_sid,
            status=status,
            text=text[: cls.TEXT_LIMIT].strip() if status == "completed" else "",
            recording_url=_text(form, "RecordingUrl", 1000),
        )


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
