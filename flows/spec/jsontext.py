"""The one strict JSON reader for flow documents, flow test files and API bodies.

`json.loads` accepts what a flow must not contain, and what later code cannot take:
`NaN` and `Infinity` (not JSON, and a float no one can compare), a number too large for a
float (read as infinity), a repeated key (the last one silently wins), a lone surrogate
escape such as `"\\ud800"` (a string that cannot be encoded, so the database or the response
fails later), `"\\u0000"` (PostgreSQL refuses NUL in text and jsonb), and nesting deep
enough to exhaust the stack of any recursive code that walks the result. `loads` refuses
each of these with a `JSONTextError` naming the line and column, or the JSON path, of the
problem.

The happy path costs `json.loads` with a hook per object and a walk of the containers it
built (for the depth, never recursive); the position of a problem, the repeated-key,
surrogate and NUL checks are only looked for when there is something to find.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

#: deepest nesting of arrays and objects: a flow needs about 8 (a schedule inside a node's
#: config inside the node list); an HTTP body in a node's config may need more
MAX_DEPTH = 64

#: longest integer read (a float64, all the designer can hold, has 17 significant digits)
MAX_INT_DIGITS = 40

# Strings as a whole (so that brackets inside them do not count), brackets, and the
# non-JSON constants json.loads would accept: to find where a problem is (see _locate).
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|-?Infinity|NaN', re.DOTALL)
#: the escapes of a surrogate or of NUL: only then are the strings walked
_SUSPECT_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class JSONTextError(ValueError):
    """The text is not JSON a flow can be made of; `line`, `column` or `path` say where."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: str = "$",
    ):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.path = path


class JSONTooLarge(JSONTextError):
    """The text is longer than the limit it was read with."""

    def __init__(self, size: int, limit: int):
        super().__init__(
            f"The document is {size:,} bytes; the limit is {limit:,} bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE)."
        )
        self.size = size
        self.limit = limit


class _Object(dict):
    """An object with a repeated key: the first such key is kept for the report."""

    repeated: str


def loads(text: str | bytes, *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in `text` (bytes are UTF-8, a BOM allowed), or JSONTextError."""
    if isinstance(text, bytes | bytearray):
        size = len(text)
        if max_bytes is not None and size > max_bytes:
            raise JSONTooLarge(size, max_bytes)
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JSONTextError(f"The text is not UTF-8 (byte {exc.start}).") from exc
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise _surrogate_error(text, exc.start) from exc
        if max_bytes is not None and size > max_bytes:
            raise JSONTooLarge(size, max_bytes)
        text = text.removeprefix("\ufeff")
    repeated: list[_Object] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        marked = _Object(obj)
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                marked.repeated = key
                break
            seen.add(key)
        repeated.append(marked)
        return marked

    try:
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            parse_constant=_no_constant,
        )
    except _Constant:
        _locate(text, max_depth)
        raise JSONTextError(
            "NaN and Infinity are not JSON numbers: use a number or null."
        ) from None
    except JSONTextError:
        raise
    except json.JSONDecodeError as exc:
        raise JSONTextError(
            f"Not valid JSON: {exc.msg.removesuffix(' at')} at line {exc.lineno}, "
            f"column {exc.colno}.",
            line=exc.lineno,
            column=exc.colno,
        ) from exc
    except RecursionError:  # nested deeper than the C parser's stack allows
        _locate(text, max_depth)
        raise JSONTextError("The JSON is nested too deeply to be read.") from None
    if _deeper_than(value, max_depth):
        _locate(text, max_depth)
    if repeated:
        key, path = _first_repeated(value)
        raise JSONTextError(
            f"The key {key!r} appears more than once in the object at {path}: JSON objects "
            "cannot repeat a key (which of the values is meant?).",
            path=path,
        )
    if _SUSPECT_ESCAPE.search(text):
        _check_strings(value)
    return value


def _deeper_than(value: Any, max_depth: int) -> bool:
    """Whether arrays and objects nest more than `max_depth` deep, without recursion."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > max_depth:
            return True
        for child in current.values() if isinstance(current, dict) else current:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _locate(text: str, max_depth: int) -> None:
    """Raises the error for the first bracket too deep or constant, with its position.

    Called only once json.loads has read the text up to the problem, so every string the
    scan meets on the way ends (in one that does not, the string pattern would backtrack,
    quadratically in `"\\"\\"\\"...`)."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                line, column = _position(text, match.start())
                raise JSONTextError(
                    f"The JSON is nested more than {max_depth} levels deep (at line {line}, "
                    f"column {column}); a flow needs far fewer.",
                    line=line,
                    column=column,
                )
        elif token in ("]", "}"):
            depth -= 1
        elif token[0] != '"':
            line, column = _position(text, match.start())
            raise JSONTextError(
                f"{token} at line {line}, column {column} is not a JSON number: use a number "
                "or null.",
                line=line,
                column=column,
            )


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Constant(Exception):
    pass


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JSONTextError(f"The number {literal[:40]} is too large to be read.")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal) > MAX_INT_DIGITS:
        raise JSONTextError(
            f"The number {literal[:20]}... has {len(literal)} digits; at most "
            f"{MAX_INT_DIGITS} are read."
        )
    return int(literal)


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def _key(name: str) -> str:
    return f".{name}" if _IDENTIFIER.match(name) else f"[{json.dumps(name)}]"


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    """(path, value) of every value, depth first in document order; iterative, so any
    depth `_scan` let through is fine."""
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack:
        path, current = stack.pop()
        yield path, current
        if isinstance(current, dict):
            children = [(path + _key(k), v) for k, v in current.items()]
        elif isinstance(current, list):
            children = [(f"{path}[{i}]", v) for i, v in enumerate(current)]
        else:
            continue
        stack.extend(reversed(children))


def _first_repeated(value: Any) -> tuple[str, str]:
    for path, current in _walk(value):
        if isinstance(current, _Object):
            return current.repeated, path
    raise AssertionError("a repeated key was seen but not found")  # pragma: no cover


def _check_strings(value: Any) -> None:
    """Lone surrogates (a str that cannot be encoded) and NUL (which PostgreSQL refuses in
    text and jsonb) in any string or key."""
    for path, current in _walk(value):
        texts = [("string", current)] if isinstance(current, str) else []
        if isinstance(current, dict):
            texts = [("key", key) for key in current]
        for what, text in texts:
            if "\x00" in text:
                raise JSONTextError(
                    f"A {what} at {path} holds a NUL character (\\u0000): remove it.",
                    path=path,
                )
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise JSONTextError(
                    f"A {what} at {path} holds a lone surrogate escape "
                    f"(\\u{ord(text[exc.start]):04x}), which is not a character: "
                    "remove it or complete the pair.",
                    path=path,
                ) from exc


def _surrogate_error(text: str, offset: int) -> JSONTextError:
    line, column = _position(text, offset)
    return JSONTextError(
        f"The text holds a lone surrogate (\\u{ord(text[offset]):04x}) at line {line}, "
        f"column {column}, which is not a character.",
        line=line,
        column=column,
    )
