"""What the engine reads and keeps: indexed definitions, the session state, step records.

Plain data, JSON-serialisable where it is stored (`State.to_dict` / `State.from_dict`).
mypy checks it together with the engine (`ivr_runtime/engine.py`), which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from flows.nodes.runtime import FlowSettings


@dataclass(frozen=True)
class Definition:
    """A definition indexed for the runtime. Built once per immutable version and cached."""

    key: str
    slug: str
    start: str
    nodes: Mapping[str, dict[str, Any]]
    settings: FlowSettings
    fallback_node: str | None = None
    fallback_sms: str | None = None


def index_definition(key: str, raw: dict[str, Any]) -> Definition:
    nodes: dict[str, dict[str, Any]] = {}
    for node in raw.get("nodes") or []:
        if isinstance(node, dict) and isinstance(node.get("id"), str) and node["id"] not in nodes:
            nodes[node["id"]] = {
                "id": node["id"],
                "type": node.get("type"),
                "config": node.get("config") or {},
                "exits": node.get("exits") or {},
            }
    fallback: dict[str, Any] = raw["fallback"] if isinstance(raw.get("fallback"), dict) else {}
    return Definition(
        key=key,
        slug=str(raw.get("slug") or ""),
        start=str(raw.get("start") or ""),
        nodes=nodes,
        settings=FlowSettings(
            timezone=str(raw.get("timezone") or "UTC"),
            language=raw.get("language") or None,
            voice=raw.get("voice") or None,
        ),
        fallback_node=fallback.get("node") or None,
        fallback_sms=fallback.get("sms") or None,
    )


@dataclass
class Frame:
    """A subflow call: where to come back to (`node` in flow `key`, its open step)."""

    key: str
    node: str
    step: int


@dataclass
class State:
    """Everything the engine knows about one call; JSON-serialisable via to_dict/from_dict."""

    root: str
    flow: str
    node: str | None = None
    seq: int = 0
    waiting: str | None = None
    pending: bool = False
    ended: bool = False
    vars: dict[str, Any] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    customer: dict[str, Any] | None = None
    scratch: dict[str, Any] = field(default_factory=dict)
    stack: list[Frame] = field(default_factory=list)
    step: int = 0
    open_step: int = 0
    fallbacks: int = 0
    fallback_sms_sent: bool = False
    #: slug -> id of the version a `subflow` node enters, pinned when the call started (or
    #: first entered it): the runtime keeps it, the engine only carries it
    subflows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def new(cls, key: str) -> State:
        return cls(root=key, flow=key)

    def to_dict(self) -> dict[str, Any]:
        data = {name: _copy(getattr(self, name)) for name in _STATE_FIELDS}
        data["stack"] = [{"key": f.key, "node": f.node, "step": f.step} for f in self.stack]
        return data

    def clone(self) -> State:
        return State.from_dict(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        data = dict(data)
        data["stack"] = [Frame(**frame) for frame in data.get("stack") or []]
        return cls(**data)


#: State's fields but the stack (to_dict writes the stack's frames itself)
_STATE_FIELDS = tuple(f.name for f in fields(State) if f.name != "stack")


@dataclass(frozen=True)
class StepRecord:
    """A node visit. Records with the index of an earlier one update it (its exit, input)."""

    index: int
    flow: str
    node: str
    node_type: str
    at: datetime
    input: str | None = None
    exit: str | None = None
    closed: bool = False
    hung_up: bool = False
    error: str = ""


def _copy(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, scalars): cheaper than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
