from . import register
from .base import Node, NodeType
from .common import obj
from .runtime import ControlRecording, Next, Result, Run


@register
class RecordCall(NodeType):
    """Start or stop recording the whole call, both parties, from here on.

    The recording is started (or stopped) through the provider's REST API as soon as the
    turn is answered, so the prompt that follows is recorded too; the call never waits for
    it. When the recording is ready it is listed with the call's recordings (kind `call`),
    with its length and channels. `dual` keeps the caller and the
    agent on separate channels. A flow run over SMS, or a simulated call, records nothing
    and goes on. A failure to start is logged with the call and never stops the flow.

    Example::

        {"id": "record", "type": "record_call",
         "config": {"action": "start", "channels": "dual"},
         "exits": {"next": "menu"}}
    """

    type = "record_call"
    title = "Record the call"
    color = "#b83280"
    icon = "Rec"
    summary = ("{?action=stop}stop recording", "start recording[{?channels=dual} (dual)]")
    description = "Start or stop recording the whole call."
    fixed_exits = ("next",)
    config_schema = obj(
        {
            "action": {
                "enum": ["start", "stop"],
                "default": "start",
                "title": "Recording",
                "description": "Start recording the call here, or stop a recording under way",
            },
            "channels": {
                "enum": ["mono", "dual"],
                "default": "mono",
                "title": "Channels",
                "description": "mono: one mixed track; dual: caller and other party apart",
            },
        },
        required=("action",),
    )

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        config = node["config"]
        action = config.get("action", "start")
        if run.call.channel != "voice":
            return Next("next", input="not a call: nothing recorded")
        channels = config.get("channels", "mono")
        run.effect(ControlRecording(action=action, node=node["id"], channels=channels))
        run.remember(node["id"], action=action)
        return Next("next", input=f"{action} ({channels})" if action == "start" else action)
