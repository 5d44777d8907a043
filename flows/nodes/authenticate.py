from dataclasses import replace

from . import register
from .base import Config, Node, NodeType
from .common import TEMPLATE, obj
from .runtime import (
    Event,
    FindCustomer,
    Gather,
    Need,
    Next,
    Result,
    Run,
    Say,
    Wait,
    is_e164,
    only_digits,
)

ACCOUNT_PROMPT = "Please enter your account number, then press hash."
PIN_PROMPT = "Please enter your PIN, then press hash."
NO_MATCH = "Sorry, that does not match our records."


@register
class Authenticate(NodeType):
    """Identify the caller against the customer directory.

    `caller_id`: the caller's number belongs to a known customer. `account_pin`: the caller
    enters an account number, then a PIN. `pin`: the caller enters a PIN checked against the
    customer found by caller ID. On success the customer is in `{{ customer.* }}`.
    `max_attempts` bounds the tries in one call; the runtime also locks an account, and
    limits a calling number, after repeated failed PINs across calls.

    Example::

        {"id": "auth", "type": "authenticate",
         "config": {"method": "account_pin", "prompt": "Please enter your account number.",
                    "pin_prompt": "Now your four digit PIN.", "digits": 8, "pin_digits": 4,
                    "max_attempts": 3},
         "exits": {"success": "card_menu", "failure": "agent"}}
    """

    type = "authenticate"
    title = "Authenticate"
    color = "#2c7a7b"
    icon = "Au"
    summary = ("by {method|?}",)
    description = "Identify the caller by caller ID, account and PIN, or PIN."
    fixed_exits = ("success", "failure")

    config_schema = obj(
        {
            "method": {"enum": ["caller_id", "account_pin", "pin"]},
            "prompt": TEMPLATE,
            "pin_prompt": TEMPLATE,
            "invalid_prompt": TEMPLATE,
            "digits": {"type": "integer", "minimum": 1, "maximum": 20},
            "pin_digits": {"type": "integer", "minimum": 3, "maximum": 12},
            "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 60, "default": 8},
        },
        required=("method",),
    )

    @classmethod
    def waits(cls, config: Config) -> bool:
        return config.get("method") != "caller_id"

    # --- runtime: caller_id looks the number up; the others gather digits, then look up ----
    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        method = node["config"]["method"]
        if method == "caller_id":
            if not is_e164(run.call.caller):
                return Next("failure", input="no caller ID")
            return Need(FindCustomer(phone=run.call.caller))
        run.scratch["phase"] = "account" if method == "account_pin" else "pin"
        return cls.ask(run, node, retry=False)

    @classmethod
    def ask(cls, run: Run, node: Node, *, retry: bool) -> Result:
        config = node["config"]
        phase = run.scratch["phase"]
        first = phase == "account" or config["method"] == "pin"
        prompts = []
        if retry:
            prompts.append(
                run.speech(config, "invalid_prompt")
                or Say(NO_MATCH, config.get("language") or run.flow.language, run.flow.voice)
            )
        key, default = (
            ("prompt", ACCOUNT_PROMPT if phase == "account" else PIN_PROMPT)
            if first
            else ("pin_prompt", PIN_PROMPT)
        )
        prompts.append(run.speech(config, key) or Say(default, run.flow.language, run.flow.voice))
        length = config.get("digits") if phase == "account" else config.get("pin_digits")
        run.emit(
            Gather(
                seq=run.next_seq,
                input="dtmf",
                prompts=tuple(prompts),
                num_digits=length,
                timeout=int(config.get("timeout", 8)),
                finish_on_key="#",
            )
        )
        return Wait("input")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        config = node["config"]
        if event.kind == "effect":
            if event.result:
                run.identify(event.result)
                return Next("success", input=config["method"])
            if config["method"] == "caller_id":
                return Next("failure", input="unknown caller")
            return cls.failed(run, node)
        digits = only_digits(event.digits).replace("*", "").replace("#", "")
        if not digits:
            return cls.failed(run, node)
        if run.scratch.get("phase") == "account":
            run.scratch["account"] = digits
            run.scratch["phase"] = "pin"
            return cls.ask(run, node, retry=False)
        # The PIN travels only in this request; it is never kept in the session or the steps.
        # The runtime counts a failed check against the account and the calling number across
        # calls (docs/operations.md, "Caller authentication: lockout"); a locked account or a
        # limited number answers None like a wrong PIN, so the caller hears the same thing.
        check = FindCustomer(pin=digits, caller=run.call.caller, simulated=run.call.simulated)
        if config["method"] == "account_pin":
            return Need(replace(check, account=run.scratch.get("account")))
        if not is_e164(run.call.caller):
            return cls.failed(run, node)
        return Need(replace(check, phone=run.call.caller))

    @classmethod
    def failed(cls, run: Run, node: Node) -> Result:
        config = node["config"]
        if run.tries(node["id"], bump=True) >= int(config.get("max_attempts", 3)):
            return Next("failure", input=f"{run.tries(node['id'])} failed attempts")
        run.scratch["phase"] = "account" if config["method"] == "account_pin" else "pin"
        run.scratch.pop("account", None)
        return cls.ask(run, node, retry=True)
