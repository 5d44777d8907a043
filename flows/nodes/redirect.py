from urllib.parse import urlsplit

from . import register
from .base import Node, NodeType
from .common import URL, obj
from .runtime import Event, ExpectReturn, Handover, Next, Result, Run, Wait

#: the query parameter of the handed-over request that carries the URL to send the call
#: back to (documented in docs/format.md)
RETURN_PARAMETER = "ReturnUrl"


@register
class Redirect(NodeType):
    """Hand the call to another TwiML application; go on from `return` when it sends it back.

    The application at `url` is requested by the provider as any TwiML application is,
    with the call's parameters and `ReturnUrl`: the URL to send the call back to (for
    example with `<Redirect>` to it). Query parameters it adds to that URL are kept in
    `{{ nodes.ID.returned.NAME }}`; `{{ nodes.ID.outcome }}` is `return`, `timeout` or
    `unreachable` (a branch after `failed` can tell the two apart). If the call is not back within `return_after` seconds
    it is taken back and the node takes `failed`; so it does when the application cannot
    be reached (the provider then requests the number's fallback URL, `/ivr/fallback`), or
    when `url` is not an http(s) URL. A caller who hangs up meanwhile ends the call as
    anywhere else.

    Example::

        {"id": "payments", "type": "redirect",
         "config": {"url": "https://pay.example.com/twiml/start?account={{ customer.account_number }}",
                    "method": "POST", "return_after": 600},
         "exits": {"return": "anything_else", "failed": "agent"}}
    """

    type = "redirect"
    title = "Hand over to another application"
    color = "#38a169"
    icon = "Go"
    summary = ("to {url:36|}[ · back within {return_after} s]",)
    description = "Hand the call to another TwiML application, which may send it back."
    fixed_exits = ("return", "failed")
    waits_for_input = True
    config_schema = obj(
        {
            "url": {**URL, "title": "TwiML application URL"},
            "method": {"enum": ["POST", "GET"], "default": "POST", "title": "Request method"},
            "return_after": {
                "type": "integer",
                "minimum": 10,
                "maximum": 14400,
                "default": 3600,
                "title": "Wait for the call to come back (seconds)",
                "description": "After this long the call is taken back and the node takes failed",
            },
        },
        required=("url",),
    )

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        if run.call.channel != "voice":
            return Next("failed", input="not a call: nothing to hand over")
        config = node["config"]
        url = run.render_url(config["url"]).strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
            return Next("failed", input="not a valid URL")
        seconds = int(config.get("return_after", 3600))
        run.emit(Handover(seq=run.next_seq, url=url, method=config.get("method", "POST")))
        run.effect(ExpectReturn(seq=run.next_seq, seconds=seconds, node=node["id"]))
        run.remember(node["id"], url=url, returned={})
        return Wait("redirect")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        returned = event.result
        outcome = getattr(returned, "outcome", "unreachable")
        run.remember(node["id"], outcome=outcome)
        if outcome == "return":
            run.remember(node["id"], returned=dict(returned.params))
            return Next("return")
        if outcome == "timeout":
            seconds = int(node["config"].get("return_after", 3600))
            return Next("failed", input=f"not back within {seconds} s")
        return Next("failed", input=getattr(returned, "error", "") or "could not be reached")
