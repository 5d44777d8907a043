"""Twilio Studio flow exports: recognised, so an import can say what it was given.

Converting them to callflow/1 is not supported yet; an import names the file and refuses it.
"""

from __future__ import annotations

from typing import Any

REFUSAL = (
    "Twilio Studio export detected; conversion is not supported yet. Re-create the flow in "
    "the designer, or write it as callflow/1 (see docs/format.md)."
)


def is_studio_export(data: dict[str, Any]) -> bool:
    """A Studio flow definition (`states` with `initial_state`/`flags`), bare or wrapped in
    the Flow resource as `definition` (what the Studio REST API and console export)."""
    if "states" in data and ("initial_state" in data or "flags" in data):
        return True
    inner = data.get("definition")
    return isinstance(inner, dict) and isinstance(inner.get("states"), list)
