"""The pure interpreter of callflow/1 definitions.

    advance(definitions, state, event, now, call) -> Outcome(state, commands, steps,
                                                             effects, request)

No ORM, no network, no Twilio: the runtime service (`ivr_runtime.voice.services`) loads and
saves the state, fulfils `request` (an HTTP call, a directory lookup, an agent
reservation, a subflow's definition) and calls `advance` again with an `effect` event,
applies `effects` (SMS, callbacks, recordings, agent releases) in the transaction that
saves the steps, and hands `commands` to the TwiML renderer.

Each node type's behaviour lives in its own module (`flows.nodes.<type>`), as the methods
`flows.nodes.base.NodeType` declares (`enter`, `resume`, `on_hangup`); the engine follows
exits, opens and closes step records, runs subflows, and turns every failure (an
unconnected exit, a template error, a node that raises) into the flow's fallback, so that
a caller never hears an application error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flows import nodes as node_types
from flows.nodes.base import NodeType
from flows.nodes.runtime import (
    CallInfo,
    Command,
    Effect,
    End,
    EnterFlow,
    Event,
    Hangup,
    Need,
    Next,
    NodeFailure,
    Request,
    Result,
    Run,
    Say,
    SendSms,
    Wait,
)
from flows.nodes.templating import TemplateFailure, turn_allowance
from ivr_runtime.engine.state import Definition, Frame, State, StepRecord, index_definition

__all__ = [
    "Definition",
    "Frame",
    "Outcome",
    "State",
    "StepRecord",
    "advance",
    "index_definition",
    "GOODBYE",
    "SORRY",
]

#: node visits in one webhook without waiting for the caller: beyond it the flow is looping
MAX_VISITS = 100
#: failures in one call after which the call is ended politely instead of running the fallback
MAX_FALLBACKS = 2
#: subflows within subflows
MAX_DEPTH = 8

SORRY = "Sorry, something went wrong on our side."
GOODBYE = "Please try again later. Goodbye."


@dataclass
class Outcome:
    state: State
    commands: list[Command]
    steps: list[StepRecord]
    effects: list[Effect]
    request: Request | None = None
    errors: list[str] = field(default_factory=list)
    #: when the call waits: the waiting node's own commands (re-rendered for stale requests)
    wait_commands: list[Command] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.state.ended


class _Failure(Exception):
    pass


def advance(
    *,
    definitions: Mapping[str, Definition],
    state: State,
    event: Event,
    now: datetime,
    call: CallInfo,
) -> Outcome:
    """Run the call from `state` given `event` until it waits, ends or needs a request."""
    engine = _Engine(dict(definitions), state.clone(), now, call)
    with turn_allowance():  # all the templates of the turn share one bound of wall time
        engine.run(event)
    return engine.outcome()


class _Engine:
    def __init__(
        self, definitions: dict[str, Definition], state: State, now: datetime, call: CallInfo
    ):
        self.definitions = definitions
        self.state = state
        self.now = now
        self.call = call
        self.commands: list[Command] = []
        self.effects: list[Effect] = []
        self.steps: dict[int, StepRecord] = {}
        self.request: Request | None = None
        self.errors: list[str] = []
        self.mark = 0
        self.effects_mark = 0
        self.wait_from = 0

    def outcome(self) -> Outcome:
        return Outcome(
            state=self.state,
            commands=self.commands,
            steps=sorted(self.steps.values(), key=lambda s: s.index),
            effects=self.effects,
            request=self.request,
            errors=self.errors,
            wait_commands=self.commands[self.wait_from :] if self.state.waiting else [],
        )

    # --- the main loop ----------------------------------------------------------------
    def run(self, event: Event) -> None:
        action: Callable[[], None] = lambda: self._dispatch(event)  # noqa: E731
        while True:
            try:
                action()
                return
            except Exception as exc:  # every failure becomes the fallback, never an error
                reason = _describe(exc)
                self.errors.append(reason)
                self._fail_open_step(reason)
                del self.commands[self.mark :]
                del self.effects[self.effects_mark :]
                if self.state.fallbacks >= MAX_FALLBACKS:
                    self._goodbye()
                    return
                action = self._fallback

    def _dispatch(self, event: Event) -> None:
        st = self.state
        if event.kind == "start":
            self._start(self._definition(st.root).start)
            return
        if st.ended:
            return
        if event.kind == "failure":
            raise _Failure(event.result or "the runtime failed")
        if event.kind == "hangup":
            self._hung_up()
            return
        node = self._current()
        node_type = self._type(node)
        st.waiting = None
        st.pending = False
        self.mark, self.effects_mark = len(self.commands), len(self.effects)
        self._follow(node, node_type.resume(self._run(), node, event))

    def _follow(self, node: dict[str, Any], result: Result) -> None:
        st = self.state
        for _ in range(MAX_VISITS):
            if isinstance(result, Next):
                self._close_step(node, exit=result.exit, input=result.input)
                target = self._target(node, result.exit)
                if target is None:
                    if not st.stack:
                        raise _Failure(
                            f"exit {result.exit!r} of node {node['id']!r} is not connected"
                        )
                    node, result = self._return_from_subflow()
                    continue
                node, entered = self._enter(target)
                if entered is None:
                    return
                result = entered
                continue
            if isinstance(result, Wait):
                self.wait_from = self.mark
                st.waiting = result.kind
                st.seq += 1
                return
            if isinstance(result, Need):
                st.pending = True
                self.request = result.request
                return
            if isinstance(result, End):
                self._close_step(node, exit=None, input=None, hung_up=result.hung_up)
                st.ended = True
                return
            if isinstance(result, EnterFlow):
                if len(st.stack) >= MAX_DEPTH:
                    raise _Failure(f"subflows nested deeper than {MAX_DEPTH}")
                st.stack.append(Frame(key=st.flow, node=node["id"], step=st.open_step))
                st.flow = result.key
                node, entered = self._enter(self._definition(result.key).start)
                if entered is None:
                    return
                result = entered
                continue
            raise _Failure(f"node {node['id']!r} returned {result!r}")
        raise _Failure(f"more than {MAX_VISITS} nodes without waiting for the caller")

    def _start(self, node_id: str) -> None:
        node, result = self._enter(node_id)
        if result is not None:
            self._follow(node, result)

    def _enter(self, node_id: str) -> tuple[dict[str, Any], Result | None]:
        st = self.state
        node = self._definition(st.flow).nodes.get(node_id)
        if node is None:
            raise _Failure(f"node {node_id!r} does not exist in {st.flow}")
        node_type = self._type(node)
        st.node = node_id
        st.scratch = {}
        st.attempts.pop(node_id, None)
        st.step += 1
        st.open_step = st.step
        self.steps[st.step] = StepRecord(
            index=st.step, flow=st.flow, node=node_id, node_type=node["type"], at=self.now
        )
        self.mark, self.effects_mark = len(self.commands), len(self.effects)
        result = node_type.enter(self._run(), node)
        if isinstance(result, Next | EnterFlow | Wait | Need | End):
            if not isinstance(result, Next | EnterFlow):
                self._follow(node, result)
                return node, None
            return node, result
        raise _Failure(f"node {node_id!r} returned {result!r}")

    def _return_from_subflow(self) -> tuple[dict[str, Any], Result]:
        st = self.state
        frame = st.stack.pop()
        st.flow = frame.key
        node = self._definition(frame.key).nodes[frame.node]
        st.node = node["id"]
        st.scratch = {}
        # The subflow node's step stayed open while the subflow ran: `return` closes it.
        st.open_step = frame.step
        return node, Next("return")

    # --- failures -------------------------------------------------------------------------
    def _fallback(self) -> None:
        st = self.state
        st.fallbacks += 1
        root = self._definition(st.root)
        if not self._apologised():
            self.commands.append(
                Say(SORRY, language=root.settings.language, voice=root.settings.voice)
            )
        if root.fallback_sms and not st.fallback_sms_sent and self.call.caller:
            st.fallback_sms_sent = True
            try:
                body = self._run().render(root.fallback_sms)
            except TemplateFailure:
                body = root.fallback_sms
            self.effects.append(SendSms(to=self.call.caller, body=body, node=None))
        st.stack.clear()
        st.flow = st.root
        st.waiting = None
        st.pending = False
        self.request = None
        self.mark, self.effects_mark = len(self.commands), len(self.effects)
        if root.fallback_node and root.fallback_node in root.nodes:
            self._start(root.fallback_node)
            return
        self._goodbye(sorry=False)

    def _goodbye(self, sorry: bool = True) -> None:
        st = self.state
        root = self.definitions.get(st.root)
        language = root.settings.language if root else None
        voice = root.settings.voice if root else None
        if sorry and not self._apologised():
            self.commands.append(Say(SORRY, language=language, voice=voice))
        self.commands.append(Say(GOODBYE, language=language, voice=voice))
        self.commands.append(Hangup())
        st.ended = True
        st.waiting = None
        st.pending = False
        self.request = None

    def _apologised(self) -> bool:
        return any(isinstance(c, Say) and c.text == SORRY for c in self.commands)

    def _fail_open_step(self, reason: str) -> None:
        st = self.state
        record = self.steps.get(st.open_step)
        if record is not None and not record.closed:
            self.steps[record.index] = _replace(record, closed=True, error=reason[:500])
        elif record is None and st.node is not None and not st.ended and st.open_step:
            self.steps[st.open_step] = StepRecord(
                index=st.open_step,
                flow=st.flow,
                node=st.node,
                node_type="",
                at=self.now,
                closed=True,
                error=reason[:500],
            )

    def _hung_up(self) -> None:
        st = self.state
        if st.node is not None:
            node = self._definition(st.flow).nodes.get(st.node)
            if node is not None:
                self._type(node).on_hangup(self._run(), node)
                self.steps[st.open_step] = StepRecord(
                    index=st.open_step,
                    flow=st.flow,
                    node=node["id"],
                    node_type=node["type"],
                    at=self.now,
                    closed=True,
                    hung_up=True,
                )
        st.ended = True
        st.waiting = None
        st.pending = False

    # --- helpers ----------------------------------------------------------------------------
    def _run(self) -> Run:
        st = self.state
        return Run(
            call=self.call,
            now=self.now,
            flow=self._definition(st.flow).settings,
            seq=st.seq,
            vars=st.vars,
            nodes=st.nodes,
            customer=st.customer,
            scratch=st.scratch,
            attempts=st.attempts,
            commands=self.commands,
            effects=self.effects,
            on_identify=self._identify,
        )

    def _identify(self, customer: dict[str, Any] | None) -> None:
        self.state.customer = customer

    def _definition(self, key: str) -> Definition:
        definition = self.definitions.get(key)
        if definition is None:
            raise _Failure(f"flow definition {key!r} is not loaded")
        return definition

    def _current(self) -> dict[str, Any]:
        st = self.state
        node = self._definition(st.flow).nodes.get(st.node or "")
        if node is None:
            raise _Failure(f"the call is at no known node ({st.node!r})")
        return node

    @staticmethod
    def _type(node: dict[str, Any]) -> type[NodeType]:
        node_type = node_types.get(str(node.get("type")))
        if node_type is None:
            raise _Failure(f"node {node.get('id')!r} has an unknown type {node.get('type')!r}")
        return node_type

    def _target(self, node: dict[str, Any], exit_name: str) -> str | None:
        exits = node["exits"]
        target = exits.get(exit_name)
        if target is None:
            default = self._type(node).exit_defaults.get(exit_name)
            if default is not None:
                target = exits.get(default)
        return target if isinstance(target, str) else None

    def _close_step(
        self, node: dict[str, Any], *, exit: str | None, input: str | None, hung_up: bool = False
    ) -> None:
        index = self.state.open_step
        record = self.steps.get(index) or StepRecord(
            index=index, flow=self.state.flow, node=node["id"], node_type=node["type"], at=self.now
        )
        self.steps[index] = _replace(
            record, exit=exit, input=_clip(input), closed=True, hung_up=hung_up
        )


def _replace(record: StepRecord, **changes: Any) -> StepRecord:
    return replace(record, **changes)


def _clip(value: str | None, limit: int = 500) -> str | None:
    return None if value is None else value[:limit]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _Failure | NodeFailure | TemplateFailure):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
