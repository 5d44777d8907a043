"""validate(definition) -> list[Problem]: everything wrong with a callflow/1 definition.

Errors block saving, importing and publishing. Warnings (unreachable nodes, required exits
left unconnected without a fallback in a flow that is not a sub-flow, a chain of nodes
longer than a turn may run) are shown on drafts and become errors on publish.

Schema errors come first; the graph checks only see the well-formed parts (flows.spec.graph
leaves out what the schema refuses), so a malformed document gets its schema errors, never
an exception.

The happy path is the common one and must stay fast (a 5,000-node flow in well under a
second): the schema runs as `is_valid()` first and jsonschema's error objects, which are
expensive, are only built when something is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from flows import nodes as node_types
from flows.nodes.time_of_day import valid_timezone

from . import graph as flow_graph
from . import jsontext
from .migrations import UnknownFormat, migrate
from .problems import Problem, Severity
from .schema import (
    EXIT_NAME_PATTERN,
    FORMAT,
    NODE_ID_PATTERN,
    SLUG_PATTERN,
    config_validator,
    envelope_validator,
)
from .templates import check_templates

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXIT_NAME = re.compile(EXIT_NAME_PATTERN)
_REQUIRED = re.compile(r"^'(.+)' is a required property$")


class DefinitionParseError(jsontext.JSONTextError):
    """The text is not a JSON object; `line` and `column` (or `path`) say where, when known."""

    def as_problem(self) -> Problem:
        return Problem(self.message, self.path)


def parse_definition(text: str | bytes, *, max_bytes: int | None = None) -> dict[str, Any]:
    """The JSON object in `text`, or DefinitionParseError saying what is wrong and where.

    Read strictly (flows.spec.jsontext): no repeated keys, NaN, Infinity or lone
    surrogates, a bounded depth, and at most `max_bytes` bytes when given.
    """
    if isinstance(text, bytes | bytearray):
        if max_bytes is not None and len(text) > max_bytes:
            raise DefinitionParseError(jsontext.JSONTooLarge(len(text), max_bytes).message)
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DefinitionParseError(f"The file is not UTF-8 text (byte {exc.start}).") from exc
    if not text.strip():
        raise DefinitionParseError("The file is empty: expected a callflow/1 JSON object.")
    try:
        data = jsontext.loads(text, max_bytes=max_bytes)
    except jsontext.JSONTextError as exc:
        raise DefinitionParseError(
            exc.message, line=exc.line, column=exc.column, path=exc.path
        ) from exc
    if not isinstance(data, dict):
        raise DefinitionParseError(
            f"The top level must be a JSON object {{...}} describing one flow, not {_json_type(data)}."
        )
    return data


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "warning"]


def validate(
    definition: Any, *, publish: bool = False, flow_lookup: flow_graph.FlowLookup | None = None
) -> list[Problem]:
    """Every problem of `definition`; with `publish`, warnings become errors.

    `flow_lookup(slug)` returns another flow's definition (with `publish`: its published
    definition, as only published flows run as sub-flows), or None; without it sub-flows are
    not followed (no cycle check, no check that the flow exists).
    """
    if not isinstance(definition, dict):
        return [Problem(f"A flow definition is a JSON object, not {_json_type(definition)}.")]
    if definition.get("format") != FORMAT:
        try:
            definition = migrate(definition)
        except UnknownFormat as exc:
            return [Problem(str(exc), "$.format")]
    return _Validation(definition, "error" if publish else "warning", flow_lookup).run()


@dataclass
class _Validation:
    definition: dict[str, Any]
    #: severity of the problems that only block publishing
    strict: Severity
    flow_lookup: flow_graph.FlowLookup | None

    def run(self) -> list[Problem]:
        self.problems: list[Problem] = []
        raw_nodes = self.definition.get("nodes")
        self.nodes = raw_nodes if isinstance(raw_nodes, list) else []
        if not envelope_validator().is_valid(self.definition):
            for error in envelope_validator().iter_errors(self.definition):
                self._schema_error(error, "$")
        self.ids = self._collect_ids()
        fallback = self.definition.get("fallback")
        self.has_fallback = isinstance(fallback, dict) and isinstance(fallback.get("node"), str)
        # in a sub-flow an unconnected exit is its way back to the calling flow
        self.returns = self.definition.get("subflow") is True
        for index, node in enumerate(self.nodes):
            if isinstance(node, dict):
                self._check_node(index, node)
        self.problems.extend(check_templates(self.definition, self.nodes))
        self._check_settings()
        self._check_graph()
        if self.flow_lookup is not None:
            self._check_subflows()
        return self.problems

    def _add(
        self, message: str, path: str, node: str | None = None, severity: Severity = "error"
    ) -> None:
        self.problems.append(Problem(message, path, node, severity))

    def _node_id(self, index: int) -> str | None:
        node = self.nodes[index] if 0 <= index < len(self.nodes) else None
        node_id = node.get("id") if isinstance(node, dict) else None
        return node_id if isinstance(node_id, str) else None

    def _collect_ids(self) -> dict[str, int]:
        ids: dict[str, int] = {}
        for index, node in enumerate(self.nodes):
            node_id = node.get("id") if isinstance(node, dict) else None
            if not isinstance(node_id, str):
                continue
            if node_id in ids:
                self._add(
                    f"Node id {node_id!r} is used twice (also by node #{ids[node_id] + 1}); ids must be unique.",
                    f"$.nodes[{index}].id",
                    node_id,
                )
            else:
                ids[node_id] = index
        return ids

    def _check_node(self, index: int, node: dict[str, Any]) -> None:
        base = f"$.nodes[{index}]"
        node_id = node.get("id") if isinstance(node.get("id"), str) else None
        type_name = node.get("type")
        cls = node_types.get(type_name) if isinstance(type_name, str) else None
        if cls is None:
            if isinstance(type_name, str):
                known = ", ".join(node_types.all_types())
                self._add(
                    f"Unknown node type {type_name!r}; the known types are: {known}.",
                    f"{base}.type",
                    node_id,
                )
            return
        config = node.get("config", {})
        exits = node.get("exits", {})
        if not isinstance(config, dict) or not isinstance(exits, dict):
            return  # the envelope schema has said so
        validator = config_validator(cls.type)
        if not validator.is_valid(config):
            for error in validator.iter_errors(config):
                self._schema_error(error, f"{base}.config", node_id)
            allowed = None  # exits derive from a config we cannot trust
        else:
            for path, message in cls.check(config):
                self._add(_sentence(message), f"{base}.config.{path}", node_id)
            allowed = cls.exits(config)
        self._check_exits(base, node_id, cls.type, exits, allowed)
        if allowed is not None and not self.has_fallback and not self.returns:
            for name in cls.required_exits(config):
                if exits.get(name) is None:
                    self._add(
                        f"Exit {name!r} is not connected and the flow has no fallback: a call taking it "
                        "would end abruptly. Connect it, or give the flow a fallback node.",
                        f"{base}.exits{_key(name)}",
                        node_id,
                        self.strict,
                    )

    def _check_exits(
        self,
        base: str,
        node_id: str | None,
        type_name: str,
        exits: dict[str, Any],
        allowed: list[str] | None,
    ) -> None:
        """Exits the type does not have (when its exits are known) and exits to nowhere."""
        for name, target in exits.items():
            exit_path = f"{base}.exits{_key(name)}"
            if allowed is not None and name not in allowed and _EXIT_NAME.match(name):
                offer = f"its exits are: {', '.join(allowed)}" if allowed else "it has no exits"
                self._add(f"A {type_name} node has no exit {name!r}; {offer}.", exit_path, node_id)
            elif isinstance(target, str) and target not in self.ids:
                self._add(
                    f"Exit {name!r} leads to {target!r}, which is not a node of this flow.",
                    exit_path,
                    node_id,
                )

    def _check_settings(self) -> None:
        start = self.definition.get("start")
        if isinstance(start, str) and self.nodes and start not in self.ids:
            self._add(f"The flow starts at {start!r}, which is not a node of this flow.", "$.start")
        fallback = self.definition.get("fallback")
        if isinstance(fallback, dict):
            target = fallback.get("node")
            if isinstance(target, str) and target not in self.ids:
                self._add(
                    f"The fallback node {target!r} is not a node of this flow.", "$.fallback.node"
                )
        timezone = self.definition.get("timezone")
        if isinstance(timezone, str) and timezone and not valid_timezone(timezone):
            self._add(
                f"{timezone!r} is not a known time zone (use an IANA name such as Europe/London).",
                "$.timezone",
            )

    def _check_graph(self) -> None:
        if not self.ids:
            return
        graph = flow_graph.build_graph(self.definition)
        loops = flow_graph.endless_loops(graph)
        for loop in loops:
            first = loop[0]
            if len(loop) == 1:
                message = f"Node {first!r} exits to itself without waiting for the caller: an endless loop."
            else:
                shown = " -> ".join(loop[:8]) + (" ..." if len(loop) > 8 else "")
                message = (
                    f"Endless loop: {shown} lead back to one another and none of them waits for the "
                    "caller (a menu, recording, route or hang-up breaks a loop)."
                )
            self._add(message, f"$.nodes[{self.ids[first]}]", first)
        if not loops:
            self._check_run(graph)
        start = self.definition.get("start")
        if not (isinstance(start, str) and start in self.ids):
            return  # everything would be unreachable; the missing start says it all
        for node_id in flow_graph.unreachable(self.definition, graph):
            self._add(
                f"Node {node_id!r} cannot be reached from the start of the flow.",
                f"$.nodes[{self.ids[node_id]}]",
                node_id,
                self.strict,
            )

    def _check_run(self, graph: nx.DiGraph) -> None:
        """A chain of nodes longer than one turn of a call may run without waiting."""
        chain = flow_graph.longest_run(graph)
        limit = flow_graph.MAX_RUN_WITHOUT_WAITING
        if len(chain) <= limit:
            return
        stop = chain[limit]
        shown = " -> ".join([*chain[:3], "...", *chain[-2:]])
        self._add(
            f"{len(chain)} nodes run one after another without waiting for the caller "
            f"({shown}); a call runs at most {limit} in a row, so it would stop at {stop!r} "
            "and take the fallback. Shorten the chain, or put a node that waits for the "
            "caller (a menu, for instance) in it.",
            f"$.nodes[{self.ids[stop]}]",
            stop,
            self.strict,
        )

    def _check_subflows(self) -> None:
        assert self.flow_lookup is not None
        slug = self.definition.get("slug")
        for index, node_id, target in flow_graph.subflows(self.definition):
            path = f"$.nodes[{index}].config.flow"
            if target == slug:
                self._add(
                    f"Sub-flow {node_id!r} calls this same flow: an endless loop.", path, node_id
                )
                continue
            if self.flow_lookup(target) is None:
                self._add(
                    f"Sub-flow {node_id!r} names flow {target!r}, which "
                    + ("is not published." if self.strict == "error" else "does not exist."),
                    path,
                    node_id,
                    self.strict,
                )
                continue
            if isinstance(slug, str):
                cycle = flow_graph.subflow_cycle(
                    slug, self.definition, self.flow_lookup, via=target
                )
                if cycle:
                    self._add(
                        f"Sub-flow {node_id!r} goes round in a circle of flows: {' -> '.join(cycle)}.",
                        path,
                        node_id,
                    )

    def _schema_error(
        self, error: ValidationError, prefix: str, node_id: str | None = None
    ) -> None:
        if error.validator in ("oneOf", "anyOf") and error.context:
            if self._alternatives_error(error, prefix, node_id):
                return
            if self._typed_alternatives_error(error, prefix, node_id):
                return
            deeper = best_match(error.context)
            if deeper is not None:
                error = deeper
        path = prefix + _path(error.absolute_path)
        node_id = node_id or self._envelope_node(prefix, error)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for extra in error.instance:
                if extra not in allowed:
                    self._add(
                        f"Unknown key {extra!r}; allowed keys here: {', '.join(allowed)}.",
                        path + _key(extra),
                        node_id,
                    )
            return
        if error.validator == "pattern" and "propertyNames" in error.absolute_schema_path:
            self._add(
                f"{error.instance!r} is not a valid name here.",
                path + _key(str(error.instance)),
                node_id,
            )
            return
        if error.validator == "required":
            match = _REQUIRED.match(error.message)
            if match:
                self._add(
                    f"{match.group(1)!r} is required here.", path + _key(match.group(1)), node_id
                )
                return
        self._add(_schema_message(error), path, node_id)

    def _alternatives_error(self, error: ValidationError, prefix: str, node_id: str | None) -> bool:
        """oneOf/anyOf of shapes told apart by their required keys: say which are expected.

        When the instance has the keys of exactly one shape, what is wrong inside that shape
        is reported instead.
        """
        alternatives = error.validator_value
        if not all(isinstance(alt, dict) and alt.get("required") for alt in alternatives):
            return False
        node_id = node_id or self._envelope_node(prefix, error)
        instance = error.instance if isinstance(error.instance, dict) else {}
        matching = [
            i for i, alt in enumerate(alternatives) if set(alt["required"]) <= set(instance)
        ]
        if len(matching) == 1:
            inner = [e for e in error.context if e.relative_schema_path[0] == matching[0]]
            for sub in inner:
                self._schema_error(sub, prefix, node_id)
            if inner:
                return True
        keys = [k for alt in alternatives for k in alt["required"]]
        listed = ", ".join(repr(k) for k in keys[:-1]) + f" or {keys[-1]!r}"
        exactly = "exactly one of " if error.validator == "oneOf" else ""
        self._add(f"Give {exactly}{listed}.", prefix + _path(error.absolute_path), node_id)
        return True

    def _typed_alternatives_error(
        self, error: ValidationError, prefix: str, node_id: str | None
    ) -> bool:
        """oneOf/anyOf of shapes of different JSON types (a date, or {date, name}): report
        what is wrong inside the one of the instance's type, or which types are expected."""
        alternatives = error.validator_value
        types: list[str] = [
            alt["type"]
            for alt in alternatives
            if isinstance(alt, dict) and isinstance(alt.get("type"), str)
        ]
        if len(types) != len(alternatives) or len(set(types)) != len(types):
            return False
        checker = Draft202012Validator.TYPE_CHECKER
        matching = [i for i, t in enumerate(types) if checker.is_type(error.instance, t)]
        if len(matching) == 1:
            inner = [e for e in error.context if e.relative_schema_path[0] == matching[0]]
            for sub in inner:
                self._schema_error(sub, prefix, node_id)
            return bool(inner)
        if matching:
            return False
        wanted = " or ".join(_article(t) for t in types)
        node_id = node_id or self._envelope_node(prefix, error)
        message = f"Expected {wanted}, found {_json_type(error.instance)}."
        self._add(message, prefix + _path(error.absolute_path), node_id)
        return True

    def _envelope_node(self, prefix: str, error: ValidationError) -> str | None:
        parts = list(error.absolute_path)
        if prefix == "$" and len(parts) >= 2 and parts[0] == "nodes" and isinstance(parts[1], int):
            return self._node_id(parts[1])
        return None


def _schema_message(error: ValidationError) -> str:
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "pattern" and value == NODE_ID_PATTERN:
        return (
            f"{instance!r} is not a valid node id: use up to 64 lower-case letters, digits and _, "
            "starting with a letter."
        )
    if kind == "pattern" and value == SLUG_PATTERN:
        return f"{instance!r} is not a valid slug: use up to 64 lower-case letters, digits and -."
    if kind == "enum":
        return f"{instance!r} is not one of: {', '.join(json.dumps(v) for v in value)}."
    if kind == "type":
        wanted = " or ".join(value) if isinstance(value, list) else value
        return f"Expected {_article(wanted)}, found {_json_type(instance)}."
    if kind == "pattern":
        return f"{instance!r} does not have the expected form ({value})."
    return _LIMITS[kind](value, instance) if kind in _LIMITS else _sentence(error.message)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


_LIMITS = {
    "minItems": lambda n, v: (
        f"Give at least {_plural(n, 'item')}." if v else "This list must not be empty."
    ),
    "maxItems": lambda n, v: f"At most {_plural(n, 'item')} are allowed here ({len(v)} given).",
    "minLength": lambda n, v: (
        "This must not be empty." if not v else f"Use at least {_plural(n, 'character')}."
    ),
    "maxLength": lambda n, v: f"Too long: at most {_plural(n, 'character')} ({len(v)} given).",
    "minimum": lambda n, v: f"{v} is less than the minimum of {n}.",
    "maximum": lambda n, v: f"{v} is more than the maximum of {n}.",
    "exclusiveMinimum": lambda n, v: f"{v} is too small: it must be more than {n}.",
    "exclusiveMaximum": lambda n, v: f"{v} is too large: it must be less than {n}.",
    "minProperties": lambda n, v: (
        f"Give at least {_plural(n, 'entry')}." if n > 1 else "Give at least one entry."
    ),
    "maxProperties": lambda n, v: f"At most {n} entries are allowed here ({len(v)} given).",
    "uniqueItems": lambda n, v: "The items must all be different.",
    "const": lambda n, v: f"Must be {json.dumps(n)}.",
}


def _path(parts: Iterable[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else _key(p) for p in parts)


def _key(name: str) -> str:
    return f".{name}" if _IDENTIFIER.match(name) else f"[{json.dumps(name)}]"


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def schema_problems(validator: Draft202012Validator, document: Any) -> list[Problem]:
    """`document`'s problems against another format's schema (a flow test file's), worded
    and located as a flow definition's are."""
    check = _Validation({}, "error", None)
    check.problems, check.nodes = [], []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        check._schema_error(error, "$")
    return check.problems
