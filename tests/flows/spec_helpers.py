"""Small builders for callflow/1 definitions in tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def node(
    node_id: str, node_type: str, config: dict[str, Any] | None = None, **exits: str | None
) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config or {}, "exits": exits}


def say(node_id: str, next: str | None = None, text: str = "Hello.") -> dict[str, Any]:
    return node(node_id, "say", {"text": text}, next=next)


def hangup(node_id: str = "bye") -> dict[str, Any]:
    return node(node_id, "hangup", {"text": "Goodbye."})


def menu(node_id: str, keys: dict[str, str | None], **exits: str | None) -> dict[str, Any]:
    config = {"prompt": "Choose.", "options": [{"key": k} for k in keys]}
    return node(node_id, "menu", config, **keys, **exits)


def flow(*nodes: dict[str, Any], **top: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "format": "callflow/1",
        "slug": "test-flow",
        "name": "Test flow",
        "timezone": "Europe/London",
        "start": nodes[0]["id"] if nodes else "start",
        "nodes": [copy.deepcopy(n) for n in nodes],
    }
    definition.update(top)
    return definition


def simple_flow(slug: str = "test-flow", text: str = "Hello.") -> dict[str, Any]:
    """greeting -> bye: valid on publish, no warnings."""
    return flow(say("greeting", "bye", text), hangup("bye"), slug=slug, name=f"Flow {slug}")


def demo_flows() -> dict[str, dict[str, Any]]:
    """The demo flows in fixtures/ by file name (other JSON fixtures there are not flows)."""
    found = {}
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "format" in data:
            found[path.name] = data
    return found
