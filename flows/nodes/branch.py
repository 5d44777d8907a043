from . import register
from .base import NodeType
from .common import EXIT_NAME, obj

OPS = ["eq", "ne", "lt", "lte", "gt", "gte", "contains", "starts_with", "in", "empty", "not_empty", "matches"]


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
    description = "Branch on a session value."
    fixed_exits = ("else",)
    config_schema = obj(
        {
            "rules": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": obj(
                    {
                        "exit": EXIT_NAME,
                        "var": {"type": "string", "pattern": "^(vars|customer|caller|call|nodes)(\\.[A-Za-z0-9_]+)+$"},
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
    def exits(cls, config):
        names: list[str] = []
        for rule in config.get("rules", []):
            if isinstance(rule, dict) and rule.get("exit") and rule["exit"] not in names:
                names.append(rule["exit"])
        return names + ["else"]

    @classmethod
    def check(cls, config):
        problems = []
        for i, rule in enumerate(config.get("rules", [])):
            if rule.get("exit") == "else":
                problems.append((f"rules[{i}].exit", "'else' is taken when no rule matches; name the rule's exit otherwise"))
            if rule.get("op") not in ("empty", "not_empty") and "value" not in rule:
                problems.append((f"rules[{i}].value", f"operator {rule.get('op')!r} needs a value"))
            if rule.get("op") == "matches":
                import re

                try:
                    re.compile(str(rule.get("value", "")))
                except re.error as exc:
                    problems.append((f"rules[{i}].value", f"not a valid regular expression: {exc}"))
        return problems
