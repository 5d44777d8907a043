from . import register
from .base import NodeType
from .common import TEMPLATE, URL, obj

E164 = {"type": "string", "pattern": "^(\\+[1-9][0-9]{6,14}|\\{\\{.+\\}\\})$"}


@register
class Route(NodeType):
    """Connect the caller to a person: a number, a SIP address, a queue or an agent by skills.

    `timeout` is how long a dialled person rings; `max_wait` how long a caller waits in a
    queue before `timeout`. `announce` is said to the caller before connecting.
    `hold_music` is the audio played while queued.

    Example::

        {"id": "lost_card", "type": "route",
         "config": {"target": {"skills": ["cards", "fraud"]}, "timeout": 25,
                    "announce": "Connecting you to our card team."},
         "exits": {"connected": "bye", "unavailable": "offer_callback", "timeout": "offer_callback"}}
    """

    type = "route"
    title = "Route to a person"
    description = "Dial a number, SIP address, queue, or an agent with the right skills."
    fixed_exits = ("connected", "unavailable", "timeout")
    waits_for_input = True
    config_schema = obj(
        {
            "target": {
                "oneOf": [
                    obj({"number": E164}, required=("number",)),
                    obj({"sip": {"type": "string", "pattern": "^sips?:.+@.+"}}, required=("sip",)),
                    obj({"queue": {"type": "string", "pattern": "^[A-Za-z0-9_ -]{1,64}$"}}, required=("queue",)),
                    obj(
                        {"skills": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"}, "minItems": 1, "maxItems": 20, "uniqueItems": True}},
                        required=("skills",),
                    ),
                ]
            },
            "timeout": {"type": "integer", "minimum": 5, "maximum": 600, "default": 30},
            "max_wait": {"type": "integer", "minimum": 10, "maximum": 7200, "default": 300},
            "announce": TEMPLATE,
            "hold_music": URL,
            "caller_id": E164,
        },
        required=("target",),
    )
