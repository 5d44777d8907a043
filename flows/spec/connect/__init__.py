"""Amazon Connect flow exports: recognised on import and converted to callflow/1.

`convert_connect` is pure: a flow in the Amazon Connect flow language (`Version`
2019-10-30, `StartAction`, `Actions`, `Metadata`), bare or as the DescribeContactFlow
answer with it as `Content`, in; a callflow/1 definition and the notes of what was
approximated, left out or left as a placeholder out. Each action becomes a node labelled
with its block (or its identifier, when that is a name) at its position on the Connect
canvas; a branch that leads nowhere ends the call, as Connect disconnects there. A broken
export (no `StartAction`, a transition to an action that does not exist, a value of the
wrong type) raises `ConnectExportError` with the JSON path. The result is validated like
any other file.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from ..schema import FORMAT
from .actions import CONVERTERS
from .converter import DEFAULT_LANGUAGE, ConnectConversion, Converter, To
from .export import (
    WRAPPERS,
    ConnectExportError,
    checked_actions,
    is_connect_export,
    object_at,
    slug_of,
)

__all__ = ["ConnectConversion", "ConnectExportError", "convert_connect", "is_connect_export"]


def _unwrap(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(the API's resource around the flow or {}, the flow, the JSON path of the flow)."""
    for key in WRAPPERS:
        outer = data.get(key)
        if not (isinstance(outer, dict) and "Content" in outer):
            continue
        content, base = outer["Content"], f"$.{key}.Content"
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except (ValueError, RecursionError):
                raise ConnectExportError("`Content` is not a JSON flow.", base) from None
        if not isinstance(content, dict):
            raise ConnectExportError("`Content` must be a flow (a JSON object).", base)
        return outer, content, base
    return {}, data, "$"


def convert_connect(data: dict[str, Any], *, source_name: str) -> ConnectConversion:
    """The callflow/1 definition of a Connect export. ConnectExportError when it is broken."""
    outer, flow, base = _unwrap(data)
    actions, start = checked_actions(flow, base)
    metadata = object_at(flow, "Metadata")
    converter = Converter(actions, metadata, CONVERTERS)
    start_node = converter.run(start) or converter.end()
    stem = PurePath(source_name).stem
    name = str(outer.get("Name") or metadata.get("name") or stem).strip()[:200] or stem
    from_file = source_name.lower().endswith(".json")
    definition: dict[str, Any] = {
        "format": FORMAT,
        "slug": slug_of(stem if from_file else name),
        "name": name,
    }
    description = outer.get("Description") or metadata.get("description")
    if isinstance(description, str) and description.strip():
        definition["description"] = description.strip()[:4000]
    definition.update(timezone="UTC", language=DEFAULT_LANGUAGE)
    if converter.voice:
        definition["voice"] = converter.voice
    definition["start"] = start_node
    if converter.fallback_action is not None:
        fallback = converter.node_for(To(converter.fallback_action, end=False))
        if fallback is not None:
            definition["fallback"] = {"node": fallback}
    if converter.module:
        definition["subflow"] = True
    definition["nodes"] = converter.nodes
    return ConnectConversion(definition, converter.notes, converter.sources)
