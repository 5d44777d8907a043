"""Messaging widgets: Send Message (an sms node) and Send & Wait For Reply (an input node:
on the SMS channel it texts its prompt and takes the next text as the answer)."""

from __future__ import annotations

from typing import Any

from .common import placeholder
from .converter import _Converter, _Widget

_CONTACT = "{{ caller.number }}"
_OUR_NUMBER = "{{flow.channel.address}}"


def _ignored(w: _Widget, ignored: list[str]) -> None:
    sender = w.text("from").replace(" ", "")
    if sender and sender != _OUR_NUMBER:
        ignored.append(f"`from` ({sender}: texts go from the number the flow answers)")
    if w.text("media_url"):
        ignored.append("its media (MMS)")


def send_message(c: _Converter, w: _Widget) -> None:
    body = c.template(w, w.text("body"))
    if not body.strip():
        c.skip_to(w, w.next.get("sent") or w.next.get("failed"), "its message is empty")
        return
    config: dict[str, Any] = {"body": body[:1600]}
    to = w.text("to").strip()
    if to:
        number = c.number_or_template(w, to)
        if number is None:
            placeholder(
                c, w, f"{to!r} is not a phone number: replace this placeholder with an sms node"
            )
            return
        if number != _CONTACT:
            config["to"] = number
    ignored: list[str] = []
    _ignored(w, ignored)
    if w.next.get("failed") and w.next.get("failed") != w.next.get("sent"):
        ignored.append(
            f"the failed path (to {w.next['failed']!r}: a text is retried in the background)"
        )
    if ignored:
        c.note(
            w,
            f"became an sms node; {', '.join(ignored)} {'was' if len(ignored) == 1 else 'were'} not converted.",
        )
    c.add(w, "sms", config, {"next": c.to(w, "sent", "failed")})


def send_and_wait(c: _Converter, w: _Widget) -> None:
    prompt = c.template(w, w.text("body"))
    config: dict[str, Any] = {
        "prompt": prompt,
        "input": "both",
        "min_digits": 1,
        "max_digits": 64,
        "timeout": 60,
        "retries": 0,
    }
    ignored: list[str] = []
    _ignored(w, ignored)
    if w.next.get("deliveryFailure"):
        ignored.append(f"the deliveryFailure path (to {w.next['deliveryFailure']!r})")
    note = (
        f"became an input node: it texts its message and takes the reply, in "
        f"nodes.{c.ids[w.name]}.value; an unanswered conversation ends when it idles out "
        "(SMS_SESSION_IDLE_MINUTES), not after `timeout`"
    )
    if ignored:
        note += f"; {', '.join(ignored)} {'was' if len(ignored) == 1 else 'were'} not converted"
    c.note(w, f"{note}.")
    answered = c.to(w, "incomingMessage")
    c.add(
        w, "input", config, {"valid": answered, "invalid": answered, "no_input": c.to(w, "timeout")}
    )
