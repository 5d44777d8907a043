"""Studio's Liquid templates as callflow templates (the Jinja-like ones of flows.nodes.templating).

`LiquidConverter(resolve).convert(text)` turns `{{ widgets.menu.Digits | upcase }}` into
`{{ nodes.menu.digits | upper }}`: every variable goes through `resolve` (a Studio path to a
callflow path, or None), every filter real flows use has its callflow spelling, and the tags
(`if`/`elsif`/`unless`/`case`/`assign`/`capture`/`for`, comments, raw) become Jinja's. What has
no equivalent is said in `notes`, one sentence each, and:

- a variable callflow does not have is kept as it was (it renders as empty text);
- a filter without an equivalent is left out (the value shows unfiltered);
- a tag without an equivalent (`break`, `cycle`, `include`...) is left out.

A result that still would not compile (unbalanced tags in the export) falls back to the
variables alone, the tags left out, so an import never carries a template that fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flows.nodes.templating import TemplateFailure, parse

Resolver = Callable[[str], "str | None"]

_MARKUP = re.compile(r"(\{\{-?.*?-?\}\}|\{%-?.*?-?%\})", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'[^']*'|"[^"]*")
    | (?P<range>\(\s*[^()\s]+\s*\.\.\s*[^()\s]+\s*\))
    | (?P<num>-?\d+(?:\.\d+)?(?![\w.]))
    | (?P<op>==|!=|<>|<=|>=|<|>)
    | (?P<punct>[|:,=])
    | (?P<path>[A-Za-z_][\w-]*\??(?:\.[\w-]+\??|\[\s*(?:\d+|'[^']*'|"[^"]*")\s*\])*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"true": "true", "false": "false", "nil": "none", "null": "none"}
_EMPTY = {"empty", "blank"}
_FORLOOP = {
    "index": "index",
    "index0": "index0",
    "first": "first",
    "last": "last",
    "length": "length",
    "rindex": "revindex",
    "rindex0": "revindex0",
}
#: Liquid filter -> Jinja filter, when only the name differs
_RENAMED = {
    "upcase": "upper",
    "downcase": "lower",
    "capitalize": "capitalize",
    "size": "length",
    "strip": "trim",
    "first": "first",
    "last": "last",
    "join": "join",
    "abs": "abs",
    "url_encode": "urlencode",
    "strip_html": "striptags",
    "sort": "sort",
    "split": "split",
    "date": "date",
    "escape": "string",
}
_ARITHMETIC = {"plus": "+", "minus": "-", "times": "*", "divided_by": "/", "modulo": "%"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Unsupported(Exception):
    """Something of the expression has no callflow equivalent (the message says what)."""


@dataclass
class _Scope:
    #: names the template binds itself (assign, capture, for)
    local: set[str] = field(default_factory=set)
    #: the open blocks: "if", "unless", "case", "for", "capture"
    blocks: list[str] = field(default_factory=list)
    #: per open case: [subject, whens seen]
    cases: list[list] = field(default_factory=list)


class LiquidConverter:
    def __init__(self, resolve: Resolver):
        self.resolve = resolve
        self.notes: list[str] = []
        self.kept: list[str] = []

    # --- the whole text ---------------------------------------------------------------------
    def convert(self, text: str) -> str:
        """`text` as a callflow template; `notes` and `kept` say what did not map."""
        self.notes, self.kept = [], []
        if "{" not in text:
            return text
        converted = self._convert(text, tags=True)
        if not self._compiles(converted):
            self.notes, self.kept = [], []
            converted = self._convert(text, tags=False)
            self.notes.append(
                "its Liquid tags do not pair up (an if without endif...): they were left out, "
                "only the values were converted"
            )
        if self.kept:
            self.notes.insert(
                0,
                f"{', '.join(dict.fromkeys(self.kept))} has no callflow equivalent and was kept "
                "as written (it renders as empty text)",
            )
        return converted

    @staticmethod
    def _compiles(text: str) -> bool:
        try:
            parse(text)
        except TemplateFailure:
            return False
        return True

    def _convert(self, text: str, *, tags: bool) -> str:
        scope = _Scope()
        out: list[str] = []
        pieces = _MARKUP.split(text)
        skipping: str | None = None  # inside {% comment %} or {% raw %}
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                if skipping == "comment":
                    continue
                out.append(piece if skipping == "raw" else piece.replace("{#", "{{ '{#' }}"))
                continue
            if piece.startswith("{%"):
                inner = piece[2:-2].strip("-").strip()
                word = inner.split(None, 1)[0] if inner else ""
                if skipping:
                    if word == f"end{skipping}":
                        out.append("{% endraw %}" if skipping == "raw" else "")
                        skipping = None
                    elif skipping == "raw":
                        out.append(piece)
                    continue
                if word in ("comment", "raw"):
                    skipping = word
                    out.append("{% raw %}" if word == "raw" else "")
                    continue
                out.append(self._tag(inner, scope, piece) if tags else "")
            elif skipping == "comment":
                continue
            elif skipping == "raw":
                out.append(piece)
            else:
                out.append(self._output(piece, scope))
        if skipping == "raw":
            out.append("{% endraw %}")
        return "".join(out)

    # --- {{ output }} -----------------------------------------------------------------------
    def _output(self, piece: str, scope: _Scope) -> str:
        left = "{{-" if piece.startswith("{{-") else "{{"
        right = "-}}" if piece.endswith("-}}") and len(piece) > 5 else "}}"
        source = piece[len(left) : -len(right)].strip()
        if not source:
            return ""
        try:
            return f"{left} {self.expression(source, scope)} {right}"
        except _Unsupported as exc:
            self.notes.append(f"{piece.strip()} was left out: {exc}")
            return ""

    def expression(self, source: str, scope: _Scope | None = None) -> str:
        """A value with its filters (`a.b | upcase | default: 'x'`) in Jinja."""
        scope = scope or _Scope()
        segments = _split_top(_tokens(source), "|")
        value = self._value(segments[0], scope)
        for segment in segments[1:]:
            value = self._filter(value, segment, scope)
        return value

    def _value(self, tokens: list[tuple[str, str]], scope: _Scope) -> str:
        if len(tokens) != 1:
            raise _Unsupported(f"{' '.join(t for _, t in tokens) or 'nothing'} is not one value")
        kind, text = tokens[0]
        if kind == "str":
            return json.dumps(text[1:-1])
        if kind == "num":
            return text
        if kind == "range":
            low, high = (part.strip() for part in text[1:-1].split(".."))
            return f"range({self._value(_tokens(low), scope)} | int, ({self._value(_tokens(high), scope)} | int) + 1)"
        if kind == "path":
            return self._path(text, scope)
        raise _Unsupported(f"{text!r} is not a value")

    def _path(self, text: str, scope: _Scope) -> str:
        if text in _KEYWORDS:
            return _KEYWORDS[text]
        if text in _EMPTY:
            return '""'
        parts = _parts(text)
        if parts[0] == "forloop" and len(parts) == 2 and parts[1] in _FORLOOP:
            return f"loop.{_FORLOOP[parts[1]]}"
        if parts[0] in scope.local:
            return _jinja_path(parts)
        resolved = self.resolve(".".join(parts))
        if resolved is not None:
            return _jinja_path(resolved.split("."))
        self.kept.append("{{" + text + "}}")
        if all(_IDENT.match(p) or p.isdigit() for p in parts):
            return _jinja_path(parts)
        return '""'

    def _filter(self, value: str, tokens: list[tuple[str, str]], scope: _Scope) -> str:
        if not tokens or tokens[0][0] != "path":
            raise _Unsupported("a filter without a name")
        name = tokens[0][1]
        rest = tokens[1:]
        if rest and rest[0] == ("punct", ":"):
            rest = rest[1:]
        args = [self._value(arg, scope) for arg in _split_top(rest, ",") if arg]
        built = _filter_call(name, value, args)
        if built is None:
            self.notes.append(
                f"the Liquid filter {name!r} has no callflow equivalent and was left out"
            )
            return value
        return built

    # --- {% tags %} -------------------------------------------------------------------------
    def _tag(self, inner: str, scope: _Scope, piece: str) -> str:
        word, _, rest = inner.partition(" ")
        rest = rest.strip()
        try:
            handler = getattr(self, f"_tag_{word}", None)
            if handler is None:
                raise _Unsupported(f"the Liquid tag {word!r} has no callflow equivalent")
            return handler(rest, scope)
        except _Unsupported as exc:
            self.notes.append(f"{piece.strip()} was left out: {exc}")
            return ""

    def _tag_if(self, rest: str, scope: _Scope) -> str:
        scope.blocks.append("if")
        return "{% if " + self.condition(rest, scope) + " %}"

    def _tag_unless(self, rest: str, scope: _Scope) -> str:
        scope.blocks.append("unless")
        return "{% if not (" + self.condition(rest, scope) + ") %}"

    def _tag_elsif(self, rest: str, scope: _Scope) -> str:
        return "{% elif " + self.condition(rest, scope) + " %}"

    def _tag_else(self, rest: str, scope: _Scope) -> str:
        if scope.blocks and scope.blocks[-1] == "case":
            if scope.cases[-1][1]:
                return "{% else %}"
            scope.cases[-1][1] = 1
            return "{% if true %}"
        return "{% else %}"

    def _end(self, kind: str, scope: _Scope, closing: str) -> str:
        if not scope.blocks or scope.blocks[-1] != kind:
            raise _Unsupported(f"there is no open {kind}")
        scope.blocks.pop()
        return closing

    def _tag_endif(self, rest: str, scope: _Scope) -> str:
        return self._end("if", scope, "{% endif %}")

    def _tag_endunless(self, rest: str, scope: _Scope) -> str:
        return self._end("unless", scope, "{% endif %}")

    def _tag_case(self, rest: str, scope: _Scope) -> str:
        scope.blocks.append("case")
        scope.cases.append([self.expression(rest, scope), 0])
        return ""

    def _tag_when(self, rest: str, scope: _Scope) -> str:
        if not scope.cases or scope.blocks[-1:] != ["case"]:
            raise _Unsupported("`when` outside a case")
        subject, seen = scope.cases[-1]
        values = [
            self._value(v, scope) for v in _split_top(_tokens(rest.replace(" or ", ",")), ",") if v
        ]
        test = " or ".join(f"({subject}) == {v}" for v in values) or "false"
        scope.cases[-1][1] = seen + 1
        return ("{% elif " if seen else "{% if ") + test + " %}"

    def _tag_endcase(self, rest: str, scope: _Scope) -> str:
        seen = scope.cases[-1][1] if scope.cases and scope.blocks[-1:] == ["case"] else 0
        closing = self._end("case", scope, "{% endif %}" if seen else "")
        scope.cases.pop()
        return closing

    def _tag_assign(self, rest: str, scope: _Scope) -> str:
        name, sep, source = rest.partition("=")
        name = name.strip()
        if not sep or not _IDENT.match(name):
            raise _Unsupported("it assigns nothing callflow can name")
        value = self.expression(source.strip(), scope)
        scope.local.add(name)
        return "{% set " + name + " = " + value + " %}"

    def _tag_capture(self, rest: str, scope: _Scope) -> str:
        name = rest.strip().strip("'\"")
        if not _IDENT.match(name):
            raise _Unsupported("it captures into nothing callflow can name")
        scope.local.add(name)
        scope.blocks.append("capture")
        return "{% set " + name + " %}"

    def _tag_endcapture(self, rest: str, scope: _Scope) -> str:
        return self._end("capture", scope, "{% endset %}")

    def _tag_for(self, rest: str, scope: _Scope) -> str:
        found = re.fullmatch(r"([A-Za-z_]\w*)\s+in\s+(\S+)(.*)", rest, re.DOTALL)
        if not found:
            raise _Unsupported("a loop callflow cannot read")
        name, source, options = found.groups()
        items = self._value(_tokens(source), scope)
        limit = re.search(r"limit\s*:\s*(\d+)", options)
        offset = re.search(r"offset\s*:\s*(\d+)", options)
        start = int(offset.group(1)) if offset else 0
        if "reversed" in options.split():
            items = f"({items} | reverse | list)"
        if limit or offset:
            end = start + int(limit.group(1)) if limit else ""
            items = f"({items} | list)[{start}:{end}]"
        scope.local.add(name)
        scope.blocks.append("for")
        return "{% for " + name + " in " + items + " %}"

    def _tag_endfor(self, rest: str, scope: _Scope) -> str:
        return self._end("for", scope, "{% endfor %}")

    # --- conditions -------------------------------------------------------------------------
    def condition(self, source: str, scope: _Scope) -> str:
        """`a == 'x' and b contains 'y'` in Jinja."""
        tokens = _tokens(source)
        out: list[str] = []
        clause: list[tuple[str, str]] = []
        for token in [*tokens, ("path", "and")]:
            if token[0] == "path" and token[1] in ("and", "or"):
                if not clause:
                    raise _Unsupported(f"the condition {source!r} cannot be read")
                out.append(self._comparison(clause, scope))
                out.append(token[1])
                clause = []
            else:
                clause.append(token)
        return " ".join(out[:-1])

    def _comparison(self, tokens: list[tuple[str, str]], scope: _Scope) -> str:
        ops = [i for i, t in enumerate(tokens) if t[0] == "op" or t == ("path", "contains")]
        if not ops:
            return f"({self._value(tokens, scope)})"
        i = ops[0]
        left_tokens, op, right_tokens = tokens[:i], tokens[i][1], tokens[i + 1 :]
        left, right = self._value(left_tokens, scope), self._value(right_tokens, scope)
        if op == "contains":
            return f"(({right}) | string) in (({left}) | string)"
        op = "!=" if op == "<>" else op
        for side, other in ((right_tokens, left), (left_tokens, right)):
            word = side[0][1] if len(side) == 1 and side[0][0] == "path" else ""
            if op in ("==", "!=") and word in _EMPTY:
                return f"(not {other})" if op == "==" else f"({other} and true)"
            if op in ("==", "!=") and word in ("nil", "null"):
                test = f"({other} is none or {other} is undefined)"
                return test if op == "==" else f"(not {test})"
        if op in ("<", ">", "<=", ">=") and "num" in (left_tokens[0][0], right_tokens[0][0]):
            return f"(({left}) | float) {op} (({right}) | float)"
        return f"{left} {op} {right}"


# --- helpers ------------------------------------------------------------------------------
def _tokens(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    source = source.rstrip()
    while position < len(source):
        found = _TOKEN.match(source, position)
        if not found or found.end() == position:
            raise _Unsupported(
                f"{source.strip()!r} cannot be read from {source[position:].strip()!r}"
            )
        kind = found.lastgroup or ""
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


def _split_top(tokens: list[tuple[str, str]], separator: str) -> list[list[tuple[str, str]]]:
    groups: list[list[tuple[str, str]]] = [[]]
    for token in tokens:
        if token == ("punct", separator):
            groups.append([])
        else:
            groups[-1].append(token)
    return groups


def _parts(path: str) -> list[str]:
    """`a.b[0]['c-d']` -> ["a", "b", "0", "c-d"]."""
    parts: list[str] = []
    for name, index in re.findall(r"([\w-]+\??)|\[\s*(\d+|'[^']*'|\"[^\"]*\")\s*\]", path):
        parts.append(name.rstrip("?") if name else index.strip("'\""))
    return parts


#: names a template would read as a method of the value (`vars.items`) rather than its key
_METHOD_NAMES = frozenset(dir(dict)) | frozenset(dir(list)) | frozenset(dir(str))


def _jinja_path(parts: list[str]) -> str:
    text = parts[0]
    for part in parts[1:]:
        if part.isdigit():
            text += f"[{part}]"
        elif _IDENT.match(part) and part not in _METHOD_NAMES:
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _filter_call(name: str, value: str, args: list[str]) -> str | None:
    """The Jinja spelling of Liquid's `value | name: args`, or None when there is none."""
    if name in _RENAMED:
        call = _RENAMED[name] + (f"({', '.join(args)})" if args else "")
        return f"({value} | {call})"
    one = args[0] if args else '""'
    if name == "default":
        return f"({value} | default({one}, true))"
    if name == "append":
        return f"({value} ~ {one})"
    if name == "prepend":
        return f"({one} ~ {value})"
    if name in ("replace", "replace_first") and len(args) >= 1:
        new = args[1] if len(args) > 1 else '""'
        count = ", 1" if name == "replace_first" else ""
        return f"({value} | string | replace({one}, {new}{count}))"
    if name in ("remove", "remove_first"):
        count = ", 1" if name == "remove_first" else ""
        return f'({value} | string | replace({one}, ""{count}))'
    if name == "truncate":
        end = args[1] if len(args) > 1 else '"..."'
        return f"({value} | string | truncate({args[0] if args else 50}, true, {end}, 0))"
    if name in ("lstrip", "rstrip"):
        return f"(({value} | string).{name}())"
    if name in _ARITHMETIC:
        cast = "float" if "." in one or name == "divided_by" and "." in one else "int"
        op = "//" if name == "divided_by" and cast == "int" else _ARITHMETIC[name]
        return f"(({value} | {cast}) {op} {one})"
    if name in ("round", "ceil", "floor"):
        method = {"round": "common"}.get(name, name)
        digits = args[0] if args and name == "round" else "0"
        result = f"({value} | float | round({digits}, {json.dumps(method)}))"
        return f"({result} | int)" if digits == "0" else result
    if name == "reverse":
        return f"({value} | reverse | list)"
    if name == "uniq":
        return f"({value} | unique | list)"
    if name == "compact":
        return f"({value} | select | list)"
    if name == "map" and args:
        return f"({value} | map(attribute={one}) | list)"
    if name == "newline_to_br":
        return f'({value} | string | replace("\\n", "<br />"))'
    if name == "slice" and args:
        length = args[1] if len(args) > 1 else "1"
        return f"({value} | string)[{one}:{one} + {length}]"
    return None
