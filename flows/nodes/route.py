from datetime import datetime

from . import register
from .base import Config, Node, NodeType
from .common import TEMPLATE, URL, obj
from .runtime import (
    Dial,
    End,
    Enqueue,
    Event,
    Need,
    Next,
    NodeFailure,
    RecoverAbandoned,
    ReleaseAgent,
    ReserveAgent,
    Result,
    Run,
    Wait,
    WaitKind,
    is_e164,
)
from .templating import TemplateFailure

#: QueueResult values that mean the caller is no longer in the call
QUEUE_CALLER_GONE = {"hangup"}
#: the line an abandoned caller's text ends with when `on_abandon.callback` is set (the
#: replies it names are read by ivr_runtime.callbacks.recovery)
CALLBACK_OFFER = (
    "Reply 1 (or YES) and we will call you back, or 2 (or NO) if you would rather we did not."
)

E164 = {"type": "string", "pattern": "^(\\+[1-9][0-9]{6,14}|\\{\\{.+\\}\\})$"}


@register
class Route(NodeType):
    """Connect the caller to a person: a number, a SIP address, a Twilio Client, a queue or an
    agent by skills. How a dialled call ended is in `{{ nodes.ID.dial_status }}` (Twilio's
    DialCallStatus), how a queued one did in `{{ nodes.ID.queue_result }}` (QueueResult).

    `timeout` is how long a dialled person rings; `max_wait` how long a caller waits in a
    queue before `timeout`. `announce` is said to the caller before connecting.
    `hold_music` is the audio played while queued.

    `on_abandon` texts a caller who hangs up while queued or ringing: `sms` (a template),
    and with `callback` an offer to call them back, booked when they reply yes (within
    the flow's opening hours, connecting them to this node's target). A number gets it
    once per flow within `period_hours` (default 24), however often it hangs up.

    Example::

        {"id": "lost_card", "type": "route",
         "config": {"target": {"skills": ["cards", "fraud"]}, "timeout": 25,
                    "announce": "Connecting you to our card team.",
                    "on_abandon": {"sms": "Sorry we missed you, {{ customer.first_name }}.",
                                   "callback": true, "period_hours": 24}},
         "exits": {"connected": "bye", "unavailable": "offer_callback", "timeout": "offer_callback"}}
    """

    type = "route"
    title = "Route to a person"
    color = "#2f855a"
    icon = "Rt"
    summary = (
        "dial {target.number}",
        "SIP {target.sip}",
        "client {target.client}",
        "queue {target.queue}",
        "skills: {target.skills}",
        "no target",
    )
    description = "Dial a number, SIP address, queue, or an agent with the right skills."
    fixed_exits = ("connected", "unavailable", "timeout")
    waits_for_input = True
    opt_in = ("on_abandon",)
    config_schema = obj(
        {
            "target": {
                "oneOf": [
                    obj({"number": E164}, required=("number",)),
                    obj({"sip": {"type": "string", "pattern": "^sips?:.+@.+"}}, required=("sip",)),
                    obj(
                        {
                            "client": {
                                "type": "string",
                                "pattern": "^([A-Za-z0-9_.@-]{1,128}|\\{\\{.+\\}\\})$",
                            }
                        },
                        required=("client",),
                    ),
                    obj(
                        {"queue": {"type": "string", "pattern": "^[A-Za-z0-9_ -]{1,64}$"}},
                        required=("queue",),
                    ),
                    obj(
                        {
                            "skills": {
                                "type": "array",
                                "items": {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"},
                                "minItems": 1,
                                "maxItems": 20,
                                "uniqueItems": True,
                            }
                        },
                        required=("skills",),
                    ),
                ]
            },
            "timeout": {"type": "integer", "minimum": 5, "maximum": 600, "default": 30},
            "max_wait": {"type": "integer", "minimum": 10, "maximum": 7200, "default": 300},
            "announce": TEMPLATE,
            "hold_music": URL,
            "caller_id": E164,
            "on_abandon": obj(
                {
                    "sms": {
                        **TEMPLATE,
                        "title": "Text to send",
                        "description": "The text sent to a caller who hung up",
                    },
                    "callback": {
                        "type": "boolean",
                        "default": False,
                        "title": "Offer to call them back",
                        "description": "A reply of 1 or YES books a call back",
                    },
                    "period_hours": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": 720,
                        "default": 24,
                        "title": "Text a number at most once in (hours)",
                        "description": "However often it hangs up, per flow",
                    },
                },
                title="If the caller hangs up while waiting",
                description="Text a caller who hangs up while queued or ringing",
            ),
        },
        required=("target",),
    )

    # --- runtime -------------------------------------------------------------------------
    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        target = node["config"]["target"]
        if "skills" in target:
            return Need(ReserveAgent(skills=tuple(target["skills"])))
        if "queue" in target:
            return cls.enqueue(run, node, target["queue"])
        if "sip" in target:
            return cls.dial(run, node, sip=run.render(target["sip"]).strip())
        if "client" in target:
            return cls.dial(run, node, client=run.render(target["client"]).strip())
        return cls.dial(run, node, number=run.render(target["number"]).strip())

    @classmethod
    def dial(
        cls,
        run: Run,
        node: Node,
        *,
        number: str | None = None,
        sip: str | None = None,
        client: str | None = None,
    ) -> Result:
        config = node["config"]
        if number is not None and not is_e164(number):
            raise NodeFailure(f"{number!r} is not a phone number to dial")
        run.say(config, "announce")
        run.scratch["dialled_at"] = run.now.isoformat()
        caller_id = run.render(config.get("caller_id")).strip() or None
        run.emit(
            Dial(
                seq=run.next_seq,
                number=number,
                sip=sip,
                client=client,
                timeout=int(config.get("timeout", 30)),
                caller_id=caller_id,
            )
        )
        return Wait("dial")

    @classmethod
    def enqueue(cls, run: Run, node: Node, queue: str) -> Result:
        config = node["config"]
        run.say(config, "announce")
        run.scratch["queued_at"] = run.now.isoformat()
        run.emit(
            Enqueue(
                seq=run.next_seq,
                queue=queue,
                max_wait=int(config.get("max_wait", 300)),
                hold_music=run.render(config.get("hold_music")).strip() or None,
            )
        )
        return Wait("queue")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        if event.kind == "effect":
            agent = event.result
            if not agent:
                return Next("unavailable", input="no agent available")
            run.scratch["agent_id"] = agent["id"]
            run.remember(node["id"], agent=agent["name"])
            number = agent["number"]
            if number.startswith(("sip:", "sips:")):
                return cls.dial(run, node, sip=number)
            return cls.dial(run, node, number=number)
        if event.kind == "queue":
            result = event.queue_result
            run.remember(node["id"], queue_result=result or "")
            if result in QUEUE_CALLER_GONE:
                cls.abandoned(run, node)
                return End(hung_up=True)
            exit_name = {"bridged": "connected", "leave": "timeout"}.get(result, "unavailable")
            return Next(exit_name, input=result or "no result")
        cls.release(run)
        status = event.dial_status
        run.remember(node["id"], dial_status=status or "")
        if status == "completed":
            return Next("connected", input=status)
        if status == "no-answer" and cls.rang_out(run, node):
            return Next("timeout", input=status)
        return Next("unavailable", input=status or "no status")

    @classmethod
    def rang_out(cls, run: Run, node: Node) -> bool:
        """Whether the dialled party rang for the whole `timeout` (a second's leeway)."""
        started = run.scratch.get("dialled_at")
        if not started:
            return True
        elapsed = (run.now - datetime.fromisoformat(started)).total_seconds()
        return elapsed >= int(node["config"].get("timeout", 30)) - 1

    @classmethod
    def silent_seconds(cls, config: Config, waiting: WaitKind) -> int:
        """A queued caller hears the hold music, fetched without a webhook of the call,
        for up to `max_wait`."""
        return int(config.get("max_wait", 300)) if waiting == "queue" else 0

    @classmethod
    def on_hangup(cls, run: Run, node: Node) -> None:
        cls.release(run)
        cls.abandoned(run, node)

    @classmethod
    def release(cls, run: Run) -> None:
        """The agent reserved for the call is free again."""
        agent_id = run.scratch.pop("agent_id", None)
        if agent_id is not None:
            run.effect(ReleaseAgent(agent_id=agent_id))

    @classmethod
    def abandoned(cls, run: Run, node: Node) -> None:
        """The caller hung up while queued or ringing: the text `on_abandon` asks for (the
        runtime sends it at most once per number and flow within `period_hours`)."""
        recovery = node["config"].get("on_abandon")
        waited = "queued_at" in run.scratch or "dialled_at" in run.scratch
        if not recovery or not waited or run.call.channel != "voice":
            return
        if not is_e164(run.call.caller):
            return  # a withheld or unusable number cannot be texted
        try:
            text = run.render(recovery.get("sms")).strip()
        except TemplateFailure:
            text = ""  # never a half-rendered text; the offer alone still goes
        callback = bool(recovery.get("callback"))
        body = "\n".join(part for part in (text, CALLBACK_OFFER if callback else "") if part)
        if not body:
            return
        run.effect(
            RecoverAbandoned(
                to=run.call.caller,
                body=body,
                callback=callback,
                period_hours=float(recovery.get("period_hours", 24)),
                node=node["id"],
                target=dict(node["config"]["target"]),
            )
        )
