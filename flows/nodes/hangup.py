from . import register
from .base import Node, NodeType
from .common import LANGUAGE, TEMPLATE, VOICE, obj
from .runtime import End, Result, Run
from .runtime import Hangup as HangupCommand


@register
class Hangup(NodeType):
    """Say an optional goodbye and end the call.

    Example::

        {"id": "bye", "type": "hangup", "config": {"text": "Thank you for calling. Goodbye."}, "exits": {}}
    """

    type = "hangup"
    title = "Hang up"
    color = "#ba2121"
    icon = "End"
    summary = ("“{text:60}”", "end the call")
    description = "End the call."
    terminal = True
    waits_for_input = True
    config_schema = obj({"text": TEMPLATE, "language": LANGUAGE, "voice": VOICE})

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        run.say(node["config"])
        run.emit(HangupCommand())
        return End()
