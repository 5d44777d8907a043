"""Voice widgets: Say/Play, Connect Call To, Enqueue Call, Send to Flex, Record Voicemail,
Make Outgoing Call."""

from __future__ import annotations

import re
from typing import Any

from .common import is_url, placeholder, voice_config
from .converter import _Converter, _To, _Widget

_QUEUE_CHARS = re.compile(r"[^A-Za-z0-9_ -]+")
_CLIENT = re.compile(r"^(client:)?([A-Za-z0-9_.@-]{1,128})$")


def say_play(c: _Converter, w: _Widget) -> None:
    config: dict[str, Any] = {}
    say, play = w.text("say").strip(), w.text("play").strip()
    if say:
        config["text"] = c.template(w, w.props["say"])
    elif play and is_url(play):
        config["audio_url"] = c.template(w, play)
    elif play:
        c.skip_to(w, w.next.get("audioComplete"), f"{play!r} is not an http(s) URL to play")
        return
    else:
        why = (
            "it sends DTMF tones, which callflow does not"
            if w.text("digits")
            else "it says nothing"
        )
        c.skip_to(w, w.next.get("audioComplete"), f"{why}; the flow goes on to what followed it")
        return
    voice_config(c, w, config)
    loop = w.number("loop", 1, 0, 10)
    if loop > 1:
        config["loop"] = loop
    elif loop == 0:
        config["loop"] = 10
        c.note(w, "plays 10 times (Studio's `loop` 0 repeats until the caller hangs up).")
    c.add(w, "say", config, {"next": c.to(w, "audioComplete")})


def _target(c: _Converter, w: _Widget) -> dict[str, str] | None:
    noun = w.text("noun", "number")
    to = (w.text("to") or w.text("sip_endpoint")).strip()
    if noun == "number-multi" and "," in to:
        c.note(w, f"dials only the first of the numbers {to!r} (callflow rings one at a time).")
        to = to.split(",")[0].strip()
    if noun in ("number", "number-multi"):
        number = c.number_or_template(w, to)
        return {"number": number} if number else None
    if noun == "sip":
        to = w.text("sip_endpoint") or to
        if w.text("sip_username"):
            c.note(
                w, "its SIP username and password were not converted (set them on the SIP domain)."
            )
        return {"sip": c.template(w, to)} if re.match(r"^sips?:.+@.+", to) else None
    if noun == "client":
        found = _CLIENT.match(to)
        return {"client": found.group(2)} if found else None
    return None


def connect_call(c: _Converter, w: _Widget) -> None:
    target = _target(c, w)
    if target is None:
        noun = w.text("noun", "number")
        placeholder(
            c,
            w,
            f"connecting to {noun} {w.text('to')!r} does not convert (callflow dials a number, "
            "a SIP address, a client or a queue): replace this placeholder with a route node",
        )
        return
    config: dict[str, Any] = {"target": target}
    if w.text("timeout"):
        config["timeout"] = w.number("timeout", 30, 5, 600)
    caller_id = c.number_or_template(w, w.text("caller_id")) if w.text("caller_id") else None
    if caller_id:
        config["caller_id"] = caller_id
    if w.props.get("record") in (True, "true"):
        c.note(w, "the dialled call is not recorded (`record` was not converted).")
    # Studio takes callCompleted however the dialled call ended (DialCallStatus says how)
    done = c.to(w, "callCompleted", "hangup")
    if w.next.get("hangup") and w.next.get("hangup") != w.next.get("callCompleted"):
        c.note(
            w,
            f"its hangup path (to {w.next['hangup']!r}) was not converted: a call ends when "
            "the caller hangs up.",
        )
    c.add(w, "route", config, {"connected": done, "unavailable": done, "timeout": done})


def _queue(name: str) -> str:
    return _QUEUE_CHARS.sub("_", name).strip()[:64].strip()


def _queue_exits(c: _Converter, w: _Widget) -> dict[str, _To]:
    failed = c.to(w, "failedToEnqueue", "callFailure")
    left = c.to(w, "callFailure", "failedToEnqueue")
    return {"connected": c.to(w, "callComplete"), "unavailable": failed, "timeout": left}


def enqueue(c: _Converter, w: _Widget) -> None:
    queue = _queue(w.text("queue_name"))
    if not queue and w.text("workflow_sid"):
        queue = _queue(f"workflow {w.text('workflow_sid')}")
        c.note(
            w,
            f"enqueues into TaskRouter workflow {w.text('workflow_sid')}: it became a route to "
            f"the queue {queue!r}. Have agents answer that queue, or route by skills instead.",
        )
    if not queue:
        placeholder(c, w, "it names no queue: replace this placeholder with a route node")
        return
    config: dict[str, Any] = {"target": {"queue": queue}}
    if w.text("timeout"):
        config["max_wait"] = w.number("timeout", 300, 10, 7200)
    if w.text("wait_url"):
        c.note(w, "its wait_url (TwiML) was not converted; callers hear the default hold music.")
    c.add(w, "route", config, _queue_exits(c, w))


def send_to_flex(c: _Converter, w: _Widget) -> None:
    workflow = w.text("workflow") or w.text("workflow_sid") or "flex"
    queue = _queue(f"flex {workflow}")
    config: dict[str, Any] = {"target": {"queue": queue}}
    if w.text("timeout"):
        config["max_wait"] = w.number("timeout", 300, 10, 7200)
    c.note(
        w,
        f"hands the call to Flex (workflow {workflow}): it became a route to the queue "
        f"{queue!r}, where callers wait for an agent. Have agents answer that queue, or change "
        "the node to route to agents by skills. Its task attributes and priority were not converted.",
    )
    c.add(w, "route", config, _queue_exits(c, w))


def record_voicemail(c: _Converter, w: _Widget) -> None:
    config: dict[str, Any] = {"prompt": ""}
    if w.text("max_length"):
        config["max_length"] = w.number("max_length", 120, 5, 3600)
    if w.text("transcribe").lower() == "true":
        config["transcribe"] = True
    key = w.text("finish_on_key", "#")
    if re.fullmatch(r"[0-9*#]", key):
        config["finish_on_key"] = key
    if w.next.get("hangup") and w.next.get("hangup") != w.next.get("recordingComplete"):
        c.note(
            w,
            f"its hangup path (to {w.next['hangup']!r}) was not converted: a call ends when "
            "the caller hangs up.",
        )
    exits = {"recorded": c.to(w, "recordingComplete", "hangup"), "empty": c.to(w, "noAudio")}
    c.add(w, "voicemail", config, exits)


def outgoing_call(c: _Converter, w: _Widget) -> None:
    """Placing the call is what POST /api/flows/<slug>/calls/ does: the flow runs from the
    `answered` path once the person called picks up."""
    why = (
        "callflow places the call when asked (POST /api/flows/<slug>/calls/ with `to`), and "
        "the flow runs from its answered path"
    )
    if c.runs_as != "incomingRequest":
        why += " (this flow is not started by a REST request in Studio: check how it is run)"
    others = [e for e in ("busy", "noAnswer", "failed") if w.next.get(e)]
    if others:
        why += (
            f"; its {', '.join(others)} path(s) were not converted: an unanswered call is "
            "closed as no-answer, busy or failed in the call history"
        )
    if w.props.get("detect_answering_machine") in (True, "true"):
        why += "; ask for the call with machine_detection true, and branch on call.answered_by"
    c.skip_to(w, w.next.get("answered"), why)
