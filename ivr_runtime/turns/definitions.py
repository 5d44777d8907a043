"""Indexed flow definitions, cached in-process by version id.

Published versions are immutable, so a version's indexed definition can be kept for the
life of the process: a webhook loads a definition from the database once per process and
version, whatever the size of the flow. Keys are `v<version id>`; a simulated call on a
draft uses `draft:<call sid>` and is indexed from the session's copy of the draft.

Versions stored in an older format are migrated on read (flows.spec.migrations).

A call runs every flow on the version published when it started, its subflows too: at its
start `pin_subflows` notes the published version of each flow it may enter (the call's
state keeps them), and `load_subflow` enters that version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flows.models import Flow, FlowVersion
from flows.spec.migrations import migrate
from ivr_runtime.engine import Definition, index_definition

CACHE_SIZE = 512


#: subflows within subflows pinned at a call's start (the engine's own limit, MAX_DEPTH)
PIN_DEPTH = 8


@dataclass(frozen=True)
class Loaded:
    definition: Definition
    flow_id: int | None
    version_id: int | None
    #: the slugs of the flows its `subflow` nodes enter
    subflows: frozenset[str] = frozenset()


def _loaded(key: str, raw: dict[str, Any], flow_id: int | None, version_id: int | None) -> Loaded:
    # A version stored in an older format is migrated as it is read (once per process:
    # the result is cached); the stored version is never rewritten.
    definition = index_definition(key, migrate(raw))
    subflows = frozenset(
        node["config"]["flow"]
        for node in definition.nodes.values()
        if node["type"] == "subflow" and isinstance(node["config"].get("flow"), str)
    )
    return Loaded(definition, flow_id, version_id, subflows)


_cache: OrderedDict[str, Loaded] = OrderedDict()
_lock = threading.Lock()


def version_key(version_id: int) -> str:
    return f"v{version_id}"


def draft_key(call_sid: str) -> str:
    return f"draft:{call_sid}"


def _remember(key: str, loaded: Loaded) -> Loaded:
    with _lock:
        _cache[key] = loaded
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def load_version(version_id: int) -> Loaded:
    key = version_key(version_id)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    # One query by primary key, only on a cache miss.
    flow_id, raw = FlowVersion.objects.values_list("flow_id", "definition").get(pk=version_id)
    return _remember(key, _loaded(key, raw, flow_id, version_id))


def load_draft(call_sid: str, raw: dict[str, Any], flow_id: int | None) -> Loaded:
    key = draft_key(call_sid)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    return _remember(key, _loaded(key, raw, flow_id, None))


def load_published(slug: str) -> Loaded | None:
    """The published version of flow `slug` (a subflow), or None."""
    row = Flow.objects.filter(slug=slug).values_list("published_version_id", flat=True).first()
    return load_version(row) if row else None


def pin_subflows(root: Loaded) -> dict[str, int]:
    """Slug -> published version id of every flow `root` may enter, its subflows' own
    subflows included, as published now: one query per level of nesting, none at all for a
    flow without `subflow` nodes. A flow not published now is left out (see load_subflow)."""
    pinned: dict[str, int] = {}
    asked: set[str] = set()
    wanted = set(root.subflows)
    for _ in range(PIN_DEPTH):
        wanted -= asked
        if not wanted:
            break
        asked |= wanted
        rows = Flow.objects.filter(slug__in=wanted, published_version__isnull=False)
        wanted = set()
        for slug, version_id in rows.values_list("slug", "published_version_id"):
            pinned[slug] = version_id
            wanted |= load_version(version_id).subflows
    return pinned


def load_subflow(slug: str, pinned: dict[str, int]) -> Loaded | None:
    """The version of flow `slug` this call runs: the one in `pinned` (the call's), else
    the one published now, which is then added to `pinned` for the rest of the call."""
    version_id = pinned.get(slug)
    if version_id is not None:
        return load_version(version_id)
    found = load_published(slug)
    if found is not None and found.version_id is not None:
        pinned[slug] = found.version_id
    return found


def clear() -> None:
    with _lock:
        _cache.clear()
