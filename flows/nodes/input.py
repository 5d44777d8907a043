import re

from . import register
from .base import Config, Node, NodeType
from .common import LANGUAGE, TEMPLATE, VOICE, obj
from .patterns import MAX_PATTERN, UnsafePattern, compile_pattern
from .runtime import Event, Gather, Next, Result, Run, Say, Wait, only_digits, text_digits

#: the longest value the node accepts (and the only values a pattern is ever matched on)
MAX_VALUE = 200

NOT_VALID = "Sorry, that is not valid."
SAY_AGAIN = "Sorry, I didn't get that."
CONFIRM_KEYS = "Press 1 if that is right, or any other key to enter it again."
CONFIRM_SMS = "Reply YES or 1 if that is right, or anything else to enter it again."
#: what accepts a read-back by speech or text
YES = frozenset({"1", "one", "yes", "yeah", "yep", "yup", "correct", "right", "ok", "okay"})
_SPOKEN_KEYS = {"*": "star", "#": "hash"}
_DIGITS = re.compile(r"[0-9]+")
_SPOKEN_DIGITS = re.compile(r"^[0-9][0-9 .,-]*$")
_PUNCTUATION = re.compile(r"[^\w'*#]+", re.UNICODE)


@register
class Input(NodeType):
    """Collect free input (an order number, a date, a reason) into a variable.

    Keys: between `min_digits` and `max_digits` keys, ended by `finish_on_key` (or by the
    last key when both are equal). Speech: what the caller says (a number said as digits,
    "1 2 3 4.", counts as those digits). `pattern` is a regular expression the whole value
    must match. A wrong value plays `invalid_prompt` and asks again, at most `retries`
    times, as does silence; then `invalid` or `no_input`. With `confirm` the value is read
    back (keys one by one) and 1 (or "yes") accepts it; anything else asks again.
    The value is in `{{ nodes.ID.value }}` and, with `save_as`, in `{{ vars.NAME }}`.

    Example::

        {"id": "order", "type": "input",
         "config": {"prompt": "Please key in your order number, then press hash.",
                    "input": "both", "min_digits": 6, "max_digits": 10,
                    "finish_on_key": "#", "timeout": 8, "pattern": "^[0-9]{6,10}$",
                    "retries": 2, "invalid_prompt": "Sorry, that is not an order number.",
                    "confirm": true, "save_as": "order_number"},
         "exits": {"valid": "lookup", "invalid": "agent", "no_input": "agent"}}
    """

    type = "input"
    title = "Input"
    color = "#5a67d8"
    icon = "In"
    summary = (
        "{?input=speech}speech[ → {save_as}]",
        "{?input=both}{min_digits|1..max_digits|20} keys or speech[ → {save_as}]",
        "{min_digits|1..max_digits|20} keys[ → {save_as}]",
    )
    description = "Collect free input (keys or speech) into a variable, validated."
    fixed_exits = ("valid", "invalid", "no_input")
    waits_for_input = True
    config_schema = obj(
        {
            "prompt": {
                **TEMPLATE,
                "title": "Prompt",
                "description": "What the caller hears first; may use {{ templates }}",
            },
            "input": {
                "enum": ["dtmf", "speech", "both"],
                "default": "dtmf",
                "title": "Answer with",
                "description": "Keys, speech, or either",
            },
            "min_digits": {
                "type": "integer",
                "minimum": 1,
                "maximum": 64,
                "default": 1,
                "title": "Fewest keys",
                "description": "Fewer keys are a wrong answer",
            },
            "max_digits": {
                "type": "integer",
                "minimum": 1,
                "maximum": 64,
                "default": 20,
                "title": "Most keys",
                "description": "As many as the fewest: the entry ends by itself once they are in",
            },
            "finish_on_key": {
                "type": "string",
                "pattern": "^[0-9*#]?$",
                "default": "#",
                "title": "Finish key",
                "description": "The key that ends the entry (# or *); empty: none",
            },
            "timeout": {
                "type": "integer",
                "minimum": 1,
                "maximum": 60,
                "default": 5,
                "title": "Silence before no input (seconds)",
            },
            "pattern": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_PATTERN,
                "title": "Pattern",
                "description": "A regular expression the whole value must match, e.g. ^[0-9]{6}$",
            },
            "retries": {
                "type": "integer",
                "minimum": 0,
                "maximum": 5,
                "default": 2,
                "title": "Ask again at most (times)",
                "description": "After a wrong answer or silence, before the invalid or no input exit",
            },
            "invalid_prompt": {
                **TEMPLATE,
                "title": "Prompt after a wrong answer",
                "description": "Said before asking again; may use {{ templates }}",
            },
            "confirm": {
                "type": "boolean",
                "default": False,
                "title": "Read the value back; 1 (or yes) accepts it",
            },
            "save_as": {
                "type": "string",
                "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$",
                "title": "Save as variable",
                "description": "The value is then in {{ vars.NAME }} too",
            },
            "hints": {
                "type": "array",
                "items": {"type": "string", "minLength": 1, "maxLength": 100},
                "maxItems": 50,
                "title": "Speech hints",
                "description": "Words or phrases the speech recogniser should expect",
            },
            "language": {**LANGUAGE, "title": "Language"},
            "voice": {**VOICE, "title": "Voice"},
        },
        required=("prompt",),
    )

    @classmethod
    def check(cls, config: Config) -> list[tuple[str, str]]:
        problems = []
        low, high = config.get("min_digits", 1), config.get("max_digits", 20)
        if isinstance(low, int) and isinstance(high, int) and low > high:
            problems.append(
                ("min_digits", f"More digits are needed (min_digits {low}) than allowed ({high})")
            )
        pattern = config.get("pattern")
        if isinstance(pattern, str):
            try:
                compile_pattern(pattern)
            except UnsafePattern as exc:
                problems.append(("pattern", f"This pattern is refused: {exc}."))
        key = config.get("finish_on_key", "#")
        if config.get("input", "dtmf") != "speech" and key and key not in "*#":
            problems.append(("finish_on_key", "a digit as the finish key can never be entered"))
        return problems

    # --- runtime ---------------------------------------------------------------------------
    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        return cls.ask(run, node, problem=None)

    @classmethod
    def ask(cls, run: Run, node: Node, problem: str | None) -> Result:
        config = node["config"]
        mode = config.get("input", "dtmf")
        run.scratch["phase"] = "ask"
        prompts = []
        if problem == "invalid" or (problem == "no_input" and config.get("invalid_prompt")):
            default = NOT_VALID if problem == "invalid" else SAY_AGAIN
            prompts.append(run.speech(config, "invalid_prompt") or cls._say(run, config, default))
        prompt = run.speech(config, "prompt")
        if prompt is not None:
            prompts.append(prompt)
        low, high = _bounds(config)
        hints = config.get("hints") or []
        run.emit(
            Gather(
                seq=run.next_seq,
                input=mode,
                prompts=tuple(prompts),
                num_digits=low if mode != "speech" and low == high else None,
                timeout=int(config.get("timeout", 5)),
                finish_on_key=config.get("finish_on_key", "#") if mode != "speech" else None,
                hints=", ".join(hints)[:1000] if mode != "dtmf" and hints else None,
                language=config.get("language") or run.flow.language,
            )
        )
        return Wait("input")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        if run.scratch.get("phase") == "confirm":
            return cls.confirmed(run, node, event)
        config = node["config"]
        value, heard, digits, speech = read_value(config, event)
        run.remember(node["id"], value="", digits=digits, speech=speech)
        if value is None:
            return cls.retry(run, node, "invalid" if heard else "no_input", heard)
        if config.get("confirm"):
            return cls.read_back(run, node, value, spoken=not digits)
        return cls.accept(run, node, value)

    @classmethod
    def accept(cls, run: Run, node: Node, value: str) -> Result:
        run.remember(node["id"], value=value)
        save_as = node["config"].get("save_as")
        if save_as:
            run.vars[save_as] = value
        return Next("valid", input=value)

    @classmethod
    def retry(cls, run: Run, node: Node, problem: str, heard: str) -> Result:
        """Ask again (`problem`: invalid, no_input, or rejected: the read-back was refused),
        or take the exit once the retries are spent."""
        if run.tries(node["id"], bump=True) <= int(node["config"].get("retries", 2)):
            return cls.ask(run, node, problem)
        return Next("invalid" if problem == "rejected" else problem, input=heard or None)

    @classmethod
    def read_back(cls, run: Run, node: Node, value: str, *, spoken: bool) -> Result:
        config = node["config"]
        run.scratch.update(phase="confirm", value=value)
        by_text = run.call.channel == "sms"
        keyed = not spoken or _DIGITS.fullmatch(value) is not None
        shown = read_keys(value) if keyed and not by_text else value
        verb = "said" if spoken and not by_text else "entered"
        prompts = (
            cls._say(run, config, f"You {verb} {shown}."),
            cls._say(run, config, CONFIRM_SMS if by_text else CONFIRM_KEYS),
        )
        mode = config.get("input", "dtmf")
        run.emit(
            Gather(
                seq=run.next_seq,
                input="dtmf" if mode == "dtmf" else "both",
                prompts=prompts,
                num_digits=1,
                timeout=int(config.get("timeout", 5)),
                hints="yes, no" if mode != "dtmf" else None,
                language=config.get("language") or run.flow.language,
            )
        )
        return Wait("input")

    @classmethod
    def confirmed(cls, run: Run, node: Node, event: Event) -> Result:
        value = run.scratch.get("value", "")
        answer = " ".join(_PUNCTUATION.split((event.digits or event.speech).lower())).strip()
        if answer.split(" ")[0] in YES or answer in ("that's right", "that is right"):
            return cls.accept(run, node, value)
        return cls.retry(run, node, "rejected" if answer else "no_input", answer)

    # --- text conversations ----------------------------------------------------------------
    @classmethod
    def text_reply(cls, config: Config, text: str) -> Event:
        """Keys where the node takes keys; words (and anything but keys) are its speech,
        which a keys-only node refuses as not valid. A read-back's YES is words too."""
        digits = text_digits(text)
        if digits and config.get("input", "dtmf") != "speech":
            return Event(kind="input", digits=digits)
        return Event(kind="input", speech=text, confidence=1.0)

    @staticmethod
    def _say(run: Run, config: Config, text: str) -> Say:
        return Say(
            text, config.get("language") or run.flow.language, config.get("voice") or run.flow.voice
        )


def _bounds(config: Config) -> tuple[int, int]:
    return int(config.get("min_digits", 1)), int(config.get("max_digits", 20))


def read_value(config: Config, event: Event) -> tuple[str | None, str, str, str]:
    """(the value, or None when there is none or it is not valid; what the caller
    entered, as the step's input; the keys; the words)."""
    mode = config.get("input", "dtmf")
    raw_keys = event.digits.strip() if mode != "speech" else ""
    words = " ".join(event.speech.split()) if mode != "dtmf" or not raw_keys else ""
    if raw_keys:
        heard = raw_keys[:MAX_VALUE]
        if len(raw_keys) > MAX_VALUE + 1 or only_digits(raw_keys, MAX_VALUE + 1) != raw_keys:
            return None, heard, only_digits(raw_keys), ""  # letters or symbols are no keys
        keys, key = raw_keys, config.get("finish_on_key", "#")
        if key and keys.endswith(key):
            keys = keys[: -len(key)]
        low, high = _bounds(config)
        if config.get("pattern"):
            valid = _matches(config, keys)
        else:  # without a pattern, * and # are no part of a number
            valid = _DIGITS.fullmatch(keys) is not None
        valid = valid and low <= len(keys) <= high
        return (keys if valid else None), heard, keys, ""
    if not words:
        return None, "", "", ""
    heard = words[:MAX_VALUE]
    if mode == "dtmf" or len(words) > MAX_VALUE:
        return None, heard, "", heard  # words where keys were asked for, or far too long
    value = words
    if _SPOKEN_DIGITS.match(words.rstrip(".?!")):
        value = "".join(ch for ch in words if ch.isdigit())
        low, high = _bounds(config)
        if not low <= len(value) <= high:
            return None, heard, "", words
    return (value if _matches(config, value) else None), heard, "", words


def _matches(config: Config, value: str) -> bool:
    pattern = config.get("pattern")
    if not pattern:
        return True
    return len(value) <= MAX_VALUE and compile_pattern(pattern).fullmatch(value) is not None


def read_keys(value: str) -> str:
    """Keys read back one by one, without SSML: "1 2 3 4", "1 2 star"."""
    return " ".join(_SPOKEN_KEYS.get(ch, ch) for ch in value)
