"""Regular expressions in flows (an `input` node's `pattern`, a `branch` rule's `matches`),
matched by RE2: in time that grows with the value only, whatever the pattern. Python's `re`
backtracks without a time limit, so a pattern such as `(a+)+b` against a caller's value
could hold a webhook for minutes; and a pattern built from a template could be anything."""

import re
from functools import lru_cache
from typing import Any

import re2

#: the longest pattern
MAX_PATTERN = 200


class UnsafePattern(ValueError):
    """A pattern that is not a regular expression a flow can use, saying why."""


_RE2 = re2.Options()
_RE2.log_errors = False
#: the memory one compiled pattern may use (its program and its matching cache): what the
#: cache of compiled patterns below can hold is bounded, whatever patterns templates make
_RE2.max_mem = 1 << 20
#: what RE2 says of what it does not do, in words a supervisor knows
_UNSUPPORTED = (
    (re.compile(r"invalid escape sequence: \\[1-9]"), "backreferences (\\1) are not supported"),
    (
        re.compile(r"invalid perl operator: \(\?[=!]"),
        "lookaheads ((?=...), (?!...)) are not supported",
    ),
    (
        re.compile(r"invalid perl operator: \(\?<[=!]"),
        "lookbehinds ((?<=...), (?<!...)) are not supported",
    ),
    (re.compile(r"invalid repetition size"), "a repeat count is at most 1000"),
)


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """The compiled `pattern` (its `fullmatch` as `re`'s), or UnsafePattern saying why not.

    RE2's syntax is Python's without backreferences and lookarounds, which it refuses.
    """
    if len(pattern) > MAX_PATTERN:
        raise UnsafePattern(f"the pattern is longer than {MAX_PATTERN} characters")
    try:
        return re2.compile(pattern, _RE2)
    except re2.error as exc:
        said = exc.args[0] if exc.args else exc
        said = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
        for says, plain in _UNSUPPORTED:
            if says.match(said):
                raise UnsafePattern(plain) from None
        raise UnsafePattern(f"not a valid regular expression: {said}") from None


def wildcard(text: str) -> Any:
    """`text` as a pattern in which `*` stands for any run of characters (and nothing else
    is special), compiled by RE2: its `fullmatch` answers in linear time however many `*`
    it holds (Python's `re` would backtrack through every way of sharing the text out)."""
    return re2.compile(".*".join(re.escape(part) for part in text.split("*")), _RE2)
