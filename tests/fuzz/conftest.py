"""Sizes of the fuzz runs: a few thousand cases in the suite, full size in `make bench`
(FUZZ_SCALE=full: 10,000 webhook forms, 1,000 flow documents)."""

from __future__ import annotations

import logging
import os

import pytest

FULL = os.environ.get("FUZZ_SCALE") == "full"
#: signed webhook forms, over every webhook
WEBHOOK_EXAMPLES = 10_000 if FULL else int(os.environ.get("FUZZ_WEBHOOK_EXAMPLES", "1500"))
#: generated flow documents, for each entry point (command, import API, draft save)
FLOW_EXAMPLES = 1_000 if FULL else int(os.environ.get("FUZZ_FLOW_EXAMPLES", "150"))


class Tracebacks(logging.Handler):
    """Every log record that carries an exception: bad input must never raise one."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)

    def describe(self) -> str:
        return "\n".join(f"{r.name}: {r.getMessage()}" for r in self.records[:5])


@pytest.fixture
def tracebacks():
    handler = Tracebacks()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
