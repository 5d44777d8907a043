from . import register
from .base import Node, NodeType
from .common import TEMPLATE, obj
from .runtime import Event, Next, Record, Redirect, Result, Run, SaveRecording, Wait


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
    color = "#805ad5"
    icon = "Vm"
    summary = ("up to {max_length|120} s[{?transcribe}, transcribed]",)
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

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        config = node["config"]
        run.say(config, "prompt")
        run.emit(
            Record(
                seq=run.next_seq,
                max_length=int(config.get("max_length", 120)),
                finish_on_key=config.get("finish_on_key", "#"),
                transcribe=bool(config.get("transcribe", False)),
            ),
            # Twilio skips the action when nothing was recorded and runs the next verb.
            Redirect(seq=run.next_seq),
        )
        return Wait("record")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        if not event.recording_url or event.recording_duration <= 0:
            return Next("empty")
        run.effect(
            SaveRecording(
                url=event.recording_url,
                sid=event.recording_sid,
                duration=event.recording_duration,
                node=node["id"],
                transcribe=bool(node["config"].get("transcribe", False)),
            )
        )
        run.remember(
            node["id"], recording_url=event.recording_url, duration=event.recording_duration
        )
        return Next("recorded", input=f"{event.recording_duration}s")
