"""Indexed flow definitions, cached in-process by version id.

Published versions are immutable, so a version's indexed definition can be kept for the
life of the process: a webhook loads a definition from the database once per process and
version, whatever the size of the flow. Keys are `v<version id>`; a simulated call on a
draft uses `draft:<call sid>` and is indexed from the session's copy of the draft.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flows.models import Flow, FlowVersion

from .engine import Definition, index_definition

CACHE_SIZE = 512


@dataclass(frozen=True)
class Loaded:
    definition: Definition
    flow_id: int | None
    version_id: int | None


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
    return _remember(key, Loaded(index_definition(key, raw), flow_id, version_id))


def load_draft(call_sid: str, raw: dict[str, Any], flow_id: int | None) -> Loaded:
    key = draft_key(call_sid)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    return _remember(key, Loaded(index_definition(key, raw), flow_id, None))


def load_published(slug: str) -> Loaded | None:
    """The published version of flow `slug` (a subflow), or None."""
    row = Flow.objects.filter(slug=slug).values_list("published_version_id", flat=True).first()
    return load_version(row) if row else None


def clear() -> None:
    with _lock:
        _cache.clear()
