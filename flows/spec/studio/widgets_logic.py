"""Tools and flow control: Set Variables, Make HTTP Request, Run Function, Run Subflow."""

from __future__ import annotations

from typing import Any

from .common import FORM, form_body, is_url, placeholder
from .converter import _SLUG_CHARS, _VAR_NAME, _Converter, _node_id, _To, _Widget

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def set_variables(c: _Converter, w: _Widget) -> None:
    values: dict[str, str] = {}
    for item in w.items("variables"):
        key = str(item.get("key") or "")
        if not key:
            continue
        if not _VAR_NAME.match(key):
            c.note(
                w, f"the variable {key!r} is not a valid callflow variable name and was left out."
            )
            continue
        values[key] = c.template(w, item.get("value"))
    if not values:
        c.skip_to(w, w.next.get("next"), "it sets no variable")
        return
    c.add(w, "set", {"vars": dict(list(values.items())[:50])}, {"next": c.to(w, "next")})


def http_request(c: _Converter, w: _Widget) -> None:
    url = c.template(w, w.text("url").strip())
    if not is_url(url):
        placeholder(
            c, w, f"{url!r} is not an http(s) URL: replace this placeholder with an http node"
        )
        return
    method = w.text("method", "GET").upper()
    config: dict[str, Any] = {"url": url, "method": method if method in _METHODS else "GET"}
    parameters = w.items("parameters")
    content_type = w.text("content_type").lower()
    if parameters and config["method"] == "GET":
        query = "&".join(
            f"{p['key']}={c.template(w, p.get('value'))}" for p in parameters if p.get("key")
        )
        config["url"] = f"{url}{'&' if '?' in url else '?'}{query}"
    elif parameters:
        config["body"] = form_body(c, w, parameters)
        config["headers"] = dict(FORM)
    elif w.text("body"):
        config["body"] = c.template(w, w.text("body"))
        config["headers"] = {"Content-Type": w.text("content_type") or "application/json"}
    if w.props.get("add_twilio_auth") in (True, "true"):
        c.note(
            w,
            "the request is not signed with Twilio credentials (`add_twilio_auth`): add an Authorization header if the service needs one.",
        )
    if content_type.startswith("application/json") and parameters:
        c.note(w, "its parameters are sent form-encoded.")
    c.note(
        w,
        f"waits at most 5 seconds for an answer (Studio waits 10); the answer is in "
        f"nodes.{c.ids[w.name]}.response and its status in nodes.{c.ids[w.name]}.status.",
    )
    c.add(w, "http", config, {"success": c.to(w, "success"), "failure": c.to(w, "failed", "fail")})


def run_function(c: _Converter, w: _Widget) -> None:
    url = w.text("url").strip()
    if not is_url(url):
        placeholder(
            c,
            w,
            "it names no Function URL: replace this placeholder with an http node calling "
            "your function's URL",
        )
        return
    config: dict[str, Any] = {"url": c.template(w, url), "method": "POST", "timeout": 5}
    parameters = w.items("parameters")
    if parameters:
        config["body"] = form_body(c, w, parameters)
    config["headers"] = dict(FORM)
    c.note(
        w,
        f"became an http node POSTing to the Function at {url} with its parameters: the "
        "Function must be public (Studio calls it signed; make it public or check a shared "
        f"secret), and answer within 5 seconds. What it returns is in nodes.{c.ids[w.name]}.response.",
    )
    c.add(w, "http", config, {"success": c.to(w, "success"), "failure": c.to(w, "fail", "failed")})


def run_subflow(c: _Converter, w: _Widget) -> None:
    sid = _SLUG_CHARS.sub("-", w.text("flow_sid").lower()).strip("-")
    if not sid:
        placeholder(c, w, "it names no flow: replace this placeholder with a subflow node")
        return
    slug = f"studio-{sid}"[:64].strip("-")
    parameters: dict[str, str] = {}
    for item in w.items("parameters"):
        key = str(item.get("key") or "")
        if _VAR_NAME.match(key):
            parameters[key] = c.template(w, item.get("value"))
        elif key:
            c.note(w, f"the parameter {key!r} is not a valid variable name and was left out.")
    note = (
        f"calls Studio flow {w.text('flow_sid')}: it became a sub-flow to {slug!r}. Import that "
        f"flow with the slug {slug!r} (or change the node), and publish it first."
    )
    if parameters:
        note += f" Its parameters are set as vars ({', '.join(parameters)}), which the sub-flow reads as flow.data."
    if w.next.get("failed") and w.next.get("failed") != w.next.get("completed"):
        note += f" Its failed path (to {w.next['failed']!r}) was not converted: a failing sub-flow runs the fallback."
    c.note(w, note)
    subflow_exits = {"return": c.to(w, "completed")}
    if not parameters:
        c.add(w, "subflow", {"flow": slug}, subflow_exits)
        return
    params_id = _node_id(f"{c.ids[w.name]}_parameters", c.taken)
    c.add(
        w,
        "set",
        {"vars": dict(list(parameters.items())[:50])},
        {"next": _To(None)},
        node_id=params_id,
    )
    setter = c.nodes[-1]
    setter["exits"]["next"] = c.add(w, "subflow", {"flow": slug}, subflow_exits, entry=False)
