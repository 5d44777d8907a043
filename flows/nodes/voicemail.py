from . import register
from .base import NodeType
from .common import TEMPLATE, obj


@register
class Voicemail(NodeType):
    """Record a message after a prompt; keep the recording's URL and length.

    Example::

        {"id": "voicemail", "type": "voicemail",
         "config": {"prompt": "Please leave a message after the tone.", "max_length": 120, "transcribe": false},
         "exits": {"recorded": "thanks", "empty": "bye"}}
    """

    type = "voicemail"
    title = "Voicemail"
    description = "Record a message."
    fixed_exits = ("recorded", "empty")
    waits_for_input = True
    config_schema = obj(
        {
            "prompt": TEMPLATE,
            "max_length": {"type": "integer", "minimum": 5, "maximum": 3600, "default": 120},
            "transcribe": {"type": "boolean", "default": False},
            "finish_on_key": {"type": "string", "pattern": "^[0-9*#]$", "default": "#"},
        },
        required=("prompt",),
    )
