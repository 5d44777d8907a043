from . import register
from .base import NodeType
from .common import obj


@register
class Subflow(NodeType):
    """Continue in another published flow; when it ends without hanging up, take `return`.

    Example::

        {"id": "identify", "type": "subflow", "config": {"flow": "shared-auth"},
         "exits": {"return": "main_menu"}}
    """

    type = "subflow"
    title = "Sub-flow"
    description = "Continue in another published flow, then come back."
    fixed_exits = ("return",)
    config_schema = obj(
        {"flow": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"}},
        required=("flow",),
    )
