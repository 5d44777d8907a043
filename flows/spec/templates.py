"""Checks of a flow's templates: what cannot be read, and what reads a value nothing sets.

Every string in a node's `config` (and the fallback's `sms`) that holds a `{` is read as a
template, as the runtime reads it:

- a template that cannot be read (`{{ caller.number` left open, `{% include %}`) is an
  error: at run time it would fail and run the fallback;
- a reference to a value no node of the flow sets is a warning on the node, with the JSON
  path of the text: `vars.X` when no `set` node sets X and no node saves into it
  (`save_as`), `nodes.ID` when ID is not a node of the flow, an unknown attribute of
  `caller` or `call`, a name templates do not know. It renders as empty text. It stays a
  warning on publish: a value can also come from outside the flow (the flow that entered
  this one as a sub-flow, the variables an outbound call starts with).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import nodes as jinja

from flows.nodes.templating import TemplateFailure, parse

from .problems import Problem

#: what every template can read (SPEC, "Texts are templates")
CONTEXT = ("caller", "call", "vars", "customer", "nodes")
#: the attributes of `caller` and `call`
FIELDS = {
    "caller": frozenset({"number"}),
    "call": frozenset({"sid", "to", "from", "direction", "answered_by"}),
}
#: names Jinja itself provides (globals, and names inside loops, macros and call blocks)
JINJA_NAMES = frozenset({"range", "dict", "cycler", "joiner", "loop", "self", "varargs", "kwargs"})

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class _Flow:
    """What the flow sets: variables and node ids."""

    variables: set[str] = field(default_factory=set)
    node_ids: set[str] = field(default_factory=set)


def check_templates(definition: dict[str, Any], nodes: list[Any]) -> list[Problem]:
    """The problems of the templates in `nodes` (the definition's node list) and its fallback."""
    flow = _what_the_flow_sets(nodes)
    checked: dict[str, list[tuple[str, str]]] = {}
    problems: list[Problem] = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            continue
        node_id = node.get("id") if isinstance(node.get("id"), str) else None
        config = node.get("config")
        if node.get("type") == "placeholder" and isinstance(config, dict):
            # an imported step's settings are the other system's, kept as they were: not ours
            config = {k: v for k, v in config.items() if k != "original"}
        for path, text in _texts(config, f"$.nodes[{index}].config"):
            problems.extend(_problems(text, path, node_id, flow, checked))
    fallback = definition.get("fallback")
    if (
        isinstance(fallback, dict)
        and isinstance(fallback.get("sms"), str)
        and "{" in fallback["sms"]
    ):
        problems.extend(_problems(fallback["sms"], "$.fallback.sms", None, flow, checked))
    return problems


def _what_the_flow_sets(nodes: list[Any]) -> _Flow:
    flow = _Flow()
    for node in nodes:
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("id"), str):
            flow.node_ids.add(node["id"])
        config = node.get("config")
        if not isinstance(config, dict):
            continue
        if node.get("type") == "set" and isinstance(config.get("vars"), dict):
            flow.variables.update(name for name in config["vars"] if isinstance(name, str))
        if isinstance(config.get("save_as"), str):
            flow.variables.add(config["save_as"])
    return flow


def _texts(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(JSON path, string) of every string holding a `{` in `value`, in document order."""
    if isinstance(value, str):
        if "{" in value:
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, path + _key(str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{path}[{index}]")


def _problems(
    text: str,
    path: str,
    node_id: str | None,
    flow: _Flow,
    checked: dict[str, list[tuple[str, str]]],
) -> list[Problem]:
    if text not in checked:
        checked[text] = _check(_read(text), text, flow)
    return [Problem(message, path, node_id, severity) for severity, message in checked[text]]  # type: ignore[arg-type]


def _check(reading: _Reading, text: str, flow: _Flow) -> list[tuple[str, str]]:
    """(severity, message) of each problem of one template."""
    if reading.error is not None:
        message, lineno = reading.error
        where = f" (line {lineno})" if lineno and "\n" in text.strip() else ""
        return [("error", f"This template cannot be read{where}: {_sentence(message)}")]
    found: list[tuple[str, str]] = []
    for name in reading.names:
        if name not in CONTEXT and name not in JINJA_NAMES:
            known = ", ".join(CONTEXT)
            found.append(
                ("warning", f"'{name}' is not a value templates can read (they read {known}).")
            )
    for base, attribute in reading.attributes:
        if base == "vars" and attribute not in flow.variables:
            found.append(
                (
                    "warning",
                    f"No node of this flow sets vars.{attribute} (a set node, or save_as): "
                    "unless the call brings it, it is empty here.",
                )
            )
        elif base == "nodes" and attribute not in flow.node_ids:
            found.append(
                ("warning", f"nodes.{attribute}: there is no node {attribute!r} in this flow.")
            )
        elif base in FIELDS and attribute not in FIELDS[base]:
            fields = ", ".join(sorted(FIELDS[base]))
            found.append(
                ("warning", f"{base}.{attribute} is not known (a template reads {base}.{fields}).")
            )
    return found


@dataclass(frozen=True)
class _Reading:
    """What one template reads: its error, or the names and `name.attribute`s it reads."""

    error: tuple[str, int | None] | None = None
    #: names read that the template does not bind itself
    names: tuple[str, ...] = ()
    #: (name, attribute) of `name.attribute` and `name['attribute']`, name not bound itself
    attributes: tuple[tuple[str, str], ...] = ()


#: `{{ name }}` or `{{ name.attribute.more }}`: most texts hold only these
_SIMPLE = re.compile(r"\{\{ *([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*) *\}\}")
#: words Jinja reads as operators or constants, not names
_RESERVED = frozenset({"and", "or", "not", "in", "is", "if", "else", "true", "false", "none"})


@lru_cache(maxsize=2048)
def _read(text: str) -> _Reading:
    simple = _read_simple(text)
    if simple is not None:
        return simple
    try:
        tree = parse(text)
    except TemplateFailure as exc:
        return _Reading(error=(exc.message, exc.lineno))
    local = _assigned(tree)
    names = [n.name for n in tree.find_all(jinja.Name) if n.ctx == "load" and n.name not in local]
    attributes = [pair for pair in _attributes(tree) if pair[0] not in local]
    return _Reading(None, tuple(dict.fromkeys(names)), tuple(dict.fromkeys(attributes)))


def _read_simple(text: str) -> _Reading | None:
    """A text whose only template parts are plain `{{ a.b }}`, read without Jinja's parser."""
    names: list[str] = []
    attributes: list[tuple[str, str]] = []
    for match in _SIMPLE.finditer(text):
        name, rest = match.groups()
        if name.lower() in _RESERVED:
            return None
        names.append(name)
        if rest:
            attributes.append((name, rest.split(".")[1]))
    if "{" in _SIMPLE.sub("", text):
        return None
    return _Reading(None, tuple(dict.fromkeys(names)), tuple(dict.fromkeys(attributes)))


def _assigned(tree: jinja.Template) -> set[str]:
    """Names the template binds itself (`{% set %}`, loop targets, macros and arguments)."""
    names = {n.name for n in tree.find_all(jinja.Name) if n.ctx in ("store", "param")}
    names.update(m.name for m in tree.find_all(jinja.Macro))
    return names


def _attributes(tree: jinja.Template) -> list[tuple[str, str]]:
    """(name, attribute) of each `name.attribute` and `name['attribute']` read."""
    found = []
    for node in tree.find_all((jinja.Getattr, jinja.Getitem)):
        base = getattr(node, "node", None)
        if not (isinstance(base, jinja.Name) and base.ctx == "load"):
            continue
        if isinstance(node, jinja.Getattr):
            found.append((base.name, node.attr))
        elif isinstance(node, jinja.Getitem) and isinstance(node.arg, jinja.Const):
            key = node.arg.value
            if isinstance(key, str):
                found.append((base.name, key))
    return found


def _key(name: str) -> str:
    return f".{name}" if _IDENTIFIER.match(name) else f"[{json.dumps(name)}]"


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
