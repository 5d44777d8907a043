from . import register
from .base import Node, NodeType
from .common import LANGUAGE, TEMPLATE, URL, VOICE, obj
from .runtime import Next, Play, Result, Run


@register
class Say(NodeType):
    """Speak text, or play an audio file, then continue.

    Example::

        {"id": "greeting", "type": "say",
         "config": {"text": "Thanks for calling {{ vars.brand }}.", "voice": "Polly.Amy", "loop": 1},
         "exits": {"next": "menu"}}
    """

    type = "say"
    title = "Say / play"
    color = "#417690"
    icon = "Sa"
    summary = ("“{text:60}”", "plays {audio_url:40}")
    description = "Speak text or play audio."
    fixed_exits = ("next",)
    config_schema = obj(
        {
            "text": TEMPLATE,
            "audio_url": URL,
            "language": LANGUAGE,
            "voice": VOICE,
            "loop": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
        },
        anyOf=[{"required": ["text"]}, {"required": ["audio_url"]}],
    )

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        config = node["config"]
        run.say(config)
        if config.get("audio_url"):
            run.emit(Play(url=run.render(config["audio_url"]), loop=int(config.get("loop") or 1)))
        return Next("next")
