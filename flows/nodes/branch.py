from typing import Any

from . import register
from .base import Config, Node, NodeType
from .common import EXIT_NAME, obj
from .patterns import UnsafePattern, compile_pattern
from .runtime import Next, Result, Run

OPS = [
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "contains",
    "starts_with",
    "in",
    "empty",
    "not_empty",
    "matches",
]


@register
class Branch(NodeType):
    """Take the exit of the first rule that matches, else `else`.

    `var` is a session path such as `vars.tier`, `customer.segment`, `nodes.menu.digits`,
    `caller.number`. Numeric operators compare numbers when both sides are numbers.

    Example::

        {"id": "by_tier", "type": "branch",
         "config": {"rules": [{"exit": "gold", "var": "customer.tier", "op": "eq", "value": "gold"},
                              {"exit": "late", "var": "vars.hour", "op": "gte", "value": 20}]},
         "exits": {"gold": "vip_queue", "late": "closed", "else": "main_menu"}}
    """

    type = "branch"
    title = "Branch"
    color = "#c05621"
    icon = "If"
    summary = ("{#rules} rules",)
    description = "Branch on a session value."
    fixed_exits = ("else",)
    exits_from = ("rules", "exit")
    config_schema = obj(
        {
            "rules": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": obj(
                    {
                        "exit": EXIT_NAME,
                        "var": {
                            "type": "string",
                            "pattern": "^(vars|customer|caller|call|nodes)(\\.[A-Za-z0-9_]+)+$",
                        },
                        "op": {"enum": OPS},
                        "value": {},
                    },
                    required=("exit", "var", "op"),
                ),
            }
        },
        required=("rules",),
    )

    @classmethod
    def check(cls, config: Config) -> list[tuple[str, str]]:
        problems = []
        for i, rule in enumerate(config.get("rules", [])):
            if rule.get("exit") == "else":
                problems.append(
                    (
                        f"rules[{i}].exit",
                        "'else' is taken when no rule matches; name the rule's exit otherwise",
                    )
                )
            if rule.get("op") not in ("empty", "not_empty") and "value" not in rule:
                problems.append((f"rules[{i}].value", f"operator {rule.get('op')!r} needs a value"))
            written = str(rule.get("value", ""))
            if rule.get("op") == "matches" and "{{" not in written and "{%" not in written:
                try:
                    compile_pattern(written)
                except UnsafePattern as exc:
                    problems.append((f"rules[{i}].value", f"This pattern is refused: {exc}."))
        return problems

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        context = run.context()
        for rule in node["config"]["rules"]:
            value = lookup(context, rule["var"])
            written = rule.get("value")
            expected = run.render(written) if isinstance(written, str) else written
            try:
                taken = compare(rule["op"], value, expected)
            except UnsafePattern:
                if expected == written:
                    raise  # a refused pattern that slipped through: the fallback
                taken = False  # one a template made of what a caller said matches nothing
            if taken:
                return Next(rule["exit"], input=_show(value))
        return Next("else", input=_show(lookup(context, node["config"]["rules"][0]["var"])))


def lookup(context: dict[str, Any], path: str) -> Any:
    """`vars.tier` -> context["vars"]["tier"]; None when any part is missing."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif (
            isinstance(value, list) and part.isascii() and part.isdigit() and int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return None
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _show(value: Any) -> str | None:
    return None if value is None else str(value)[:100]


def _ordered(op: str, left: Any, right: Any) -> bool:
    """lt, lte, gt, gte on two numbers or two texts."""
    if op == "lt":
        return bool(left < right)
    if op == "lte":
        return bool(left <= right)
    if op == "gt":
        return bool(left > right)
    return bool(left >= right)


def compare(op: str, value: Any, expected: Any) -> bool:
    """Numbers compare as numbers when both sides are numbers, else as text."""
    if op == "empty":
        return value in (None, "", [], {})
    if op == "not_empty":
        return value not in (None, "", [], {})
    if value is None:
        return op == "ne" and expected not in (None, "")
    a, b = _number(value), _number(expected)
    numeric = a is not None and b is not None
    text, wanted = str(value), "" if expected is None else str(expected)
    if op in ("eq", "ne"):
        same = a == b if numeric else text.strip().lower() == wanted.strip().lower()
        return same if op == "eq" else not same
    if op in ("lt", "lte", "gt", "gte"):
        if numeric:
            return _ordered(op, a, b)
        return _ordered(op, text, wanted)
    if op == "contains":
        return expected in value if isinstance(value, list) else wanted.lower() in text.lower()
    if op == "starts_with":
        return text.lower().startswith(wanted.lower())
    if op == "in":
        options = expected if isinstance(expected, list) else [o.strip() for o in wanted.split(",")]
        return text.lower() in [str(o).lower() for o in options]
    if op == "matches":
        return compile_pattern(wanted).search(text[:500]) is not None
    return False
