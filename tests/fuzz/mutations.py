"""What the fuzz tests share: any JSON value, and a document with a few of its values
replaced, removed or added anywhere."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def mutated(draw: Any, document: Any, *, values: Any, keys: Any) -> Any:
    """A copy of `document` with one to four values replaced or removed, or added to an
    object under a key drawn from `keys`, the new values drawn from `values`."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(paths(document)))
        if not path:
            continue
        *parent_path, last = path
        parent = document
        for key in parent_path:
            parent = parent[key]
        change = draw(st.sampled_from(["replace", "delete", "add"]))
        if change == "delete":
            del parent[last]
        elif change == "add" and isinstance(parent, dict):
            parent[draw(keys)] = draw(values)
        else:
            parent[last] = draw(values)
    return document
