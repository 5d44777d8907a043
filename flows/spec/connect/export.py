"""Reading an Amazon Connect flow export: recognising one, checking its actions and
transitions (every problem with its JSON path), and the names made from it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: the only version of the Amazon Connect flow language
CONNECT_VERSION = "2019-10-30"

_ID_CHARS = re.compile(r"[^a-z0-9_]+")
_SLUG_CHARS = re.compile(r"[^a-z0-9-]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class ConnectExportError(ValueError):
    """The Connect export is broken: `path` says where."""

    def __init__(self, message: str, path: str = "$"):
        self.message = message
        self.path = path
        super().__init__(message)


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


def object_at(mapping: Any, key: str) -> dict[str, Any]:
    """`mapping[key]` when it is an object, else {} (an export's optional parts)."""
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, dict) else {}


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
class Condition:
    operator: str
    operands: list[str]
    target: str | None


@dataclass
class Action:
    index: int
    id: str
    type: str
    params: dict[str, Any]
    next: str | None
    conditions: list[Condition]
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


def _checked_action(index: int, raw: Any, base: str) -> Action:
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
    next_action = _target(transitions.get("NextAction"), f"{tpath}.NextAction")
    action = Action(index, identifier, type_, params, next_action, [], {}, path)
    action.conditions = _conditions(transitions, tpath)
    for i, item in enumerate(_list(transitions.get("Errors"), f"{tpath}.Errors", "Errors")):
        epath = f"{tpath}.Errors[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("ErrorType"), str):
            raise ConnectExportError("An error branch must be {NextAction, ErrorType}.", epath)
        target = _target(item.get("NextAction"), f"{epath}.NextAction")
        action.errors.setdefault(item["ErrorType"], target)
    return action


def _conditions(transitions: dict[str, Any], tpath: str) -> list[Condition]:
    found = []
    for i, item in enumerate(
        _list(transitions.get("Conditions"), f"{tpath}.Conditions", "Conditions")
    ):
        cpath = f"{tpath}.Conditions[{i}]"
        condition = item.get("Condition") if isinstance(item, dict) else None
        if not isinstance(condition, dict):
            raise ConnectExportError("A condition must be {NextAction, Condition}.", cpath)
        operands = _list(condition.get("Operands"), f"{cpath}.Condition.Operands", "Operands")
        found.append(
            Condition(
                str(condition.get("Operator") or ""),
                [str(o) for o in operands if isinstance(o, str | int | float | bool)],
                _target(item.get("NextAction"), f"{cpath}.NextAction"),
            )
        )
    return found


def checked_actions(data: dict[str, Any], base: str) -> tuple[list[Action], str]:
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
    ids: dict[str, Action] = {}
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


def _check_targets(action: Action, ids: dict[str, Action]) -> None:
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
