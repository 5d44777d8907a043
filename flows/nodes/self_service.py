from . import register
from .base import Node, NodeType
from .common import TEMPLATE, URL, obj
from .http import build_request
from .runtime import Event, Need, Next, Result, Run, SendSms, is_e164


@register
class SelfService(NodeType):
    """Automated service: text a self-service link, or look something up and say it.

    `link_sms` texts `body` (which should contain `url`) to the caller. `lookup_say` fetches
    `url` (JSON) and speaks `say` rendered with the answer in `{{ nodes.ID.response.* }}`;
    the lookup is made as an `http` node's request is (the same timeout, deadline and
    refused addresses), and `failed` says why.

    Example::

        {"id": "balance", "type": "self_service",
         "config": {"mode": "lookup_say", "url": "https://example.com/balance?acct={{ customer.account }}",
                    "say": "Your balance is {{ nodes.balance.response.balance }} pounds."},
         "exits": {"done": "main_menu", "failed": "agent"}}
    """

    type = "self_service"
    title = "Self-service"
    color = "#4a5568"
    icon = "Ss"
    summary = ("{mode|?} · {url:40|}",)
    description = "Text a self-service link, or look up and speak an answer."
    fixed_exits = ("done", "failed")
    config_schema = obj(
        {
            "mode": {"enum": ["link_sms", "lookup_say"]},
            "url": URL,
            "body": {**TEMPLATE, "maxLength": 1600},
            "say": TEMPLATE,
            "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 5, "default": 3},
        },
        required=("mode", "url"),
    )

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        config = node["config"]
        if config["mode"] == "link_sms":
            if not is_e164(run.call.caller):
                return Next("failed", input="no number to text")
            url = run.render_url(config["url"]).strip()
            body = run.render(config.get("body")).strip()
            if url not in body:
                body = f"{body} {url}".strip()
            run.effect(SendSms(to=run.call.caller, body=body, node=node["id"]))
            run.say(config, "say")
            return Next("done", input=run.call.caller)
        request = build_request(run, config)
        if request is None:
            return Next("failed", input="not a valid URL")
        return Need(request)

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        result = event.result
        if result is None or not result.ok:
            run.remember(node["id"], response=None)
            return Next("failed", input=(result.error if result else "no answer"))
        run.remember(node["id"], response=result.data)
        run.say(node["config"], "say")
        return Next("done", input=str(result.status))
