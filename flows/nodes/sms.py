from . import register
from .base import Node, NodeType
from .common import TEMPLATE, obj
from .runtime import Next, Result, Run, SendSms, is_e164


@register
class Sms(NodeType):
    """Text the caller (or `to`). The message is queued and sent in the background, with retries.

    A `to` that renders empty or not as a phone number sends nothing (it never falls back
    to the caller): the step's input says why and the flow goes on by `next`.

    Example::

        {"id": "send_link", "type": "sms",
         "config": {"body": "Book a table online: https://example.com/book"},
         "exits": {"next": "goodbye"}}
    """

    type = "sms"
    title = "Send SMS"
    color = "#3182ce"
    icon = "Tx"
    summary = ("text: {body:50|}",)
    description = "Queue a text message to the caller or another number."
    fixed_exits = ("next",)
    config_schema = obj(
        {
            "body": {**TEMPLATE, "minLength": 1, "maxLength": 1600},
            "to": {"type": "string", "pattern": "^(\\+[1-9][0-9]{6,14}|\\{\\{.+\\}\\})$"},
        },
        required=("body",),
    )

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        config = node["config"]
        if config.get("to"):
            to = run.render(config["to"]).strip()
            if not to:
                return Next("next", input="not sent: no number to text (`to` is empty)")
            if not is_e164(to):
                return Next("next", input=f"not sent: {to[:32]!r} is not a phone number")
        else:
            to = run.call.caller
            if not is_e164(to):
                return Next("next", input="not sent: no number to text (the caller's is unknown)")
        run.effect(SendSms(to=to, body=run.render(config["body"]), node=node["id"]))
        return Next("next", input=to)
