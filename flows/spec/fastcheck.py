"""A fast yes/no check for the JSON Schema subset the format uses.

jsonschema builds a validator object per subschema it descends into, which costs about
40 µs a node: too slow for a 5,000-node flow saved on every keystroke in the designer.
`compile_schema()` turns a schema into plain Python closures that answer only "valid or
not"; when the answer is "not", validate() asks jsonschema for the detailed errors.

Only keywords listed in `_COMPILERS` (and annotations) are understood; any other keyword
raises `Unsupported` and the caller uses jsonschema for that schema instead, so an
unknown keyword can never be silently skipped. A property test checks that both agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

#: keywords that never affect validity (Draft 2020-12 asserts `format` only on request)
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "format",
        "deprecated",
    }
)


class Unsupported(ValueError):
    pass


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1.0 is 1 (as jsonschema's `enum` and `const`)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def compile_schema(schema: Any) -> Check:
    """A function telling whether an instance is valid against `schema`. Unsupported."""
    if schema is True or schema == {}:
        return lambda value: True
    if schema is False:
        return lambda value: False
    if not isinstance(schema, dict):
        raise Unsupported(f"not a schema: {schema!r}")
    checks: list[Check] = []
    for keyword in schema:
        if keyword in _ANNOTATIONS:
            continue
        compiler = _COMPILERS.get(keyword)
        if compiler is None:
            raise Unsupported(keyword)
        checks.append(compiler(schema[keyword], schema))
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _type(value: Any, schema: dict) -> Check:
    names = value if isinstance(value, list) else [value]
    tests = [_TYPES[name] for name in names]
    return lambda v: any(test(v) for test in tests)


def _properties(value: dict, schema: dict) -> Check:
    compiled = {name: compile_schema(sub) for name, sub in value.items()}
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else compile_schema(extra)

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():
            sub = compiled.get(key)
            if sub is not None:
                if not sub(item):
                    return False
            elif extra_check is not None and not extra_check(item):
                return False
        return True

    return check


def _additional_properties(value: Any, schema: dict) -> Check:
    if "properties" in schema:
        return lambda v: True  # checked together with `properties`
    sub = compile_schema(value)
    return lambda v: not isinstance(v, dict) or all(sub(item) for item in v.values())


def _required(value: list[str], schema: dict) -> Check:
    names = tuple(value)
    return lambda v: not isinstance(v, dict) or all(name in v for name in names)


def _property_names(value: Any, schema: dict) -> Check:
    sub = compile_schema(value)
    return lambda v: not isinstance(v, dict) or all(sub(key) for key in v)


def _min_properties(value: int, schema: dict) -> Check:
    return lambda v: not isinstance(v, dict) or len(v) >= value


def _max_properties(value: int, schema: dict) -> Check:
    return lambda v: not isinstance(v, dict) or len(v) <= value


def _items(value: Any, schema: dict) -> Check:
    sub = compile_schema(value)
    skip = len(schema.get("prefixItems", ()))
    return lambda v: not isinstance(v, list) or all(sub(item) for item in v[skip:])


def _prefix_items(value: list, schema: dict) -> Check:
    subs = [compile_schema(s) for s in value]
    return lambda v: (
        not isinstance(v, list) or all(sub(item) for sub, item in zip(subs, v, strict=False))
    )


def _min_items(value: int, schema: dict) -> Check:
    return lambda v: not isinstance(v, list) or len(v) >= value


def _max_items(value: int, schema: dict) -> Check:
    return lambda v: not isinstance(v, list) or len(v) <= value


def _unique_items(value: bool, schema: dict) -> Check:
    if not value:
        return lambda v: True

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        return not any(_equal(a, b) for i, a in enumerate(v) for b in v[i + 1 :])

    return check


def _enum(value: list, schema: dict) -> Check:
    return lambda v: any(_equal(v, option) for option in value)


def _const(value: Any, schema: dict) -> Check:
    return lambda v: _equal(v, value)


def _pattern(value: str, schema: dict) -> Check:
    search = re.compile(value).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _min_length(value: int, schema: dict) -> Check:
    return lambda v: not isinstance(v, str) or len(v) >= value


def _max_length(value: int, schema: dict) -> Check:
    return lambda v: not isinstance(v, str) or len(v) <= value


def _minimum(value: float, schema: dict) -> Check:
    return lambda v: not _is_number(v) or v >= value


def _maximum(value: float, schema: dict) -> Check:
    return lambda v: not _is_number(v) or v <= value


def _exclusive_minimum(value: float, schema: dict) -> Check:
    return lambda v: not _is_number(v) or v > value


def _exclusive_maximum(value: float, schema: dict) -> Check:
    return lambda v: not _is_number(v) or v < value


def _any_of(value: list, schema: dict) -> Check:
    subs = [compile_schema(s) for s in value]
    return lambda v: any(sub(v) for sub in subs)


def _one_of(value: list, schema: dict) -> Check:
    subs = [compile_schema(s) for s in value]
    return lambda v: sum(1 for sub in subs if sub(v)) == 1


def _all_of(value: list, schema: dict) -> Check:
    subs = [compile_schema(s) for s in value]
    return lambda v: all(sub(v) for sub in subs)


def _not(value: Any, schema: dict) -> Check:
    sub = compile_schema(value)
    return lambda v: not sub(v)


_COMPILERS: dict[str, Callable[[Any, dict], Check]] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "required": _required,
    "propertyNames": _property_names,
    "minProperties": _min_properties,
    "maxProperties": _max_properties,
    "items": _items,
    "prefixItems": _prefix_items,
    "minItems": _min_items,
    "maxItems": _max_items,
    "uniqueItems": _unique_items,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minLength": _min_length,
    "maxLength": _max_length,
    "minimum": _minimum,
    "maximum": _maximum,
    "exclusiveMinimum": _exclusive_minimum,
    "exclusiveMaximum": _exclusive_maximum,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "allOf": _all_of,
    "not": _not,
}
