from typing import Any

from . import register
from .base import Config, Node, NodeType
from .common import URL, obj
from .runtime import Event, HttpRequest, HttpResult, Need, Next, Result, Run


@register
class Http(NodeType):
    """Call a system of record; its JSON answer is in `{{ nodes.ID.response.* }}`.

    2xx answers take `success`, everything else (error status, timeout, not JSON) `failure`,
    whose step input says why ("HTTP 500", "timed out", "deadline exceeded", "blocked
    address"). `timeout` (at most 5 seconds: a caller is waiting) is the whole request's,
    redirects and a slow answer included, and every request of one webhook shares the
    webhook's deadline besides. Loopback, private, link-local and multicast addresses are
    refused unless the runtime allows their network. `save_as` also copies the answer into
    `{{ vars.NAME }}`.

    Example::

        {"id": "lookup", "type": "http",
         "config": {"url": "https://crm.example.com/customers?phone={{ caller.number }}",
                    "method": "GET", "timeout": 3, "save_as": "crm"},
         "exits": {"success": "by_tier", "failure": "main_menu"}}
    """

    type = "http"
    title = "HTTP request"
    color = "#2b6cb0"
    icon = "Ht"
    summary = ("{method|GET} {url:44|}",)
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

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        request = build_request(run, node["config"])
        if request is None:
            run.remember(node["id"], response=None, status=None)
            return Next("failure", input="not a valid URL")
        return Need(request)

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        result = event.result
        ok = bool(result is not None and result.ok)
        data = result.data if result is not None else None
        run.remember(
            node["id"], response=data if ok else None, status=result.status if result else None
        )
        save_as = node["config"].get("save_as")
        if ok and save_as:
            run.vars[save_as] = data
        return Next("success" if ok else "failure", input=_why(result))


def _why(result: HttpResult | None) -> str:
    """A step's input: the status of an answer taken, else what went wrong."""
    if result is None:
        return "no answer"
    if result.ok or not result.error:
        return str(result.status or "")
    return result.error


def _render_json(run: Run, value: Any) -> Any:
    if isinstance(value, str):
        return run.render(value)
    if isinstance(value, dict):
        return {k: _render_json(run, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_json(run, v) for v in value]
    return value


def build_request(run: Run, config: Config) -> HttpRequest | None:
    """The request of an http node (also used by self_service lookups), or None if the URL is bad."""
    url = run.render_url(config["url"]).strip()
    if not url.startswith(("http://", "https://")) or any(ch.isspace() for ch in url):
        return None
    body = config.get("body")
    return HttpRequest(
        url=url,
        method=config.get("method", "GET"),
        headers=tuple((k, run.render(v)) for k, v in (config.get("headers") or {}).items()),
        body=run.render(body) if isinstance(body, str) else None,
        json_body=_render_json(run, body) if isinstance(body, dict) else None,
        timeout=min(float(config.get("timeout", 3)), 5.0),
    )
