"""Reading older formats: one registered function per old format version.

A definition carries its format (`"format": "callflow/1"`). When the format changes, the
old one stays readable: register a function that turns a document of the old format into
the next one, and `migrate()` applies the chain on read (import, export of old versions,
the runtime loading a version). Stored versions are never rewritten.

callflow/1 is the first published format, so the registry starts empty; the mechanism is
tested with original/migrated pairs on a registry of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .schema import FORMAT

Migration = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownFormat(ValueError):
    def __init__(self, found: object, known: list[str]):
        self.found = found
        self.known = known
        if found is None:
            what = "The definition has no `format`"
        else:
            what = f"The format {found!r} is not known"
        super().__init__(f"{what}; known formats: {', '.join(known)}.")


@dataclass
class Migrations:
    current: str
    #: old format -> (next format, function turning an old document into the next one)
    steps: dict[str, tuple[str, Migration]] = field(default_factory=dict)

    def register(self, from_format: str, to_format: str) -> Callable[[Migration], Migration]:
        """Decorator: `fn(definition) -> definition` migrating `from_format` to `to_format`."""

        def decorator(fn: Migration) -> Migration:
            if from_format in self.steps:
                raise ValueError(f"a migration from {from_format!r} is already registered")
            if from_format == self.current:
                raise ValueError(f"{from_format!r} is the current format")
            self.steps[from_format] = (to_format, fn)
            return fn

        return decorator

    def known_formats(self) -> list[str]:
        return [self.current, *sorted(self.steps)]

    def needs_migration(self, definition: dict[str, Any]) -> bool:
        return definition.get("format") in self.steps

    def migrate(self, definition: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The definition in the current format and the formats it went through.

        The input is not modified. Raises UnknownFormat for a format nothing migrates from.
        """
        applied: list[str] = []
        found = definition.get("format")
        while found != self.current:
            if not isinstance(found, str) or found not in self.steps or found in applied:
                raise UnknownFormat(found, self.known_formats())
            to_format, fn = self.steps[found]
            if not applied:
                definition = copy.deepcopy(definition)
            definition = fn(definition)
            definition["format"] = to_format
            applied.append(found)
            found = to_format
        return definition, applied


#: the registry of this codebase's format migrations
MIGRATIONS = Migrations(current=FORMAT)
register = MIGRATIONS.register


def known_formats() -> list[str]:
    return MIGRATIONS.known_formats()


def migrate(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition in the current format (the input itself when it already is)."""
    return MIGRATIONS.migrate(definition)[0]
