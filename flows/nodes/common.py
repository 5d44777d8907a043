"""Schema fragments shared by several node types."""

from typing import Any

TEMPLATE = {"type": "string", "maxLength": 4000, "description": "Text; may use {{ templates }}"}
LANGUAGE = {
    "type": "string",
    "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
    "description": "BCP-47 tag, e.g. en-GB",
}
VOICE = {"type": "string", "maxLength": 100, "description": "TTS voice, e.g. Polly.Amy"}
SECONDS = {"type": "integer", "minimum": 1, "maximum": 600}
URL = {
    "type": "string",
    "pattern": "^(https?://|\\{\\{).+",
    "maxLength": 2000,
    "format": "uri-template",
}
EXIT_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"}


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """A closed JSON object schema (unknown keys are errors: they are usually typos)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema
