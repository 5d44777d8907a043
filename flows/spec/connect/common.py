"""What the action converters share: numbers and names read from an export, and the
branch node that tests a value against Connect conditions."""

from __future__ import annotations

import re
from typing import Any

from .converter import Converter, To
from .export import Action, last_segment, object_at, unique_name

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
KEY = re.compile(r"^[0-9*#]$")
QUEUE_CHARS = re.compile(r"[^A-Za-z0-9_ -]+")
#: Compare operators -> branch operators
OPERATORS = {
    "Equals": "eq",
    "TextStartsWith": "starts_with",
    "TextEndsWith": "matches",
    "TextContains": "contains",
    "NumberGreaterThan": "gt",
    "NumberGreaterOrEqualTo": "gte",
    "NumberLessThan": "lt",
    "NumberLessOrEqualTo": "lte",
}
#: an address no request reaches, for the URLs an import cannot know
UNKNOWN_HOST = "invalid"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def bounded(value: Any, default: int, lowest: int, highest: int) -> int:
    """A Connect number (usually a string) within callflow's limits."""
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        number = default
    return min(max(number, lowest), highest)


def resource_name(c: Converter, a: Action, parameter: str) -> str:
    """What a referenced resource is called: the designer's display name kept in the
    export's metadata, else the end of its ARN."""
    meta = object_at(c.metadata, a.id)
    shown = object_at(meta, "parameters").get(parameter)
    if (
        isinstance(shown, dict)
        and isinstance(shown.get("displayName"), str)
        and shown["displayName"].strip()
    ):
        return shown["displayName"].strip()
    for value in meta.values():
        if isinstance(value, dict) and isinstance(value.get("text"), str) and value["text"].strip():
            return value["text"].strip()
    raw = a.params.get(parameter)
    return last_segment(raw) if isinstance(raw, str) else ""


def rules_node(
    c: Converter, a: Action, var: str, otherwise: str | None, *, node_id: str | None = None
) -> bool:
    rules: list[dict[str, Any]] = []
    exits: dict[str, To] = {}
    names: set[str] = set()
    for condition in a.conditions:
        op = OPERATORS.get(condition.operator)
        if op is None or len(condition.operands) != 1:
            c.note(
                a,
                f"a condition {condition.operator or 'without an operator'} (to {condition.target!r}) was not converted.",
            )
            continue
        value = condition.operands[0]
        exit_name = unique_name(f"{op} {value}", names, limit=28, prefix="if")
        if condition.operator == "TextEndsWith":
            value = "(?i)" + re.escape(value) + "$"
        rules.append({"exit": exit_name, "var": var, "op": op, "value": value})
        exits[exit_name] = To(condition.target)
    if not rules:
        return False
    exits["else"] = To(otherwise)
    c.add(a, "branch", {"rules": rules}, exits, node_id=node_id, entry=node_id is None)
    return True
