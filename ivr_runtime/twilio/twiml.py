"""Provider-neutral commands -> TwiML. The only module that imports twilio.twiml.

Action URLs are paths (`/ivr/continue?seq=N`): Twilio resolves them against the URL of the
document, so they work behind any host or proxy. Every action carries the sequence number
of the wait it answers, which is how a stale or replayed request is recognised.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from twilio.twiml.voice_response import VoiceResponse

from flows.nodes.runtime import (
    Command,
    Dial,
    Enqueue,
    Gather,
    Handover,
    Hangup,
    Pause,
    Play,
    Record,
    Redirect,
    Say,
)

CONTINUE_PATH = "/ivr/continue"
#: where Twilio posts a voicemail's transcription (voice.webhooks.transcription)
TRANSCRIPTION_PATH = "/ivr/recordings/transcription"
QUEUE_WAIT_PATH = "/ivr/queue-wait"
#: Twilio's own hold music, used when a queue has no `hold_music`
DEFAULT_HOLD_MUSIC = "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"

UNAVAILABLE = "Sorry, we cannot take your call right now. Please try again later. Goodbye."
UNKNOWN_NUMBER = "Sorry, this number is not in service. Goodbye."


#: the origin (scheme://host) of the webhook being answered, set by the webhook views: an
#: application a call is handed to needs an absolute URL to send it back to
ORIGIN: contextvars.ContextVar[str] = contextvars.ContextVar("twiml_origin", default="")


def public_base() -> str:
    """The runtime's public origin: PUBLIC_BASE_URL, else the webhook's own."""
    return (settings.PUBLIC_BASE_URL or ORIGIN.get()).rstrip("/")


def handover_url(command: Handover, base: str) -> str:
    """The handed-over URL with `ReturnUrl` (where the application sends the call back)."""
    from flows.nodes.redirect import RETURN_PARAMETER

    parts = urlsplit(command.url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.append((RETURN_PARAMETER, f"{base}{action_url(command.seq)}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def action_url(seq: int, *, replay: bool = False) -> str:
    query = {"seq": seq, "replay": 1} if replay else {"seq": seq}
    return f"{CONTINUE_PATH}?{urlencode(query)}"


def queue_wait_url(max_wait: int, hold_music: str | None) -> str:
    query: dict[str, str | int] = {"max_wait": max_wait}
    if hold_music:
        query["music"] = hold_music
    return f"{QUEUE_WAIT_PATH}?{urlencode(query)}"


def render(commands: Iterable[Command], *, base: str = "") -> VoiceResponse:
    response = VoiceResponse()
    for command in commands:
        if isinstance(command, Handover):
            response.redirect(handover_url(command, base or public_base()), method=command.method)
        else:
            _add(response, command)
    return response


def to_xml(commands: Iterable[Command], *, declaration: bool = True) -> str:
    """The TwiML document of `commands`.

    Commands are frozen (hashable) and most answers repeat from call to call (the same
    menu at the same step), so documents are kept by their commands in a bounded cache:
    building one with the twilio library costs more than running the engine for the turn.
    """
    commands = tuple(commands)
    base = public_base() if any(isinstance(c, Handover) for c in commands) else ""
    return _document(commands, declaration, base)


@functools.lru_cache(maxsize=4096)
def _document(commands: tuple[Command, ...], declaration: bool, base: str) -> str:
    return render(commands, base=base).to_xml(xml_declaration=declaration)


def _say(parent, command: Say) -> None:  # type: ignore[no-untyped-def]
    parent.say(
        command.text,
        language=command.language or None,
        voice=command.voice or None,
        loop=command.loop if command.loop != 1 else None,
    )


def _play(parent, command: Play) -> None:  # type: ignore[no-untyped-def]
    parent.play(command.url, loop=command.loop if command.loop != 1 else None)


def _add(response: VoiceResponse, command: Command) -> None:
    if isinstance(command, Say):
        _say(response, command)
    elif isinstance(command, Play):
        _play(response, command)
    elif isinstance(command, Pause):
        response.pause(length=command.length)
    elif isinstance(command, Gather):
        gather = response.gather(
            action=action_url(command.seq),
            method="POST",
            action_on_empty_result=True,
            input="dtmf speech" if command.input == "both" else command.input,
            num_digits=command.num_digits,
            timeout=command.timeout,
            finish_on_key=command.finish_on_key,
            hints=command.hints or None,
            language=command.language if command.input != "dtmf" else None,
            speech_timeout="auto" if command.input != "dtmf" else None,
        )
        for prompt in command.prompts:
            if isinstance(prompt, Say):
                _say(gather, prompt)
            else:
                _play(gather, prompt)
    elif isinstance(command, Dial):
        dial = response.dial(
            action=action_url(command.seq),
            method="POST",
            timeout=command.timeout,
            caller_id=command.caller_id or None,
        )
        if command.sip:
            dial.sip(command.sip)
        elif command.client:
            dial.client(command.client)
        else:
            dial.number(command.number or "")
    elif isinstance(command, Enqueue):
        response.enqueue(
            command.queue,
            action=action_url(command.seq),
            method="POST",
            wait_url=queue_wait_url(command.max_wait, command.hold_music),
            wait_url_method="POST",
        )
    elif isinstance(command, Record):
        response.record(
            action=action_url(command.seq),
            method="POST",
            max_length=command.max_length,
            finish_on_key=command.finish_on_key,
            transcribe=command.transcribe or None,
            transcribe_callback=TRANSCRIPTION_PATH if command.transcribe else None,
            play_beep=True,
        )
    elif isinstance(command, Redirect):
        response.redirect(action_url(command.seq, replay=command.replay), method="POST")
    elif isinstance(command, Hangup):
        response.hangup()
    else:  # pragma: no cover - the Command union is closed
        raise TypeError(f"not a command: {command!r}")


def queue_wait(*, queue_time: int, max_wait: int, hold_music: str | None) -> str:
    """The wait TwiML while queued: music, then <Leave/> once max_wait is reached."""
    response = VoiceResponse()
    remaining = max_wait - max(queue_time, 0)
    if remaining <= 0:
        response.leave()
    elif hold_music:
        response.play(hold_music)
    else:
        response.play(DEFAULT_HOLD_MUSIC)
    return response.to_xml()


def static(text: str, *, hangup: bool = True) -> str:
    """A fixed answer that needs nothing but this module (used when everything else fails)."""
    response = VoiceResponse()
    response.say(text)
    if hangup:
        response.hangup()
    return response.to_xml()


def replay_later(seq: int) -> str:
    """For a duplicate of a request still being answered: wait a moment, then ask again."""
    response = VoiceResponse()
    response.pause(length=1)
    response.redirect(action_url(seq, replay=True), method="POST")
    return response.to_xml()


PING = static("OK", hangup=True)
