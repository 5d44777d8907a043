"""The callflow-test/1 format: a flow's tests, kept beside the flow in git.

A file names its flow and lists tests; each test places a call (when, from whom, with which
vars and which answers to the flow's HTTP requests), takes the caller's steps and says what
it expects. `parse_tests` reads a file and `check_tests` a document: the problems name the
JSON path, as a flow definition's do. Running the tests is the runtime's
(ivr_runtime.flowtests).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from .problems import Problem
from .schema import NODE_ID_PATTERN, SLUG_PATTERN
from .validate import DefinitionParseError, parse_definition, schema_problems

FORMAT = "callflow-test/1"
#: how a call may end (`expect.ends`): "hangup" (it is over, whoever hung up), "waiting"
#: (it still waits for the caller when the steps run out), or the call's outcome
ENDINGS = (
    "hangup",
    "waiting",
    "routed",
    "self_served",
    "sms_fallback",
    "voicemail",
    "callback",
    "abandoned",
    "failed",
)
#: what a `dial` step answers a Dial with (Twilio's DialCallStatus)
DIAL_RESULTS = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
#: what a `queue` step answers an Enqueue with (Twilio's QueueResult)
QUEUE_RESULTS = ("bridged", "hangup", "redirected", "queue-full", "system-error", "error")
#: what a `redirect` step says of a call handed to another application
REDIRECT_RESULTS = ("return", "timeout", "unreachable")
#: at most this many calls in a file, each of at most MAX_STEPS steps: a run is bounded
MAX_TESTS = 100
MAX_STEPS = 60

_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
PRESS_PATTERN = "^[0-9*#]{1,64}$"
CALLER_PATTERN = r"^\+[1-9][0-9]{6,14}$"


def _one(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: value},
        "required": [key],
        "additionalProperties": False,
    }


STEP_SCHEMA: dict[str, Any] = {
    "oneOf": [
        _one("expect_say", _TEXT),
        _one("press", {"type": "string", "pattern": PRESS_PATTERN}),
        _one("say", _TEXT),
        _one("silence", {"const": True}),
        _one("dial", {"enum": list(DIAL_RESULTS)}),
        _one("queue", {"enum": list(QUEUE_RESULTS)}),
        _one("record", {"type": "integer", "minimum": 0, "maximum": 3600}),
        _one("redirect", {"enum": list(REDIRECT_RESULTS)}),
        _one("hangup", {"const": True}),
    ]
}

HTTP_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "url": {
            "type": "string",
            "minLength": 1,
            "maxLength": 2000,
            "description": "the URL answered; * matches any run of characters",
        },
        "method": {"type": "string", "pattern": "^[A-Z]{3,7}$"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "json": {},
        "error": {
            "type": "string",
            "minLength": 1,
            "maxLength": 300,
            "description": "the request fails so (e.g. timed out) instead of being answered",
        },
    },
    "required": ["url"],
    "additionalProperties": False,
}

TEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "at": {
            "type": "string",
            "minLength": 1,
            "maxLength": 40,
            "description": "the call's date and time, ISO 8601; without an offset, in the "
            "flow's time zone",
        },
        "caller": {"type": "string", "pattern": CALLER_PATTERN},
        "direction": {
            "enum": ["inbound", "outbound"],
            "description": "outbound: the flow calls `caller` (a reminder), who answers",
        },
        "answered_by": {
            "type": "string",
            "maxLength": 32,
            "description": "an outbound call's AnsweredBy (human, machine_start, ...)",
        },
        "vars": {"type": "object", "maxProperties": 100},
        "version": {"type": "integer", "minimum": 1},
        "http": {"type": "array", "items": HTTP_ANSWER_SCHEMA, "maxItems": 50},
        "steps": {"type": "array", "items": STEP_SCHEMA, "maxItems": MAX_STEPS},
        "expect": {
            "type": "object",
            "properties": {
                "path": {
                    "type": "array",
                    "items": {"type": "string", "pattern": NODE_ID_PATTERN},
                    "maxItems": 500,
                },
                "sms": {
                    "type": "array",
                    "maxItems": 50,
                    "items": {
                        "type": "object",
                        "properties": {
                            "to": {"type": "string", "minLength": 1, "maxLength": 32},
                            "contains": {"type": "string", "maxLength": 2000},
                        },
                        "additionalProperties": False,
                    },
                },
                "no_sms": {"const": True},
                "ends": {"enum": list(ENDINGS)},
                "vars": {"type": "object", "maxProperties": 100},
            },
            "additionalProperties": False,
        },
    },
    "required": ["name"],
    "additionalProperties": False,
}

DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "format": {"const": FORMAT},
        "flow": {"type": "string", "pattern": SLUG_PATTERN},
        "tests": {"type": "array", "items": TEST_SCHEMA, "maxItems": MAX_TESTS},
    },
    "required": ["format", "flow", "tests"],
    "additionalProperties": False,
}


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    schema = DOCUMENT_SCHEMA if schema_name == "document" else TEST_SCHEMA
    return Draft202012Validator(schema)


def is_test_file(document: Any) -> bool:
    """Whether a JSON document is a flow test file (its `format` says so)."""
    return isinstance(document, dict) and document.get("format") == FORMAT


#: the schema's patterns, as a supervisor would be told about them
_FORMS = {
    PRESS_PATTERN: "use the keys of a phone: 0 to 9, * and #",
    CALLER_PATTERN: "use an E.164 number, e.g. +447700900123",
}


def _worded(problems: list[Problem]) -> list[Problem]:
    worded = []
    for problem in problems:
        for pattern, advice in _FORMS.items():
            if problem.message.endswith(f"does not have the expected form ({pattern})."):
                value = problem.message.split(" does not have", 1)[0]
                problem = Problem(f"{value} cannot be used here: {advice}.", problem.path)
        worded.append(problem)
    return worded


def check_tests(document: Any) -> list[Problem]:
    """Every problem of a callflow-test/1 document: the schema's, then what it cannot say
    (names repeated, a date that is not one)."""
    if not isinstance(document, dict):
        return [Problem("A flow test file is a JSON object.")]
    problems = _worded(schema_problems(_validator("document"), document))
    tests = document.get("tests")
    if isinstance(tests, list):
        problems += _test_problems(tests, "$.tests")
    return problems


def check_test_list(tests: Any, path: str = "$.tests") -> list[Problem]:
    """The problems of a list of tests (the `tests` of a document)."""
    if not isinstance(tests, list):
        return [Problem("The tests are a JSON list.", path)]
    problems = []
    for index, test in enumerate(tests):
        for problem in _worded(schema_problems(_validator("test"), test)):
            problems.append(Problem(problem.message, f"{path}[{index}]{problem.path[1:]}"))
    return problems + _test_problems(tests, path)


def _test_problems(tests: list[Any], path: str) -> list[Problem]:
    problems, names = [], set()
    for index, test in enumerate(tests):
        if not isinstance(test, dict):
            continue
        name = test.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append(
                    Problem(
                        f"Another test is named {name!r}: give each its own name.",
                        f"{path}[{index}].name",
                    )
                )
            names.add(name)
        at = test.get("at")
        if isinstance(at, str) and parse_at(at) is None:
            problems.append(
                Problem(
                    f"{at!r} is not a date and time: use ISO 8601, e.g. 2026-12-24T22:00:00.",
                    f"{path}[{index}].at",
                )
            )
    return problems


def parse_at(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_tests(text: str | bytes, *, max_bytes: int | None = None) -> dict[str, Any]:
    """The test file in `text`, or DefinitionParseError saying what is wrong and where."""
    return parse_definition(text, max_bytes=max_bytes)


__all__ = [
    "FORMAT",
    "DefinitionParseError",
    "check_test_list",
    "check_tests",
    "is_test_file",
    "parse_at",
    "parse_tests",
]
