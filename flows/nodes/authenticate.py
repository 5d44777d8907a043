from . import register
from .base import NodeType
from .common import TEMPLATE, obj


@register
class Authenticate(NodeType):
    """Identify the caller against the customer directory.

    `caller_id`: the caller's number belongs to a known customer. `account_pin`: the caller
    enters an account number, then a PIN. `pin`: the caller enters a PIN checked against the
    customer found by caller ID. On success the customer is in `{{ customer.* }}`.

    Example::

        {"id": "auth", "type": "authenticate",
         "config": {"method": "account_pin", "prompt": "Please enter your account number.",
                    "pin_prompt": "Now your four digit PIN.", "digits": 8, "pin_digits": 4,
                    "max_attempts": 3},
         "exits": {"success": "card_menu", "failure": "agent"}}
    """

    type = "authenticate"
    title = "Authenticate"
    description = "Identify the caller by caller ID, account and PIN, or PIN."
    fixed_exits = ("success", "failure")

    config_schema = obj(
        {
            "method": {"enum": ["caller_id", "account_pin", "pin"]},
            "prompt": TEMPLATE,
            "pin_prompt": TEMPLATE,
            "invalid_prompt": TEMPLATE,
            "digits": {"type": "integer", "minimum": 1, "maximum": 20},
            "pin_digits": {"type": "integer", "minimum": 3, "maximum": 12},
            "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 60, "default": 8},
        },
        required=("method",),
    )

    @classmethod
    def waits(cls, config):
        return config.get("method") != "caller_id"
