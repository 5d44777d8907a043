"""The vocabulary node types use to run: commands, events, effects, results and `Run`.

A node type's behaviour is class methods in its own module, declared on
`flows.nodes.base.NodeType`; the two that move a call on are:

- `enter(run, node) -> Result`: the call arrives at the node;
- `resume(run, node, event) -> Result`: the caller answered (digits, a dial ending, a
  recording...) or an effect the node asked for was fulfilled.

Both are pure: they read the session through `run`, emit provider-neutral commands
(`run.emit`), ask for side effects (`run.effect` for fire-and-forget work, `Need` for work
whose answer they need) and return where to go. The interpreter that drives them is
`ivr_runtime.engine`; nothing here touches the database, the network or Twilio.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from .templating import render_template

InputMode = Literal["dtmf", "speech", "both"]
WaitKind = Literal["input", "dial", "queue", "record", "redirect"]


# --- commands: what the caller hears and what the telephony provider does next -----------
@dataclass(frozen=True)
class Say:
    text: str
    language: str | None = None
    voice: str | None = None
    loop: int = 1


@dataclass(frozen=True)
class Play:
    url: str
    loop: int = 1


@dataclass(frozen=True)
class Pause:
    length: int = 1


@dataclass(frozen=True)
class Gather:
    """Collect key presses and/or speech; the answer (even an empty one) posts to seq."""

    seq: int
    input: InputMode = "dtmf"
    prompts: tuple[Say | Play, ...] = ()
    num_digits: int | None = None
    timeout: int = 5
    finish_on_key: str | None = None
    hints: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Dial:
    seq: int
    number: str | None = None
    sip: str | None = None
    client: str | None = None
    timeout: int = 30
    caller_id: str | None = None


@dataclass(frozen=True)
class Enqueue:
    seq: int
    queue: str
    max_wait: int
    hold_music: str | None = None


@dataclass(frozen=True)
class Record:
    seq: int
    max_length: int = 120
    finish_on_key: str = "#"
    transcribe: bool = False


@dataclass(frozen=True)
class Redirect:
    """Post to the runtime again; `replay` re-renders the current state and never advances."""

    seq: int
    replay: bool = False


@dataclass(frozen=True)
class Handover:
    """Hand the call to another TwiML application at `url`; it may send the call back to
    the return URL it is given (which answers `seq`)."""

    seq: int
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Hangup:
    pass


Command = Say | Play | Pause | Gather | Dial | Enqueue | Record | Redirect | Handover | Hangup


# --- effects: side effects the runtime service performs for the engine --------------------
@dataclass(frozen=True)
class SendSms:
    to: str
    body: str
    node: str | None
    #: how many commands the turn had emitted when the text was asked for (a text
    #: conversation replies in that order); set by `Run.effect`
    position: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ScheduleCallback:
    number: str
    within_hours: float
    node: str
    target: dict[str, Any] | None = None


@dataclass(frozen=True)
class RecoverAbandoned:
    """The caller hung up while queued or ringing at a `route` with `on_abandon`: text them
    `body` (which, with `callback`, offers to call them back on a reply of yes, the call
    back connecting `target`), unless the number was texted so for this flow within the
    last `period_hours`."""

    to: str
    body: str
    callback: bool
    period_hours: float
    node: str
    target: dict[str, Any] | None = None


@dataclass(frozen=True)
class SaveRecording:
    url: str
    sid: str
    duration: int
    node: str
    transcribe: bool = False


@dataclass(frozen=True)
class ControlRecording:
    """Start or stop recording the whole call (through the provider's REST API, after
    the turn is answered: an inbound call is only in progress once it is)."""

    action: Literal["start", "stop"]
    node: str
    channels: Literal["mono", "dual"] = "mono"


@dataclass(frozen=True)
class ExpectReturn:
    """The call was handed over at `seq`: take it back if it is not back within `seconds`."""

    seq: int
    seconds: int
    node: str


@dataclass(frozen=True)
class ReleaseAgent:
    agent_id: int


@dataclass(frozen=True)
class HttpRequest:
    """Answered with `HttpResult`. Performed outside any database transaction."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    json_body: Any = None
    timeout: float = 3.0


@dataclass(frozen=True)
class HttpResult:
    ok: bool
    status: int | None
    data: Any
    error: str = ""


@dataclass(frozen=True)
class FindCustomer:
    """Answered with the customer's public fields (dict) or None.

    By phone, by account number, or both; with `pin` the PIN must match too. The PIN is
    never stored by the engine: it only travels in this request.
    """

    phone: str | None = None
    account: str | None = None
    pin: str | None = None
    #: with `pin`: the calling number (From) and whether the call is simulated, which the
    #: runtime's PIN lockout counts failures against
    caller: str | None = None
    simulated: bool = False


@dataclass(frozen=True)
class ReserveAgent:
    """Answered with {"id", "name", "number"} of the reserved agent, or None."""

    skills: tuple[str, ...]


@dataclass(frozen=True)
class LoadFlow:
    """Answered with the key of the published version of flow `slug`, or None."""

    slug: str


Effect = (
    SendSms
    | ScheduleCallback
    | RecoverAbandoned
    | SaveRecording
    | ReleaseAgent
    | ControlRecording
    | ExpectReturn
)
Request = HttpRequest | FindCustomer | ReserveAgent | LoadFlow


# --- events: what happened since the call last waited -------------------------------------
@dataclass(frozen=True)
class Event:
    kind: Literal[
        "start", "input", "dial", "queue", "record", "redirect", "effect", "hangup", "failure"
    ]
    digits: str = ""
    speech: str = ""
    confidence: float | None = None
    dial_status: str = ""
    dial_duration: int = 0
    queue_result: str = ""
    queue_time: int = 0
    recording_url: str = ""
    recording_sid: str = ""
    recording_duration: int = 0
    result: Any = None


@dataclass(frozen=True)
class Returned:
    """How a call handed to another application came back (the `result` of a redirect
    event): sent back by it, taken back after the wait, or never reached."""

    outcome: Literal["return", "timeout", "unreachable"]
    #: the query parameters the application added to the return URL
    params: tuple[tuple[str, str], ...] = ()
    error: str = ""


# --- results: where a node goes ------------------------------------------------------------
@dataclass(frozen=True)
class Next:
    exit: str
    input: str | None = None


@dataclass(frozen=True)
class Wait:
    kind: WaitKind


@dataclass(frozen=True)
class Need:
    request: Request


@dataclass(frozen=True)
class End:
    """The call is over: a hang-up node, or the caller hung up (`hung_up`)."""

    hung_up: bool = False


@dataclass(frozen=True)
class EnterFlow:
    """Continue at the start of another flow (a subflow); come back by `return`."""

    key: str


Result = Next | Wait | Need | End | EnterFlow


class NodeFailure(Exception):
    """A node cannot go on (bad data, a template error, a missing flow): run the fallback."""


# --- the node's view of the session ---------------------------------------------------------
@dataclass(frozen=True)
class CallInfo:
    sid: str
    caller: str
    to: str
    simulated: bool = False
    #: "voice", or "sms" for a flow run as a text conversation (nodes word their asks so)
    channel: str = "voice"
    #: "outbound" on a call we placed (`caller` is then the person called)
    direction: str = "inbound"
    #: Twilio's AnsweredBy on an outbound call with answering-machine detection
    answered_by: str = ""


@dataclass(frozen=True)
class FlowSettings:
    timezone: str = "UTC"
    language: str | None = None
    voice: str | None = None


@dataclass
class Run:
    """What a node sees and does while the engine runs it."""

    call: CallInfo
    now: datetime
    flow: FlowSettings
    seq: int
    vars: dict[str, Any]
    nodes: dict[str, dict[str, Any]]
    customer: dict[str, Any] | None
    scratch: dict[str, Any]
    attempts: dict[str, int]
    commands: list[Command] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    on_identify: Callable[[dict[str, Any] | None], None] | None = None

    def identify(self, customer: dict[str, Any] | None) -> None:
        """The caller is this customer (`{{ customer.* }}` from now on)."""
        self.customer = customer
        if self.on_identify is not None:
            self.on_identify(customer)

    @property
    def next_seq(self) -> int:
        """The sequence number of the next wait: action URLs carry it."""
        return self.seq + 1

    def context(self) -> dict[str, Any]:
        return {
            "caller": {"number": self.call.caller},
            "call": {
                "sid": self.call.sid,
                "to": self.call.to,
                "from": self.call.caller,
                "direction": self.call.direction,
                "answered_by": self.call.answered_by,
            },
            "vars": self.vars,
            "customer": self.customer or {},
            "nodes": self.nodes,
        }

    def render(self, template: str | None) -> str:
        """The text of `template` (bounded and read-only: `flows.nodes.templating`)."""
        if not template:
            return ""
        return render_template(template, self.context())

    def render_url(self, template: str | None) -> str:
        """The URL of `template`: each value it substitutes is URL-encoded (a caller's
        `+44...` stays a plus), its literal text is not. A value that starts the template
        stands for the URL's base (`{{ vars.api }}/customers`) and is kept as it is."""
        if not template:
            return ""
        return render_template(template, self.context(), url=True)

    def emit(self, *commands: Command) -> None:
        self.commands.extend(commands)

    def effect(self, effect: Effect) -> None:
        if isinstance(effect, SendSms) and effect.position is None:
            effect = replace(effect, position=len(self.commands))
        self.effects.append(effect)

    def speech(self, config: dict[str, Any], text_key: str = "text") -> Say | None:
        """A Say of the rendered text in config[text_key], in the node's or flow's voice."""
        text = self.render(config.get(text_key)).strip()
        if not text:
            return None
        return Say(
            text=text,
            language=config.get("language") or self.flow.language,
            voice=config.get("voice") or self.flow.voice,
            loop=int(config.get("loop") or 1),
        )

    def say(self, config: dict[str, Any], text_key: str = "text") -> None:
        said = self.speech(config, text_key)
        if said is not None:
            self.emit(said)

    def tries(self, node_id: str, *, bump: bool = False) -> int:
        """The caller's failed attempts at this node since it was entered."""
        if bump:
            self.attempts[node_id] = self.attempts.get(node_id, 0) + 1
        return self.attempts.get(node_id, 0)

    def remember(self, node_id: str, **values: Any) -> None:
        """Keep a node's results for `{{ nodes.ID.* }}`."""
        self.nodes.setdefault(node_id, {}).update(values)


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def is_e164(value: str | None) -> bool:
    return bool(value) and bool(E164.match(value or ""))


def text_digits(text: str) -> str:
    """The keys a text message stands for: its keys when it holds nothing else (spaces and
    dashes aside: "1 2 3-4"), else none."""
    if text and all(ch in "0123456789*# -" for ch in text):
        return only_digits(text)
    return ""


def only_digits(value: str, limit: int = 32) -> str:
    """The key presses in a Digits field: 0-9, * and #, at most `limit` of them."""
    return "".join(ch for ch in value if ch in "0123456789*#")[:limit]
