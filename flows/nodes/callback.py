import phonenumbers

from . import register
from .base import Node, NodeType
from .common import TEMPLATE, obj
from .runtime import (
    Event,
    Gather,
    Next,
    Result,
    Run,
    Say,
    ScheduleCallback,
    Wait,
    is_e164,
    only_digits,
)

CONFIRM = "We will call you back on {number}. Press 1 to confirm, or 2 to enter a different number."
ENTER_NUMBER = "Please enter the number we should call, then press hash."
BAD_NUMBER = "Sorry, that is not a number we can call."


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
    color = "#dd6b20"
    icon = "Cb"
    summary = ("within {within_hours|4} h · {prompt:30|}",)
    description = "Offer and schedule a call back."
    fixed_exits = ("scheduled", "declined")
    waits_for_input = True
    config_schema = obj(
        {
            "prompt": TEMPLATE,
            "confirm_number": {"type": "boolean", "default": True},
            "within_hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 168, "default": 4},
            "target": {
                "type": "object",
                "description": "route target for the callback (as route.target)",
            },
            "timeout": {"type": "integer", "minimum": 1, "maximum": 60, "default": 6},
        },
        required=("prompt",),
    )

    # --- runtime: offer -> (confirm the caller's number | enter one) -> scheduled ----------
    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        run.scratch["phase"] = "offer"
        return cls.ask(run, node, [run.speech(node["config"], "prompt")], num_digits=1)

    @classmethod
    def ask(
        cls, run: Run, node: Node, prompts: list[Say | None], *, num_digits: int | None
    ) -> Result:
        run.emit(
            Gather(
                seq=run.next_seq,
                input="dtmf",
                prompts=tuple(p for p in prompts if p),
                num_digits=num_digits,
                timeout=int(node["config"].get("timeout", 6)),
                finish_on_key=None if num_digits else "#",
            )
        )
        return Wait("input")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        config = node["config"]
        digits = only_digits(event.digits)
        phase = run.scratch.get("phase")
        voice = (run.flow.language, run.flow.voice)
        if phase == "offer":
            if digits != "1":
                return Next("declined", input=digits or None)
            if not is_e164(run.call.caller):
                return cls.enter_number(run, node)
            if not config.get("confirm_number", True):
                return cls.schedule(run, node, run.call.caller)
            run.scratch["phase"] = "confirm"
            spoken = " ".join(run.call.caller.lstrip("+"))
            return cls.ask(run, node, [Say(CONFIRM.format(number=spoken), *voice)], num_digits=1)
        if phase == "confirm":
            if digits == "1":
                return cls.schedule(run, node, run.call.caller)
            if digits == "2":
                return cls.enter_number(run, node)
            return Next("declined", input=digits or None)
        number = to_e164(digits.replace("#", "").replace("*", ""), run.call.caller)
        if number is not None:
            return cls.schedule(run, node, number)
        if run.tries(node["id"], bump=True) >= 2:
            return Next("declined", input="no valid number")
        return cls.ask(
            run, node, [Say(BAD_NUMBER, *voice), Say(ENTER_NUMBER, *voice)], num_digits=None
        )

    @classmethod
    def enter_number(cls, run: Run, node: Node) -> Result:
        run.scratch["phase"] = "number"
        return cls.ask(
            run, node, [Say(ENTER_NUMBER, run.flow.language, run.flow.voice)], num_digits=None
        )

    @classmethod
    def schedule(cls, run: Run, node: Node, number: str) -> Result:
        config = node["config"]
        run.effect(
            ScheduleCallback(
                number=number,
                within_hours=float(config.get("within_hours", 4)),
                node=node["id"],
                target=config.get("target"),
            )
        )
        run.remember(node["id"], number=number)
        return Next("scheduled", input=number)


def to_e164(digits: str, caller: str) -> str | None:
    """Digits keyed by the caller as an E.164 number, read in the caller's country."""
    if not digits or len(digits) > 17:
        return None
    region = None
    try:
        if is_e164(caller):
            region = phonenumbers.region_code_for_number(phonenumbers.parse(caller))
        text = "+" + digits[2:] if digits.startswith("00") else digits
        parsed = phonenumbers.parse(text, region or "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
