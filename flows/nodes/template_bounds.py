"""The bounds of one template render: steps, time, sizes, integers and widths.

`flows.nodes.templating` renders within them: each render gets a `Budget` (a context
variable while it runs), which the sandbox charges for every attribute read, call,
intercepted operator, loop turn and value built; what would build a large value (`*`,
`join`, `replace`, widths in formats...) is checked before it is computed. A bound broken
raises Jinja's SecurityError, which the render turns into a TemplateFailure.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from jinja2 import filters
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedFormatter
from jinja2.utils import pass_environment, pass_eval_context
from markupsafe import Markup

#: characters a template may render
MAX_OUTPUT = 8000
#: characters (or items) of one string or list a template builds
MAX_VALUE = 10_000
#: characters one render may build in all (concatenations, filters, string methods...)
MAX_BUILT = 200_000
#: attribute reads, calls, intercepted operators and loop turns in one render
MAX_STEPS = 20_000
#: wall time of one render, checked every few steps and after each value built
MAX_SECONDS = 0.25
#: wall time of all the renders of one turn (`turn_allowance`)
MAX_TURN_SECONDS = 1.0
#: steps weighed by a macro call (a call of a macro costs Jinja as much as ~20 steps)
MACRO_WEIGHT = 20
_CHECK_EVERY = 32
#: a value this large built checks the time too (a small one is quick to build)
_CHECK_BUILT = 1024
#: items of a `range(...)`
MAX_RANGE = MAX_VALUE
#: bits of an integer a template computes with `*` or `**`
MAX_INT_BITS = 4096
#: a width or precision in a format (`"%10s"`, `"{:>10}"`, `center(10)`)
MAX_WIDTH = 1000

SIZED = (str, bytes, list, tuple)


class Budget:
    """What is left of one render's steps, built characters and time."""

    __slots__ = ("steps", "check_at", "built", "deadline")

    def __init__(self, deadline: float) -> None:
        self.steps = MAX_STEPS
        self.check_at = MAX_STEPS - _CHECK_EVERY
        self.built = MAX_BUILT
        self.deadline = deadline

    def step(self, weight: int = 1) -> None:
        self.steps -= weight
        if self.steps < self.check_at:
            self.check()

    def check(self) -> None:
        if self.steps < 0:
            raise SecurityError(f"the template takes more than {MAX_STEPS} steps")
        if time.monotonic() > self.deadline:
            raise SecurityError("the template takes too long")
        self.check_at = self.steps - _CHECK_EVERY

    def build(self, size: int) -> None:
        fits(size)
        self.built -= size
        if self.built < 0:
            raise SecurityError(f"the template builds more than {MAX_BUILT} characters")
        if size >= _CHECK_BUILT:  # what built it may have taken a while
            self.check()


class _Outside(Budget):
    """The budget outside a render: nothing may be evaluated (not even while compiling)."""

    __slots__ = ()

    def check(self) -> None:
        raise SecurityError("templates are evaluated by render_template only")

    def step(self, weight: int = 1) -> None:
        self.check()

    def build(self, size: int) -> None:
        self.check()


# _Outside() changes nothing (its methods raise first), so one shared default is safe.
current_budget: ContextVar[Budget] = ContextVar("template_budget", default=_Outside(0.0))  # noqa: B039
running_budget = current_budget.get
#: the end of the current turn's allowance (`turn_allowance`), in time.monotonic()
turn_ends: ContextVar[float | None] = ContextVar("template_turn_ends", default=None)


@contextmanager
def turn_allowance(seconds: float = MAX_TURN_SECONDS) -> Iterator[None]:
    """Renders inside the block share `seconds` of wall time in all (one turn of a call).

    A turn renders many templates; each is bounded, and together they stay well inside the
    webhook's deadline. An allowance already running is kept when it ends sooner.
    """
    ends = time.monotonic() + seconds
    running = turn_ends.get()
    token = turn_ends.set(ends if running is None else min(running, ends))
    try:
        yield
    finally:
        turn_ends.reset(token)


def fits(size: int) -> None:
    if size > MAX_VALUE:
        raise SecurityError(
            f"a value of {size} characters or items is too long (at most {MAX_VALUE})"
        )


def _width(value: Any) -> None:
    if isinstance(value, int) and value > MAX_WIDTH:
        raise SecurityError(f"a width of {value} is too large (at most {MAX_WIDTH})")


# --- what grows: checked before it is computed ------------------------------------------------
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)", re.S)
_DIGITS = re.compile(r"\d+")


def _check_percent(text: str | bytes) -> None:
    """`"%10s" % x`: widths and precisions bounded, none taken from the arguments."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    for match in _PERCENT.finditer(text):
        for number in match.group(1, 2):
            if number == "*":
                raise SecurityError("a width taken from the arguments (*) is not allowed")
            if number is not None:
                _width(int(number) if len(number) <= 4 else MAX_WIDTH + 1)


def _check_spec(spec: str) -> None:
    """`"{:>10}".format(x)`: every number in a format spec is a width or precision."""
    for number in _DIGITS.findall(spec):
        _width(int(number) if len(number) <= 4 else MAX_WIDTH + 1)


def _replaced_size(text: Any, old: Any, new: Any, count: Any = -1) -> int | None:
    kind = str if isinstance(text, str) else bytes if isinstance(text, bytes) else None
    if kind is None or not (isinstance(old, kind) and isinstance(new, kind)):
        return None  # the method itself refuses such arguments
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * (len(new) - len(old))


def check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, SIZED) and isinstance(n, int):
                fits(len(seq) * n)
        ints = isinstance(left, int) and isinstance(right, int)
        if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SecurityError(f"the product is larger than {MAX_INT_BITS} bits")
    elif operator == "**":
        ints = isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1
        if ints and right * math.log2(abs(left)) > MAX_INT_BITS:
            raise SecurityError(f"the power is larger than {MAX_INT_BITS} bits")
    elif operator == "+":
        if isinstance(left, SIZED) and isinstance(right, SIZED):
            fits(len(left) + len(right))
    elif operator == "%" and isinstance(left, str | bytes):
        _check_percent(left)


def check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Methods of strings that build a larger string: checked before they run.

    Returns the arguments to call with (an iterable given to `join` is read once, here).
    """
    text = method.__self__
    name = method.__name__
    first = args[0] if args else None
    if name in ("center", "ljust", "rjust", "zfill"):
        _width(first)
    elif name == "expandtabs":
        tabsize = first if args else kwargs.get("tabsize", 8)
        if isinstance(tabsize, int):
            fits(len(text) + text.count(b"\t" if isinstance(text, bytes) else "\t") * tabsize)
    elif name == "replace" and len(args) >= 2:
        size = _replaced_size(
            text, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count", -1)
        )
        if size is not None:
            fits(size)
    elif name == "join" and args:
        items = list(args[0])
        fits(
            sum(len(x) for x in items if isinstance(x, SIZED)) + len(text) * max(len(items) - 1, 0)
        )
        return (items, *args[1:])
    elif name == "translate":
        raise SecurityError("str.translate is not available in templates")
    return args


class Formatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_spec(format_spec)
        text = super().format_field(value, format_spec)
        running_budget().build(len(text))
        return text


# --- filters: the growing ones checked first, every result measured --------------------------
def _center(value: Any, width: int = 80) -> str:
    _width(width)
    return filters.do_center(value, width)


def _indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    text = str(s)
    fits(
        len(text) + (text.count("\n") + 1) * (width if isinstance(width, int) else len(str(width)))
    )
    return filters.do_indent(text, width, first, blank)


@pass_eval_context
def _replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: int | None = None) -> str:
    size = _replaced_size(str(s), str(old), str(new), -1 if count is None else count)
    if size is not None:
        fits(size)
    return filters.do_replace(eval_ctx, s, old, new, count)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_percent(str(value))
    return filters.do_format(value, *args, **kwargs)


@pass_eval_context
def _join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = list(value)
    if attribute is not None:
        items = list(map(filters.make_attrgetter(eval_ctx.environment, attribute), items))
    texts = [str(item) for item in items]
    fits(sum(map(len, texts)) + len(str(d)) * max(len(texts) - 1, 0))
    return str(d).join(texts)


def _batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
    fits(linecount)
    return filters.do_batch(value, linecount, fill_with)


def _slice(value: Any, slices: int, fill_with: Any = None) -> Any:
    fits(slices)
    return filters.sync_do_slice(value, slices, fill_with)


@pass_environment
def _wordwrap(
    environment: Any,
    s: Any,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    text = str(s)
    if isinstance(width, int) and width > 0:
        breaks = len(text) // width + len(text.split()) + text.count("\n") + 1
        fits(len(text) + breaks * len(wrapstring if wrapstring is not None else "\n"))
    return filters.do_wordwrap(
        environment, text, width, break_long_words, wrapstring, break_on_hyphens
    )


@pass_environment
def _sum(environment: Any, iterable: Iterable[Any], attribute: Any = None, start: Any = 0) -> Any:
    items = list(iterable)
    if attribute is not None:
        items = list(map(filters.make_attrgetter(environment, attribute), items))
    sized = [x for x in (start, *items) if isinstance(x, SIZED)]
    if sized:
        fits(sum(map(len, sized)))
    return sum(items, start)


@pass_eval_context
def _tojson(eval_ctx: Any, value: Any, indent: int | None = None) -> Any:
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= 8):
        raise SecurityError("tojson's indent is at most 8")
    return filters.do_tojson(eval_ctx, value, indent)


def _split(value: Any, separator: Any = " ") -> list[str]:
    """Liquid's `split`: the text cut at each `separator` (words on spaces)."""
    text, sep = str(value), str(separator)
    fits(len(text) + 1)
    return text.split() if sep == " " else list(text) if sep == "" else text.split(sep)


#: a strftime width (`%10000Y`) would build a value of that size before it is measured
_STRFTIME_WIDTH = re.compile(r"%[-_0^#]*\d")
_MAX_DATE_FORMAT = 100


def _date(value: Any, format: Any = "%Y-%m-%d %H:%M") -> Any:
    """Liquid's `date`: "now" (or "today"), a Unix time or an ISO 8601 text, in `format`
    (strftime, UTC unless the text has an offset); anything else is handed back as it is."""
    fmt = str(format)
    if len(fmt) > _MAX_DATE_FORMAT or _STRFTIME_WIDTH.search(fmt):
        raise SecurityError(f"a date format is at most {_MAX_DATE_FORMAT} characters, no widths")
    text = str(value).strip()
    try:
        if text.lower() in ("now", "today"):
            moment = datetime.now(UTC)
        elif re.fullmatch(r"-?\d{1,12}(\.\d+)?", text):
            moment = datetime.fromtimestamp(float(text), UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return value
    return moment.strftime(fmt)


BOUNDED_FILTERS: dict[str, Callable[..., Any]] = {
    "batch": _batch,
    "center": _center,
    "date": _date,
    "split": _split,
    "format": _format,
    "indent": _indent,
    "join": _join,
    "replace": _replace,
    "slice": _slice,
    "sum": _sum,
    "tojson": _tojson,
    "wordwrap": _wordwrap,
}
#: filters of no use in a spoken or texted message whose cost is hard to bound
DROPPED_FILTERS = frozenset({"pprint", "urlize"})
#: filters that hand back a value they were given rather than build one
_PASSING_FILTERS = frozenset({"attr", "d", "default", "first", "last", "max", "min", "random"})


def guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    measure = name not in _PASSING_FILTERS

    @wraps(func)  # keeps jinja_pass_arg: Jinja passes the context as before
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = running_budget()
        budget.step()
        result = func(*args, **kwargs)
        if isinstance(result, Markup):  # escaping is the TwiML renderer's job: plain text here
            result = str(result)
        if measure and isinstance(result, SIZED):
            budget.build(len(result))
        return result

    return guarded


def bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"a range of more than {MAX_RANGE} numbers")
    return numbers


def loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    """What every `{% for %}` iterates: one step per turn."""
    budget = running_budget()
    for item in iterable:
        budget.step()
        yield item


def concat(pieces: Iterable[Any]) -> str:
    """`a ~ b`, and the text a macro, call, filter or `{% set %}` block collects."""
    texts = [piece if type(piece) is str else str(piece) for piece in pieces]
    running_budget().build(sum(map(len, texts)))
    return "".join(texts)
