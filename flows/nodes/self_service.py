from . import register
from .base import NodeType
from .common import TEMPLATE, URL, obj


@register
class SelfService(NodeType):
    """Automated service: text a self-service link, or look something up and say it.

    `link_sms` texts `body` (which should contain `url`) to the caller. `lookup_say` fetches
    `url` (JSON) and speaks `say` rendered with the answer in `{{ nodes.ID.response.* }}`.

    Example::

        {"id": "balance", "type": "self_service",
         "config": {"mode": "lookup_say", "url": "https://example.com/balance?acct={{ customer.account }}",
                    "say": "Your balance is {{ nodes.balance.response.balance }} pounds."},
         "exits": {"done": "main_menu", "failed": "agent"}}
    """

    type = "self_service"
    title = "Self-service"
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
