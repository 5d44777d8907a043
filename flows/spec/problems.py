"""A validation problem: what is wrong, where, and how bad."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    #: a sentence a supervisor understands
    message: str
    #: JSON path into the definition, e.g. "$.nodes[3].config.schedule.mon[0]"
    path: str = "$"
    #: the node the problem concerns, when there is one
    node: str | None = None
    severity: Severity = "error"

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"node {self.node!r} at {self.path}" if self.node else self.path
        return f"{self.severity}: {where}: {self.message}"
