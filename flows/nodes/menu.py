from . import register
from .base import NodeType
from .common import LANGUAGE, TEMPLATE, VOICE, obj

KEY = {"type": "string", "pattern": "^([0-9*#]{1,4}|[a-z][a-z0-9_]{0,31})$"}


@register
class Menu(NodeType):
    """Prompt the caller and collect a key press and/or speech.

    Each option's `key` is also the name of its exit. Speech options list the words that
    choose them; those words are also sent to the recogniser as hints.

    Example::

        {"id": "main_menu", "type": "menu",
         "config": {"prompt": "For bookings press 1 or say booking. For anything else press 2.",
                    "input": "both", "timeout": 5, "retries": 2,
                    "invalid_prompt": "Sorry, I didn't get that.",
                    "options": [{"key": "1", "label": "Bookings", "speech": ["booking", "table"]},
                                {"key": "2", "label": "Other"}]},
         "exits": {"1": "bookings", "2": "other", "no_input": "goodbye", "no_match": "goodbye"}}
    """

    type = "menu"
    title = "Menu"
    description = "Prompt and collect DTMF and/or speech."
    fixed_exits = ("no_input", "no_match")
    waits_for_input = True
    config_schema = obj(
        {
            "prompt": TEMPLATE,
            "options": {
                "type": "array",
                "minItems": 1,
                "maxItems": 32,
                "items": obj(
                    {
                        "key": KEY,
                        "label": {"type": "string", "maxLength": 200},
                        "speech": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}, "maxItems": 50},
                    },
                    required=("key",),
                ),
            },
            "input": {"enum": ["dtmf", "speech", "both"], "default": "dtmf"},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 60, "default": 5},
            "retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 2},
            "invalid_prompt": TEMPLATE,
            "language": LANGUAGE,
            "voice": VOICE,
        },
        required=("prompt", "options"),
    )

    @classmethod
    def exits(cls, config):
        keys = [str(o.get("key")) for o in config.get("options", []) if isinstance(o, dict) and "key" in o]
        return keys + list(cls.fixed_exits)

    @classmethod
    def check(cls, config):
        problems = []
        seen: set[str] = set()
        for i, option in enumerate(config.get("options", [])):
            key = option.get("key")
            if key in seen:
                problems.append((f"options[{i}].key", f"option key {key!r} is used twice"))
            if key in cls.fixed_exits:
                problems.append((f"options[{i}].key", f"option key {key!r} clashes with the exit of the same name"))
            seen.add(key)
            if config.get("input", "dtmf") == "speech" and not option.get("speech"):
                problems.append((f"options[{i}].speech", "a speech-only menu needs words for every option"))
        return problems
