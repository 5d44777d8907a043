"""Studio's canvas positions on callflow's canvas.

Both canvases put x to the right and y down, in pixels, so a widget's `offset` is the node's
`position` as it is: the flow looks as it did in Studio. A Studio widget lays its exits out
side by side at its foot, a callflow node one per row down its right edge, so a node with
many exits is taller than its widget was and could cover the one below: `spread` moves such
a node's neighbours down, keeping the order and the columns of the Studio layout. Nodes
that came from one widget (a prompt and its menu, a split's tests) share its offset and are
spread the same way.
"""

from __future__ import annotations

from typing import Any

#: the width of a node on the designer's canvas (designer_ui/frontend/src/layout.js)
NODE_WIDTH = 200
#: its height: header and summary, then one row per exit (layout.js, nodeHeightFor)
NODE_TOP = 75
EXIT_ROW = 18
GAP = 24


def node_height(node: dict[str, Any]) -> int:
    return NODE_TOP + EXIT_ROW * max(len(node.get("exits") or {}), 1)


def spread(nodes: list[dict[str, Any]]) -> None:
    """Move nodes down (never sideways) until no two overlap; nodes without a position
    are left for the designer's automatic layout."""
    placed: list[tuple[float, float, float]] = []  # x, top, bottom
    positioned = [n for n in nodes if isinstance(n.get("position"), dict)]
    for node in sorted(positioned, key=lambda n: (n["position"]["y"], n["position"]["x"])):
        x, y = node["position"]["x"], node["position"]["y"]
        height = node_height(node)
        moved = True
        while moved:
            moved = False
            for px, top, bottom in placed:
                if abs(px - x) < NODE_WIDTH + GAP and y < bottom + GAP and y + height + GAP > top:
                    y, moved = bottom + GAP, True
        node["position"] = {"x": x, "y": y}
        placed.append((x, y, y + height))
