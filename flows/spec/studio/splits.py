"""Split Based On: branch nodes, for every condition type Studio has.

The split's input is a session value when it is one variable (`{{widgets.menu.Digits}}` is
`nodes.menu.digits`); anything else (filters, several variables, text around them) is first
worked out by a set node into `vars.split_<id>`. Consecutive transitions with one condition
each that a branch operator tests become the rules of one branch node, in Studio's order;
a negated condition (not_equal_to aside: does_not_contain, does_not_match_any_of,
does_not_start_with) or a transition with several conditions (all must hold) becomes a
chain of branch nodes, the next transitions tested on its way out. Times and dates are
compared as text (HH:MM, YYYY-MM-DD), which orders them as long as both sides are written
that way: noted.
"""

from __future__ import annotations

import re
from typing import Any

from flows.nodes.patterns import UnsafePattern, compile_pattern

from .converter import _Converter, _exit_name, _node_id, _To, _Widget
from .gathers import split_input

#: Studio condition type -> (branch operator, negated)
OPERATORS: dict[str, tuple[str, bool]] = {
    "equal_to": ("eq", False),
    "not_equal_to": ("ne", False),
    "matches_any_of": ("in", False),
    "does_not_match_any_of": ("in", True),
    "is_blank": ("empty", False),
    "is_not_blank": ("not_empty", False),
    "regex": ("matches", False),
    "contains": ("contains", False),
    "does_not_contain": ("contains", True),
    "starts_with": ("starts_with", False),
    "does_not_start_with": ("starts_with", True),
    "less_than": ("lt", False),
    "greater_than": ("gt", False),
    "is_before_time": ("lt", False),
    "is_after_time": ("gt", False),
    "is_before_date": ("lt", False),
    "is_after_date": ("gt", False),
}
_AS_TEXT = {
    "is_before_time": "HH:MM",
    "is_after_time": "HH:MM",
    "is_before_date": "YYYY-MM-DD",
    "is_after_date": "YYYY-MM-DD",
}
_VAR = re.compile(r"^(vars|customer|caller|call|nodes)(\.[A-Za-z0-9_]+)+$")
_ONE_VALUE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_.\[\]]*)\s*\}\}$")

Rule = tuple[str, Any, bool]  # operator, value, negated


class _Chain:
    """The branch nodes of one split, created in order (the first has the widget's id)."""

    def __init__(self, c: _Converter, w: _Widget, var: str, first_id: str | None):
        self.c, self.w, self.var = c, w, var
        self.next_id = first_id

    def node_id(self) -> str:
        if self.next_id is not None:
            node_id, self.next_id = self.next_id, None
            return node_id
        return _node_id(f"{self.c.ids[self.w.name]}_test", self.c.taken)

    def branch(self, node_id: str, rules: list[dict[str, Any]], exits: dict[str, Any]) -> str:
        self.c.add(self.w, "branch", {"rules": rules}, exits, node_id=node_id, entry=False)
        return node_id

    def build(self, transitions: list[tuple[list[Rule], str | None, str]], else_to: _To) -> Any:
        """The node (or exit) that tests transitions[0:] in order, else `else_to`."""
        if not transitions:
            return else_to
        first, target, label = transitions[0]
        if len(first) == 1 and not first[0][2]:
            count = 1
            while count < len(transitions) and _simple(transitions[count][0]):
                count += 1
            node_id = self.node_id()
            rest = self.build(transitions[count:], else_to)
            rules: list[dict[str, Any]] = []
            exits: dict[str, Any] = {}
            names: set[str] = set()
            for rule_list, to, text in transitions[:count]:
                op, value, _ = rule_list[0]
                name = _exit_name(text, names)
                rules.append(self.rule(name, op, value))
                exits[name] = _To(to)
            exits["else"] = rest
            return self.branch(node_id, rules, exits)
        ids = [self.node_id() for _ in first]
        rest = self.build(transitions[1:], else_to)
        on: Any = _To(target)
        for node_id, (op, value, negated) in reversed(list(zip(ids, first, strict=True))):
            held, failed = (rest, on) if negated else (on, rest)
            on = self.branch(
                node_id, [self.rule("holds", op, value)], {"holds": held, "else": failed}
            )
        return on

    def rule(self, name: str, op: str, value: Any) -> dict[str, Any]:
        rule: dict[str, Any] = {"exit": name, "var": self.var, "op": op}
        if op not in ("empty", "not_empty"):
            rule["value"] = value
        return rule


def _simple(rules: list[Rule]) -> bool:
    return len(rules) == 1 and not rules[0][2]


def split(c: _Converter, w: _Widget) -> None:
    source = split_input(w).strip()
    var, value_node = _tested(c, w, source)
    transitions = []
    for i, (conditions, target) in enumerate(w.matches):
        rules = [_condition(c, w, condition, target) for condition in conditions]
        if not conditions or any(r is None for r in rules):
            if not conditions:
                c.note(w, f"a transition without conditions (to {target!r}) was not converted.")
            continue
        label = str(conditions[0].get("friendly_name") or conditions[0].get("type") or f"match {i}")
        transitions.append(([r for r in rules if r is not None], target, label))
    if not transitions:
        c.skip_to(
            w,
            w.next.get("noMatch"),
            "none of its conditions converts; the flow takes its noMatch path",
        )
        return
    chain = _Chain(c, w, var, None if value_node else c.ids[w.name])
    entry = chain.build(transitions, c.to(w, "noMatch"))
    if value_node is not None:
        c.add(w, "set", {"vars": {var.split(".", 1)[1]: value_node}}, {"next": entry})
    else:
        c.entry[w.name] = entry


def _tested(c: _Converter, w: _Widget, source: str) -> tuple[str, str | None]:
    """(the branch var, the template a set node works it out from, or None)."""
    template = c.template(w, source)
    found = _ONE_VALUE.match(template)
    if found and _VAR.match(found.group(1)):
        return found.group(1), None
    name = f"split_{c.ids[w.name]}"[:64]
    return f"vars.{name}", template


def _condition(
    c: _Converter, w: _Widget, condition: dict[str, Any], target: str | None
) -> Rule | None:
    kind = str(condition.get("type"))
    if kind not in OPERATORS:
        c.note(
            w,
            f"the condition {kind!r} (to {target!r}) was not converted: callflow has no such test.",
        )
        return None
    op, negated = OPERATORS[kind]
    raw = condition.get("value")
    if isinstance(raw, dict | list | bool):
        c.note(
            w,
            f"the condition {kind!r} (to {target!r}) has a value that is not text and was not converted.",
        )
        return None
    value: Any = c.template(w, "" if raw is None else str(raw))
    if op == "in" and "{" not in value:
        value = [v.strip() for v in value.split(",") if v.strip()]
    if op == "matches":
        try:
            compile_pattern(value)
        except UnsafePattern as exc:
            c.note(
                w,
                f"its regex {value!r} (to {target!r}) is not one callflow reads ({exc}) and was not converted.",
            )
            return None
    if kind in _AS_TEXT:
        c.note(
            w,
            f"{kind} {value!r} (to {target!r}) compares the value as {_AS_TEXT[kind]} text: "
            "write both that way, or use a time_of_day node.",
        )
    return op, value, negated
