"""Checking an Amazon Connect flow export and walking its actions: ids, transitions,
references, notes. The action types themselves are converted in `actions.py`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..conversion import ConversionNote, Kind

#: the only version of the Amazon Connect flow language
CONNECT_VERSION = "2019-10-30"
#: Connect flows carry no language; Amazon Polly's default voices speak US English
DEFAULT_LANGUAGE = "en-US"

_ID_CHARS = re.compile(r"[^a-z0-9_]+")
_SLUG_CHARS = re.compile(r"[^a-z0-9-]+")
_OPAQUE = re.compile(r"^[0-9A-Fa-f-]{16,}$")
_REFERENCE = re.compile(r"\$\.[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
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


class ConnectExportError(ValueError):
    """The Connect export is broken: `path` says where."""

    def __init__(self, message: str, path: str = "$"):
        self.message = message
        self.path = path
        super().__init__(message)


@dataclass(frozen=True)
class ConnectConversion:
    definition: dict[str, Any]
    #: one note per thing that was not (or not exactly) converted
    notes: list[str] = field(default_factory=list)
    #: node id -> (the action's identifier, its type)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)


def is_connect_export(data: dict[str, Any]) -> bool:
    """A Connect flow (`Version`, `StartAction`, `Actions`), bare or as the
    DescribeContactFlow / DescribeContactFlowModule answer (`Content` under
    `ContactFlow` or `ContactFlowModule`). A callflow document always has `format`."""
    if "format" in data:
        return False
    if "StartAction" in data or ("Actions" in data and "Version" in data):
        return True
    return any(isinstance(data.get(k), dict) and "Content" in data[k] for k in WRAPPERS)


#: the DescribeContactFlow and DescribeContactFlowModule answers hold the flow as `Content`
WRAPPERS = ("ContactFlow", "ContactFlowModule")


# --- names ------------------------------------------------------------------------------


def slug_of(text: str, default: str = "connect-flow") -> str:
    slug = _SLUG_CHARS.sub("-", text.lower()).strip("-")[:64].strip("-")
    return slug or default


def unique_name(text: str, taken: set[str], *, limit: int = 60, prefix: str = "a") -> str:
    """An id or exit name (`^[a-z][a-z0-9_]*$`) made from `text`, not in `taken`."""
    base = _ID_CHARS.sub("_", _CAMEL.sub("_", text).lower()).strip("_")[:limit] or prefix
    if not base[0].isalpha():
        base = f"{prefix}_{base}"[:limit]
    candidate, n = base, 2
    while candidate in taken or candidate == "else":
        candidate, n = f"{base[: limit - 4]}_{n}", n + 1
    taken.add(candidate)
    return candidate


def words_of(name: str) -> str:
    """`CheckBalance` or `check_balance` -> "check balance" (what a caller might say)."""
    return re.sub(r"[\s_-]+", " ", _CAMEL.sub(" ", name)).strip().lower()


def last_segment(arn: str) -> str:
    """The name or id at the end of an ARN (`...:function:Lookup`, `.../queue/<id>`)."""
    return re.split(r"[:/]", arn.strip())[-1] if arn.strip() else ""


# --- checking the export ------------------------------------------------------------------


@dataclass
class _Condition:
    operator: str
    operands: list[str]
    target: str | None


@dataclass
class _Action:
    index: int
    id: str
    type: str
    params: dict[str, Any]
    next: str | None
    conditions: list[_Condition]
    #: ErrorType -> the action it leads to, in the export's order
    errors: dict[str, str | None]
    path: str

    def where(self) -> str:
        return f"action {self.id!r} ({self.type})"

    def error(self, *types: str) -> str | None:
        """The target of the first of `types` that has one."""
        for error_type in types:
            if self.errors.get(error_type):
                return self.errors[error_type]
        return None


def _target(value: Any, path: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConnectExportError("`NextAction` must be an action's identifier (a string).", path)
    return value


def _list(value: Any, path: str, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConnectExportError(f"`{what}` must be a list.", path)
    return value


def _checked_action(index: int, raw: Any, base: str) -> _Action:
    path = f"{base}.Actions[{index}]"
    if not isinstance(raw, dict):
        raise ConnectExportError("An action must be a JSON object.", path)
    identifier, type_ = raw.get("Identifier"), raw.get("Type")
    if not isinstance(identifier, str) or not identifier.strip():
        raise ConnectExportError("The action has no `Identifier`.", f"{path}.Identifier")
    if not isinstance(type_, str) or not type_:
        raise ConnectExportError(f"Action {identifier!r} has no `Type` (a string).", f"{path}.Type")
    params = raw.get("Parameters", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ConnectExportError(
            f"Action {identifier!r}: `Parameters` must be an object.", f"{path}.Parameters"
        )
    transitions = raw.get("Transitions") or {}
    if not isinstance(transitions, dict):
        raise ConnectExportError(
            f"Action {identifier!r}: `Transitions` must be an object.", f"{path}.Transitions"
        )
    tpath = f"{path}.Transitions"
    action = _Action(
        index,
        identifier,
        type_,
        params,
        _target(transitions.get("NextAction"), f"{tpath}.NextAction"),
        [],
        {},
        path,
    )
    for i, item in enumerate(
        _list(transitions.get("Conditions"), f"{tpath}.Conditions", "Conditions")
    ):
        cpath = f"{tpath}.Conditions[{i}]"
        condition = item.get("Condition") if isinstance(item, dict) else None
        if not isinstance(condition, dict):
            raise ConnectExportError("A condition must be {NextAction, Condition}.", cpath)
        operands = _list(condition.get("Operands"), f"{cpath}.Condition.Operands", "Operands")
        action.conditions.append(
            _Condition(
                str(condition.get("Operator") or ""),
                [str(o) for o in operands if isinstance(o, str | int | float | bool)],
                _target(item.get("NextAction"), f"{cpath}.NextAction"),
            )
        )
    for i, item in enumerate(_list(transitions.get("Errors"), f"{tpath}.Errors", "Errors")):
        epath = f"{tpath}.Errors[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("ErrorType"), str):
            raise ConnectExportError("An error branch must be {NextAction, ErrorType}.", epath)
        action.errors.setdefault(
            item["ErrorType"], _target(item.get("NextAction"), f"{epath}.NextAction")
        )
    return action


def checked_actions(data: dict[str, Any], base: str) -> tuple[list[_Action], str]:
    """The actions of an export and the identifier calls start at; ConnectExportError
    naming the JSON path of the first thing that is wrong."""
    version = data.get("Version")
    if version is not None and version != CONNECT_VERSION:
        raise ConnectExportError(
            f"Unknown flow language version {version!r} (Amazon Connect exports are {CONNECT_VERSION}).",
            f"{base}.Version",
        )
    raw = data.get("Actions")
    if not isinstance(raw, list) or not raw:
        raise ConnectExportError(
            "The Connect export has no actions: `Actions` is missing or empty.", f"{base}.Actions"
        )
    actions = [_checked_action(i, item, base) for i, item in enumerate(raw)]
    ids: dict[str, _Action] = {}
    for action in actions:
        if action.id in ids:
            raise ConnectExportError(
                f"Two actions have the identifier {action.id!r}.", f"{action.path}.Identifier"
            )
        ids[action.id] = action
    start = data.get("StartAction")
    if not isinstance(start, str) or not start:
        raise ConnectExportError(
            "The Connect export has no `StartAction`: there is nothing for calls to run.",
            f"{base}.StartAction",
        )
    if start not in ids:
        raise ConnectExportError(
            f"`StartAction` is {start!r}, which is not an action of this flow.",
            f"{base}.StartAction",
        )
    for action in actions:
        _check_targets(action, ids)
    return actions, start


def _check_targets(action: _Action, ids: dict[str, _Action]) -> None:
    tpath = f"{action.path}.Transitions"
    targets = [("NextAction", f"{tpath}.NextAction", action.next)]
    targets += [
        (f"condition {i + 1}", f"{tpath}.Conditions[{i}].NextAction", c.target)
        for i, c in enumerate(action.conditions)
    ]
    targets += [
        (error_type, f"{tpath}.Errors[{i}].NextAction", target)
        for i, (error_type, target) in enumerate(action.errors.items())
    ]
    for what, path, target in targets:
        if target is not None and target not in ids:
            raise ConnectExportError(
                f"Action {action.id!r} ({what}) leads to {target!r}, which is not an action of this flow.",
                path,
            )


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
        actions: list[_Action],
        metadata: dict[str, Any],
        converters: dict[str, Callable[[Converter, _Action], None]],
    ):
        self.actions = {a.id: a for a in actions}
        self.order = actions
        self.metadata = (
            metadata.get("ActionMetadata")
            if isinstance(metadata.get("ActionMetadata"), dict)
            else {}
        )
        self.converters = converters
        self.taken: set[str] = set()
        self.ids = {a.id: self._node_id(a) for a in actions}
        self.entry: dict[str, str] = {}
        self.sources: dict[str, tuple[str, str]] = {}
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
            if a.type == "GetParticipantInput" and _true(a.params.get("StoreInput"))
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

    def _node_id(self, action: _Action) -> str:
        friendly = not _OPAQUE.match(action.id)
        return unique_name(
            action.id if friendly else BLOCKS.get(action.type, action.type), self.taken
        )

    def label(self, action: _Action) -> str:
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
        action: _Action,
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
            node["position"] = position
        self.nodes.append(node)
        self.sources[node_id] = (action.id, action.type)
        if entry:
            self.entry[action.id] = node_id
            self.note_lost_branches(action, exits)
        return node_id

    def position(self, action: _Action) -> dict[str, float] | None:
        meta = self.metadata.get(action.id)
        found = meta.get("position") or meta.get("Position") if isinstance(meta, dict) else None
        if isinstance(found, dict) and all(
            isinstance(found.get(k), int | float) and not isinstance(found.get(k), bool)
            for k in "xy"
        ):
            return {"x": found["x"], "y": found["y"]}
        return None

    def note(
        self, action: _Action, what: str, kind: Kind = "approximated", *, node: bool = True
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
                message=what[:1].upper() + what[1:],
            )
        )

    def drop(self, action: _Action, why: str, *, to: str | None = None) -> None:
        """A step with no effect here: calls go on to its next action."""
        self.passthrough[action.id] = action.next if to is None else to
        self.note(
            action, f"was left out: {why}; calls go on to the next action.", "dropped", node=False
        )

    def placeholder(self, action: _Action, why: str) -> None:
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

    def note_lost_branches(self, action: _Action, exits: dict[str, To]) -> None:
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

    def text(self, action: _Action, value: Any) -> str:
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


def _true(value: Any) -> bool:
    return str(value).strip().lower() == "true"
