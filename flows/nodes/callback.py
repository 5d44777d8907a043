from . import register
from .base import NodeType
from .common import TEMPLATE, obj


@register
class Callback(NodeType):
    """Offer to call the caller back; schedule the call within `within_hours`.

    With `confirm_number` the caller presses 1 to be called on the number they call from,
    or 2 to key in another; without it, the caller's number is used after they accept.

    Example::

        {"id": "offer_callback", "type": "callback",
         "config": {"prompt": "Press 1 and we will call you back within 2 hours. Press 2 to leave a message.",
                    "confirm_number": true, "within_hours": 2},
         "exits": {"scheduled": "bye", "declined": "voicemail"}}
    """

    type = "callback"
    title = "Offer a callback"
    description = "Offer and schedule a call back."
    fixed_exits = ("scheduled", "declined")
    waits_for_input = True
    config_schema = obj(
        {
            "prompt": TEMPLATE,
            "confirm_number": {"type": "boolean", "default": True},
            "within_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 168, "default": 4},
            "target": {"type": "object", "description": "route target for the callback (as route.target)"},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 60, "default": 6},
        },
        required=("prompt",),
    )
