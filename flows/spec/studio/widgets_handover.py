"""Call Recording (`record-call`) and TwiML Redirect (`add-twiml-redirect`)."""

from __future__ import annotations

from typing import Any

from .common import is_url, placeholder
from .converter import _Converter, _node_id, _Widget


def record_call(c: _Converter, w: _Widget) -> None:
    """Recording on or off: a `record_call` node. Studio's `failed` path is for a request
    Twilio refused; here the recording is asked for after the turn and never stops the
    call, so the flow goes on by `success`."""
    start = w.props.get("record_call") in (True, "true", "True")
    config: dict[str, Any] = {"action": "start" if start else "stop"}
    channels = w.text("recording_channels", "mono").lower()
    if start:
        config["channels"] = "dual" if channels == "dual" else "mono"
    if start and w.text("recording_status_callback"):
        c.note(
            w,
            f"its recording status callback ({w.text('recording_status_callback')}) was not "
            "converted: recordings are listed with the call (GET /api/calls/<sid>/).",
        )
    if start and w.text("trim") == "trim-silence":
        c.note(w, "its silence trimming was not converted: recordings keep their silences.")
    failed = w.next.get("failed")
    if failed and failed != w.next.get("success"):
        c.note(
            w,
            f"its failed path (to {failed!r}) was not converted: a recording that cannot start "
            "is logged with the call and the flow goes on by success.",
        )
    c.add(w, "record_call", config, {"next": c.to(w, "success", "failed")})


def twiml_redirect(c: _Converter, w: _Widget) -> None:
    """The call handed to the TwiML at `url`; its `return` path when it is sent back (to the
    `ReturnUrl` parameter, where Studio's TwiML redirected to the flow's webhook with
    `FlowEvent=return`); `timeout` and `fail` are the node's `failed`, told apart by
    `nodes.ID.outcome` when they lead to different widgets."""
    url = w.text("url").strip()
    if not is_url(url):
        placeholder(
            c,
            w,
            f"{url!r} is not an http(s) URL to hand the call to: set the URL and replace this "
            "placeholder with a redirect node",
        )
        return
    config: dict[str, Any] = {"url": c.template(w, url)}
    method = w.text("method", "POST").upper()
    config["method"] = method if method in ("GET", "POST") else "POST"
    if w.text("timeout"):
        config["return_after"] = w.number("timeout", 14400, 10, 14400)
    c.note(
        w,
        "the TwiML at its URL sends the call back to the flow with <Redirect> to the "
        "`ReturnUrl` parameter it is given (Studio's TwiML redirected to the flow's webhook "
        "with FlowEvent=return): change that TwiML accordingly.",
    )
    timeout, fail = w.next.get("timeout"), w.next.get("fail")
    exits: dict[str, Any] = {"return": c.to(w, "return")}
    if timeout == fail or not timeout or not fail:
        exits["failed"] = c.to(w, "fail", "timeout")
        c.add(w, "redirect", config, exits)
        return
    node_id = c.ids[w.name]
    split = _node_id(f"{node_id}_failed", c.taken)
    exits["failed"] = split
    c.add(w, "redirect", config, exits)
    rules = [{"exit": "timeout", "var": f"nodes.{node_id}.outcome", "op": "eq", "value": "timeout"}]
    c.add(
        w,
        "branch",
        {"rules": rules},
        {"timeout": c.to(w, "timeout"), "else": c.to(w, "fail")},
        node_id=split,
        entry=False,
    )
