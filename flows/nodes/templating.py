"""Sandboxed templates for node texts: `{{ caller.number }}`, `{{ vars.NAME }}`...

Jinja2's ImmutableSandboxedEnvironment: a template reads the session and nothing else (no
attribute of Python internals, no filesystem, no imports) and cannot change it (no
`vars.update(...)`, no `list.append`, no `namespace`). Autoescape is off because the output is
spoken, not HTML (the TwiML renderer escapes XML). Undefined names render as empty text,
also through chains such as `{{ nodes.lookup.response.balance }}` when nothing was looked up.

A template runs on the webhook path, so what one render may do is bounded
(`flows.nodes.template_bounds`): the steps it takes (attribute reads, calls, operators, loop
turns), its wall time (and, within `turn_allowance`, that of all the renders of a turn), the
size of every string or list it builds and of its output, the size of the integers it
computes, and the widths it formats. Nothing is evaluated when a template is compiled (no
constant folding: it would run outside these bounds). Over a bound, or on any other error, a
template raises `TemplateFailure`, which runs the flow's fallback.

`render_template(source, context, url=True)` renders a URL: each value the template
substitutes is URL-encoded, the literal text is not (see `_url_values`).
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_environment

from .template_bounds import (
    BOUNDED_FILTERS,
    DROPPED_FILTERS,
    MACRO_WEIGHT,
    MAX_OUTPUT,
    MAX_SECONDS,
    SIZED,
    Budget,
    Formatter,
    bounded_range,
    check_binop,
    check_method,
    concat,
    current_budget,
    guard_filter,
    loop_guard,
    running_budget,
    turn_allowance,
    turn_ends,
)

__all__ = ["MAX_OUTPUT", "TemplateFailure", "parse", "render_template", "turn_allowance"]


class TemplateFailure(Exception):
    """A template cannot be compiled or rendered; `lineno` says where, when known."""

    def __init__(self, message: str, lineno: int | None = None):
        super().__init__(message)
        self.message = message
        self.lineno = lineno


def _url_value(value: Any) -> str:
    return quote(str(value), safe="")


@pass_environment
def _finalize(environment: Any, value: Any) -> Any:
    # Needing the environment, it keeps Jinja from evaluating output at compile time.
    return value


# --- the environment -------------------------------------------------------------------------
_NOT_ALLOWED: dict[type[nodes.Node], str] = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
}
#: blocks whose output is not the template's own (it goes into a value)
_CAPTURING = (nodes.Macro, nodes.CallBlock, nodes.AssignBlock)


def check_tree(tree: nodes.Template) -> None:
    """What the parser accepts but templates may not use: TemplateSyntaxError."""
    kinds: tuple[type[nodes.Node], ...] = (nodes.For, *_NOT_ALLOWED)
    for node in tree.find_all(kinds):
        if isinstance(node, nodes.For):
            if node.recursive:
                raise TemplateSyntaxError(
                    "recursive loops are not available in templates", node.lineno
                )
            continue
        tag = _NOT_ALLOWED[type(node)]
        raise TemplateSyntaxError(f"{{% {tag} %}} is not available in templates", node.lineno)


def _guard_loops(tree: nodes.Template) -> None:
    for loop in list(tree.find_all(nodes.For)):
        loop.iter = nodes.Call(
            nodes.EnvironmentAttribute("loop_guard"),
            [loop.iter],
            [],
            None,
            None,
            lineno=loop.lineno,
        )


def _url_values(tree: nodes.Template) -> None:
    """Each value the template outputs is URL-encoded, except one that starts the URL.

    A value at the very start stands for the URL's base (the node schemas allow a URL such
    as `{{ vars.api }}/customers`); the scheme check of the request still applies to it.
    """
    leading = None
    if tree.body and isinstance(tree.body[0], nodes.Output) and tree.body[0].nodes:
        first = tree.body[0].nodes[0]
        leading = None if isinstance(first, nodes.TemplateData) else first

    def visit(node: nodes.Node) -> None:
        if isinstance(node, nodes.Output):
            node.nodes = [
                child
                if isinstance(child, nodes.TemplateData) or child is leading
                else nodes.Call(
                    nodes.EnvironmentAttribute("url_value"),
                    [child],
                    [],
                    None,
                    None,
                    lineno=child.lineno,
                )
                for child in node.nodes
            ]
        for child in node.iter_child_nodes():
            if not isinstance(child, _CAPTURING):
                visit(child)

    visit(tree)


class _CodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        check_tree(node)
        _guard_loops(node)
        if self.environment.url_values:  # type: ignore[attr-defined]
            _url_values(node)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGenerator
    concat = staticmethod(concat)
    intercepted_binops = frozenset({"+", "*", "**", "%"})
    loop_guard = staticmethod(loop_guard)
    url_value = staticmethod(_url_value)

    def __init__(self, *, url_values: bool = False) -> None:
        super().__init__(
            autoescape=False,
            undefined=ChainableUndefined,
            keep_trailing_newline=False,
            optimized=False,
            finalize=_finalize,
        )
        self.url_values = url_values
        self.globals.pop("lipsum", None)
        self.globals.pop("namespace", None)
        self.globals["range"] = bounded_range
        chosen = {**self.filters, **BOUNDED_FILTERS}
        self.filters = {
            name: guard_filter(name, func)
            for name, func in chosen.items()
            if name not in DROPPED_FILTERS
        }

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = running_budget()
        budget.step()
        check_binop(operator, left, right)
        result = self.binop_table[operator](left, right)
        if isinstance(result, SIZED):
            budget.build(len(result))
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        running_budget().step()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        running_budget().step()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = running_budget()
        budget.step(MACRO_WEIGHT if isinstance(__obj, Macro) else 1)
        builds = isinstance(__obj, types.BuiltinMethodType | types.MethodType) and isinstance(
            getattr(__obj, "__self__", None), str | bytes
        )
        if builds:
            args = check_method(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if builds and isinstance(result, SIZED):
            budget.build(len(result))
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if super().wrap_str_format(value) is None:
            return None
        text: str = value.__self__
        formatter = Formatter(self)
        is_map = value.__name__ == "format_map"

        def formatted(*args: Any, **kwargs: Any) -> str:
            if not is_map:
                return formatter.vformat(text, args, kwargs)
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one argument")
            return formatter.vformat(text, (), args[0])

        return formatted


_env = _Sandbox()
_url_env = _Sandbox(url_values=True)


@lru_cache(maxsize=2048)
def _compile(source: str, url: bool) -> Any:
    """The compiled template, or (message, line) of why it cannot be (kept too)."""
    try:
        return (_url_env if url else _env).from_string(source)
    except TemplateSyntaxError as exc:
        return (f"template error: {exc.message}", exc.lineno)
    except Exception as exc:  # a parser's RecursionError, Python's own limits
        return (f"template error: {exc}", None)


def parse(source: str) -> nodes.Template:
    """The syntax tree of `source` (for validation), or TemplateFailure saying what is wrong."""
    try:
        tree = _env.parse(source)
        check_tree(tree)
    except TemplateSyntaxError as exc:
        raise TemplateFailure(exc.message or str(exc), exc.lineno) from exc
    except Exception as exc:
        raise TemplateFailure(str(exc)) from exc
    return tree


def render_template(source: str, context: dict[str, Any], *, url: bool = False) -> str:
    """`source` rendered with `context`, within the bounds above, or TemplateFailure.

    With `url`, each value the template substitutes is URL-encoded (see `_url_values`).
    """
    if "{" not in source:
        return source
    ends = time.monotonic() + MAX_SECONDS
    turn_over = turn_ends.get()
    token = current_budget.set(Budget(ends if turn_over is None else min(ends, turn_over)))
    pieces = None
    try:
        template = _compile(source, url)
        if isinstance(template, tuple):
            raise TemplateFailure(*template)
        pieces = template.root_render_func(template.new_context(context))
        size = 0
        parts = []
        for piece in pieces:
            size += len(piece)
            if size > MAX_OUTPUT:
                raise TemplateFailure(f"template output longer than {MAX_OUTPUT} characters")
            parts.append(piece)
        return "".join(parts)
    except TemplateFailure:
        raise
    except Exception as exc:  # the sandbox's refusals, and whatever the data makes fail
        raise TemplateFailure(f"template error: {exc}") from exc
    finally:
        if pieces is not None:
            pieces.close()
        current_budget.reset(token)
