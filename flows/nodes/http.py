from . import register
from .base import NodeType
from .common import TEMPLATE, URL, obj


@register
class Http(NodeType):
    """Call a system of record; its JSON answer is in `{{ nodes.ID.response.* }}`.

    2xx answers take `success`, everything else (error status, timeout, not JSON) `failure`.
    `timeout` is at most 5 seconds: a caller is waiting. `save_as` also copies the answer
    into `{{ vars.NAME }}`.

    Example::

        {"id": "lookup", "type": "http",
         "config": {"url": "https://crm.example.com/customers?phone={{ caller.number }}",
                    "method": "GET", "timeout": 3, "save_as": "crm"},
         "exits": {"success": "by_tier", "failure": "main_menu"}}
    """

    type = "http"
    title = "HTTP request"
    description = "Call a system of record and keep its JSON answer."
    fixed_exits = ("success", "failure")
    config_schema = obj(
        {
            "url": URL,
            "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "default": "GET"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": {"type": ["string", "object"]},
            "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 5, "default": 3},
            "save_as": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
        },
        required=("url",),
    )
