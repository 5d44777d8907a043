from . import register
from .base import Node, NodeType
from .common import TEMPLATE, obj
from .runtime import Next, Result, Run


@register
class Set(NodeType):
    """Set session variables from templates; later nodes read them as `{{ vars.NAME }}`.

    Example::

        {"id": "remember", "type": "set",
         "config": {"vars": {"reason": "lost card", "heard": "{{ nodes.main_menu.speech }}"}},
         "exits": {"next": "route_cards"}}
    """

    type = "set"
    title = "Set variables"
    color = "#718096"
    icon = "="
    summary = ("{vars:60|}",)
    description = "Set session variables."
    fixed_exits = ("next",)
    config_schema = obj(
        {
            "vars": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 50,
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
                "additionalProperties": TEMPLATE,
            }
        },
        required=("vars",),
    )

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        for name, template in node["config"]["vars"].items():
            run.vars[name] = run.render(template)
        return Next("next")
