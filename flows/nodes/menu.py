import re
from typing import Any

from . import register
from .base import Config, Node, NodeType
from .common import LANGUAGE, TEMPLATE, VOICE, obj
from .runtime import Event, Gather, Next, Result, Run, Say, Wait, only_digits, text_digits

DIDNT_GET_THAT = "Sorry, I didn't get that."
_WORD = re.compile(r"[^\w*#]+", re.UNICODE)
_KEYS = re.compile(r"[0-9*#]+")

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
    color = "#7a4fa3"
    icon = "#"
    summary = ("{#options} options · {input|dtmf} · {prompt:40|}",)
    description = "Prompt and collect DTMF and/or speech."
    fixed_exits = ("no_input", "no_match")
    exits_from = ("options", "key")
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
                        "speech": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1, "maxLength": 100},
                            "maxItems": 50,
                        },
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
    def check(cls, config: Config) -> list[tuple[str, str]]:
        problems = []
        seen: set[str] = set()
        for i, option in enumerate(config.get("options", [])):
            key = option.get("key")
            if key in seen:
                problems.append((f"options[{i}].key", f"option key {key!r} is used twice"))
            if key in cls.fixed_exits:
                problems.append(
                    (
                        f"options[{i}].key",
                        f"option key {key!r} clashes with the exit of the same name",
                    )
                )
            seen.add(key)
            if config.get("input", "dtmf") == "speech" and not option.get("speech"):
                problems.append(
                    (f"options[{i}].speech", "a speech-only menu needs words for every option")
                )
        return problems

    # --- runtime ---------------------------------------------------------------------------
    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        return cls.ask(run, node, problem=None)

    @classmethod
    def ask(cls, run: Run, node: Node, problem: str | None) -> Result:
        config = node["config"]
        mode = config.get("input", "dtmf")
        keys = [str(o["key"]) for o in config.get("options", [])]
        prompts = []
        if problem == "no_match" or (problem == "no_input" and config.get("invalid_prompt")):
            prompts.append(
                run.speech(config, "invalid_prompt")
                or Say(
                    DIDNT_GET_THAT,
                    config.get("language") or run.flow.language,
                    config.get("voice") or run.flow.voice,
                )
            )
        prompt = run.speech(config, "prompt")
        if prompt is not None:
            prompts.append(prompt)
        dtmf_keys = [k for k in keys if _KEYS.fullmatch(k)]
        same_length = len({len(k) for k in dtmf_keys}) == 1 and len(dtmf_keys) == len(keys)
        words = [w for o in config.get("options", []) for w in o.get("speech", [])]
        run.emit(
            Gather(
                seq=run.next_seq,
                input=mode,
                prompts=tuple(p for p in prompts if p is not None),
                num_digits=len(dtmf_keys[0]) if mode != "speech" and same_length else None,
                timeout=int(config.get("timeout", 5)),
                hints=", ".join(words)[:1000] if mode != "dtmf" and words else None,
                language=config.get("language") or run.flow.language,
            )
        )
        return Wait("input")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        config = node["config"]
        mode = config.get("input", "dtmf")
        digits = only_digits(event.digits) if mode != "speech" else ""
        speech = " ".join(event.speech.split())[:500] if mode != "dtmf" else ""
        key = match_option(config.get("options", []), digits, speech)
        heard = digits or speech or None
        run.remember(node["id"], digits=digits, speech=speech)
        if key is not None:
            return Next(key, input=heard)
        # keys that are no keys (letters, symbols) are a wrong answer, not silence
        problem = "no_match" if heard or (mode != "speech" and event.digits.strip()) else "no_input"
        if run.tries(node["id"], bump=True) <= int(config.get("retries", 2)):
            return cls.ask(run, node, problem)
        return Next(problem, input=heard)

    # --- text conversations ----------------------------------------------------------------
    @classmethod
    def text_reply(cls, config: Config, text: str) -> Event:
        """The option the text names (its key, a word or its label) as the keys or words
        the menu takes; a text naming none stays a wrong answer, even on a keypad menu."""
        mode = config.get("input", "dtmf")
        options = config.get("options") or []
        digits = text_digits(text)
        key = match_option(options, digits, "" if digits else text.lower())
        if key is not None:
            if mode != "speech" and _KEYS.fullmatch(key):
                return Event(kind="input", digits=key)
            return Event(kind="input", speech=key, confidence=1.0)
        if text and not digits and mode == "dtmf":
            # A keypad-only menu ignores words: keys no option has make the no_match.
            keys = {str(o.get("key")) for o in options}
            digits = next(k for k in ("#", "*#", "##*") if k not in keys)
        return Event(kind="input", digits=digits, speech="" if digits else text, confidence=1.0)

    @classmethod
    def text_options(cls, config: Config) -> list[str]:
        """ "Reply 1 for Bookings, 2 for Opening hours.": the options that have a label."""
        labels = [
            f"{o['key']} for {o['label']}" for o in config.get("options") or [] if o.get("label")
        ]
        return ["Reply " + ", ".join(labels) + "."] if labels else []


def _words(text: str) -> str:
    return " " + " ".join(_WORD.split(text.lower())).strip() + " "


def match_option(options: list[dict[str, Any]], digits: str, speech: str) -> str | None:
    """The key of the option the caller chose: by keys pressed, else by words said."""
    if digits:
        for option in options:
            if str(option["key"]) == digits:
                return str(option["key"])
        return None
    if not speech:
        return None
    heard = _words(speech)
    for option in options:
        key = str(option["key"])
        phrases = [*option.get("speech", []), key]
        if option.get("label"):
            phrases.append(option["label"])
        for phrase in phrases:
            wanted = _words(phrase)
            if wanted.strip() and wanted in heard:
                return key
    return None
