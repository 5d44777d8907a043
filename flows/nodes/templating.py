"""Sandboxed templates for node texts: `{{ caller.number }}`, `{{ vars.NAME }}`...

Jinja2's SandboxedEnvironment: a template reads the session and nothing else (no attribute
of Python internals, no filesystem, no imports). Autoescape is off because the output is
spoken, not HTML (the TwiML renderer escapes XML). Undefined names render as empty text,
also through chains such as `{{ nodes.lookup.response.balance }}` when nothing was looked up.
A template that cannot be compiled or rendered raises `TemplateFailure`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_OUTPUT = 8000
_BIG = 10_000


class TemplateFailure(Exception):
    pass


class _Sandbox(SandboxedEnvironment):
    # Multiplication and powers are the cheap ways to build a huge value: check their size.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 100:
            raise SecurityError("exponent too large")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(n, int)
                    and len(seq) * n > _BIG
                ):
                    raise SecurityError("value too large")
        return super().call_binop(context, operator, left, right)


_env = _Sandbox(autoescape=False, undefined=ChainableUndefined, keep_trailing_newline=False)


@lru_cache(maxsize=2048)
def _compile(source: str) -> Any:
    return _env.from_string(source)


def render_template(source: str, context: dict[str, Any]) -> str:
    if "{" not in source:
        return source
    try:
        text = _compile(source).render(context)
    except (
        TemplateError,
        SecurityError,
        ArithmeticError,
        TypeError,
        ValueError,
        RecursionError,
    ) as exc:
        raise TemplateFailure(f"template error: {exc}") from exc
    if len(text) > MAX_OUTPUT:
        raise TemplateFailure("template output too long")
    return text
