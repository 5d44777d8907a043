"""Walking the actions of a checked Connect export: node ids, labels and positions,
exits resolved once every action is converted, references as templates, notes. The
action types themselves are converted in `participant.py` and `actions.py`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..conversion import ConversionNote, Kind, sentence
from .export import Action, object_at, unique_name

#: Connect flows carry no language; Amazon Polly's default voices speak US English
DEFAULT_LANGUAGE = "en-US"

_OPAQUE = re.compile(r"^[0-9A-Fa-f-]{16,}$")
_REFERENCE = re.compile(r"\$\.[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FIXED_REFERENCES = {
    "$.CustomerEndpoint.Address": "caller.number",
    "$.SystemEndpoint.Address": "call.to",
}
#: the block each action type is in the Connect flow designer (the nodes' labels)
BLOCKS = {
    "MessageParticipant": "Play prompt",
    "MessageParticipantIteratively": "Loop prompts",
    "GetParticipantInput": "Get customer input",
    "ConnectParticipantWithLexBot": "Get customer input (Lex)",
    "CheckHoursOfOperation": "Check hours of operation",
    "UpdateContactTargetQueue": "Set working queue",
    "TransferContactToQueue": "Transfer to queue",
    "TransferParticipantToThirdParty": "Transfer to phone number",
    "InvokeLambdaFunction": "Invoke AWS Lambda function",
    "UpdateContactAttributes": "Set contact attributes",
    "UpdateFlowAttributes": "Set flow attributes",
    "UpdateContactData": "Set contact data",
    "Compare": "Check contact attributes",
    "InvokeFlowModule": "Invoke module",
    "CreateCallbackContact": "Transfer to queue (callback)",
    "DisconnectParticipant": "Disconnect",
    "EndFlowExecution": "End flow",
    "EndFlowModuleExecution": "Return from module",
    "TransferToFlow": "Transfer to flow",
    "UpdateContactRecordingBehavior": "Set recording behavior",
    "UpdateFlowLoggingBehavior": "Set logging behavior",
    "UpdateContactTextToSpeechVoice": "Set voice",
}


@dataclass(frozen=True)
class ConnectConversion:
    definition: dict[str, Any]
    #: one note per thing that was not (or not exactly) converted
    notes: list[str] = field(default_factory=list)
    #: node id -> (the action's identifier, its type)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)


# --- conversion ---------------------------------------------------------------------------

#: where a module returns to the flow that invoked it (an exit left unconnected)
RETURN = "\x00return"


@dataclass(frozen=True)
class To:
    """An exit leading to an action, resolved to a node id once every action is converted.
    With no action, the call ends (as in Connect), unless `end` is false (left unconnected)."""

    action: str | None
    end: bool = True


class Converter:
    def __init__(
        self,
        actions: list[Action],
        metadata: dict[str, Any],
        converters: dict[str, Callable[[Converter, Action], None]],
    ):
        self.actions = {a.id: a for a in actions}
        self.order = actions
        self.metadata = object_at(metadata, "ActionMetadata")
        self.converters = converters
        self.taken: set[str] = set()
        self.ids = {a.id: self._node_id(a) for a in actions}
        self.entry: dict[str, str] = {}
        self.sources: dict[str, tuple[str, str]] = {}
        #: how many nodes each action has placed on the canvas
        self.placed: Counter[str] = Counter()
        #: action -> the action a transition into it continues to (steps with no node)
        self.passthrough: dict[str, str | None] = {}
        self.nodes: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.voice: str | None = None
        #: Set working queue action -> the queue it sets
        self.queues: dict[str, str] = {}
        self.module = any(a.type == "EndFlowModuleExecution" for a in actions)
        self.end_id: str | None = None
        stored = [
            a
            for a in actions
            if a.type == "GetParticipantInput" and is_true(a.params.get("StoreInput"))
        ]
        lambdas = [a for a in actions if a.type == "InvokeLambdaFunction"]
        #: `$.StoredCustomerInput` and `$.External` read the one node, or a variable all set
        self.stored_input = self.ids[stored[0].id] if len(stored) == 1 else None
        self.external = self.ids[lambdas[0].id] if len(lambdas) == 1 else None
        errors = Counter(
            a.errors.get("NoMatchingError") for a in actions if a.errors.get("NoMatchingError")
        )
        common = errors.most_common(1)
        #: the action most error branches lead to becomes the flow's fallback
        self.fallback_action = common[0][0] if common and common[0][1] >= 2 else None

    def _node_id(self, action: Action) -> str:
        friendly = not _OPAQUE.match(action.id)
        return unique_name(
            action.id if friendly else BLOCKS.get(action.type, action.type), self.taken
        )

    def label(self, action: Action) -> str:
        block = BLOCKS.get(action.type, action.type)
        return (action.id if not _OPAQUE.match(action.id) else block)[:200]

    def run(self, start: str) -> str:
        for action in self.order:
            self.converters.get(action.type, self.converters["*"])(self, action)
        self.resolve()
        return self.node_for(To(start))  # type: ignore[return-value]

    # --- building nodes -------------------------------------------------------------------

    def add(
        self,
        action: Action,
        type_: str,
        config: dict[str, Any],
        exits: dict[str, To],
        *,
        node_id: str | None = None,
        entry: bool = True,
    ) -> str:
        node_id = node_id or self.ids[action.id]
        node: dict[str, Any] = {"id": node_id, "type": type_, "label": self.label(action)}
        node["config"], node["exits"] = config, exits
        position = self.position(action)
        if position is not None:
            # an action that became several nodes: the next ones to the right, not on top
            shift = self.placed[action.id]
            node["position"] = {"x": position["x"] + 240 * shift, "y": position["y"]}
            self.placed[action.id] += 1
        self.nodes.append(node)
        self.sources[node_id] = (action.id, action.type)
        if entry:
            self.entry[action.id] = node_id
            self.note_lost_branches(action, exits)
        return node_id

    def position(self, action: Action) -> dict[str, float] | None:
        meta = object_at(self.metadata, action.id)
        found = meta.get("position") or meta.get("Position")
        if isinstance(found, dict) and all(
            isinstance(found.get(k), int | float) and not isinstance(found.get(k), bool)
            for k in "xy"
        ):
            return {"x": found["x"], "y": found["y"]}
        return None

    def note(
        self, action: Action, what: str, kind: Kind = "approximated", *, node: bool = True
    ) -> None:
        node_id = self.ids[action.id] if node else None
        where = f"{action.where()}, node {node_id!r}" if node_id else action.where()
        self.notes.append(
            ConversionNote(
                f"{where}: {what}",
                kind=kind,
                node=node_id,
                source=action.id,
                source_type=action.type,
                message=sentence(what),
            )
        )

    def drop(self, action: Action, why: str, *, to: str | None = None) -> None:
        """A step with no effect here: calls go on to its next action."""
        self.passthrough[action.id] = action.next if to is None else to
        self.note(
            action, f"was left out: {why}; calls go on to the next action.", "dropped", node=False
        )

    def placeholder(self, action: Action, why: str) -> None:
        """A marked node that keeps the action, its settings and its branches."""
        exits: dict[str, To] = {}
        names: set[str] = set()
        if action.next:
            exits[unique_name("next", names)] = To(action.next, end=False)
        for c in action.conditions:
            label = f"{c.operator} {' '.join(c.operands)}" if c.operands else c.operator
            exits[unique_name(label, names, limit=28, prefix="if")] = To(c.target, end=False)
        for error_type, target in action.errors.items():
            exits[unique_name(error_type, names, limit=28, prefix="on")] = To(target, end=False)
        note = f"{why} Replace this node with one that does the work, or reconnect its exits."
        config = {
            "source": "connect",
            "source_type": action.type[:100],
            "source_name": action.id[:200],
            "note": note[:2000],
            "exit_names": list(exits),
            "original": action.params,
        }
        self.add(action, "placeholder", config, exits, entry=True)
        self.note(action, note, "placeholder")

    def note_lost_branches(self, action: Action, exits: dict[str, To]) -> None:
        """Branches of the action that no exit of its node carries over."""
        kept = {to.action for to in exits.values() if isinstance(to, To)}
        for error_type, target in action.errors.items():
            if target is None or target in kept:
                continue
            if error_type == "NoMatchingError" and target == self.fallback_action:
                continue  # the fallback runs whatever fails, as this branch did
            self.note(
                action,
                f"its {error_type} branch (to {target!r}) was not converted: the node has no such outcome "
                "(a failure runs the flow's fallback).",
            )

    # --- resolving exits ------------------------------------------------------------------

    def node_for(self, to: To) -> str | None:
        seen: set[str] = set()
        target = to.action
        while (
            target is not None
            and target != RETURN
            and target in self.passthrough
            and target not in seen
        ):
            seen.add(target)
            target = self.passthrough[target]
        if target == RETURN:
            return None
        if target is not None and target in self.entry:
            return self.entry[target]
        return self.end() if to.end else None

    def end(self) -> str:
        """The hang-up that unconnected branches lead to, as Connect disconnects there."""
        if self.end_id is None:
            self.end_id = unique_name("end_of_call", self.taken)
            node = {"id": self.end_id, "type": "hangup", "label": "End of call (unconnected branch)",
                    "config": {}, "exits": {}}  # fmt: skip
            placed = [n["position"] for n in self.nodes if "position" in n]
            if placed:
                # right of everything, so that it crosses nothing on the canvas
                node["position"] = {
                    "x": max(p["x"] for p in placed) + 240,
                    "y": min(p["y"] for p in placed),
                }
            self.nodes.append(node)
        return self.end_id

    def resolve(self) -> None:
        for node in list(self.nodes):
            node["exits"] = {
                name: self.node_for(to) if isinstance(to, To) else to
                for name, to in node["exits"].items()
            }

    # --- references -----------------------------------------------------------------------

    def reference(self, path: str) -> str | None:
        """The callflow session path of a Connect JSONPath reference, or None."""
        path = path.strip()
        if path in _FIXED_REFERENCES:
            return _FIXED_REFERENCES[path]
        if path == "$.StoredCustomerInput":
            return (
                f"nodes.{self.stored_input}.value"
                if self.stored_input
                else "vars.stored_customer_input"
            )
        parts = path.split(".")
        if (
            len(parts) >= 3
            and parts[1] == "Attributes"
            and len(parts) == 3
            and _VAR.match(parts[2])
        ):
            return f"vars.{parts[2]}"
        if len(parts) >= 3 and parts[1] == "External" and all(p for p in parts[2:]):
            base = f"nodes.{self.external}.response" if self.external else "vars.external"
            return ".".join([base, *parts[2:]])
        return None

    def text(self, action: Action, value: Any) -> str:
        """Connect text with `$.` references as a callflow template; a reference callflow
        does not have is kept as it is and noted."""
        kept: list[str] = []

        def replace(match: re.Match[str]) -> str:
            path = self.reference(match.group(0))
            if path is None:
                kept.append(match.group(0))
                return match.group(0)
            return "{{ " + path + " }}"

        converted = _REFERENCE.sub(replace, "" if value is None else str(value))
        if kept:
            self.note(
                action,
                f"{', '.join(sorted(set(kept)))} has no callflow equivalent and was kept as text.",
            )
        return converted


def is_true(value: Any) -> bool:
    return str(value).strip().lower() == "true"
