"""Twilio Studio flow exports: recognised on import and converted to callflow/1.

`convert_studio` is pure: a Studio flow definition (bare, or the REST API's Flow resource
with it under `definition`) in, a callflow/1 definition and the notes on what was converted,
approximated or left as a placeholder out. Widgets become nodes with the widget's name as
label and its offset as position (converter.py walks them, widgets.py says which family
converts each type, liquid.py and variables.py translate the templates). A broken export
(no `states`, a property of the wrong type, a transition to a widget that does not exist)
raises `StudioExportError` with the JSON path. The result is validated like any other file.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from ..schema import FORMAT
from .converter import (
    DEFAULT_LANGUAGE,
    StudioConversion,
    StudioExportError,
    _checked_states,
    _Converter,
    _slug,
    is_studio_export,
)
from .widgets import CONVERTERS, FALLBACK

__all__ = ["StudioConversion", "StudioExportError", "convert_studio", "is_studio_export"]


def convert_studio(data: dict[str, Any], *, source_name: str) -> StudioConversion:
    """The callflow/1 definition of a Studio export. StudioExportError when it is broken."""
    base = "$"
    outer: dict[str, Any] = {}
    if (
        "states" not in data
        and "initial_state" not in data
        and isinstance(data.get("definition"), dict)
    ):
        outer, data, base = data, data["definition"], "$.definition"
    states = data.get("states")
    if not isinstance(states, list) or not states:
        raise StudioExportError(
            "The Studio export has no widgets: `states` is missing or empty.", f"{base}.states"
        )
    converter = _Converter(_checked_states(states, base), base, CONVERTERS, FALLBACK)
    start = converter.run()
    stem = PurePath(source_name).stem
    name = _text(outer.get("friendly_name")) or _text(data.get("description")) or stem
    name = name[:200].strip() or stem
    # a file names the flow; a definition posted to the API has only its own name
    from_file = source_name.lower().endswith(".json")
    definition: dict[str, Any] = {
        "format": FORMAT,
        "slug": _slug(stem if from_file else name),
        "name": name,
    }
    description = _text(data.get("description"))
    if description:
        definition["description"] = description[:4000]
    if converter.runs_as == "incomingParent":
        definition["subflow"] = True
    definition.update(language=DEFAULT_LANGUAGE, start=start, nodes=converter.nodes)
    return StudioConversion(definition, converter.notes)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
