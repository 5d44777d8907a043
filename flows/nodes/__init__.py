"""The registry of node types. Each type lives in its own module and registers once."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TypeVar

from .base import NodeType

_REGISTRY: dict[str, type[NodeType]] = {}
_T = TypeVar("_T", bound=type[NodeType])


def register(cls: _T) -> _T:
    """Class decorator: add a node type; a type name can be taken only once."""
    name = getattr(cls, "type", None)
    if not name:
        raise ValueError(f"{cls.__name__} has no `type`")
    if name in _REGISTRY:
        raise ValueError(f"node type {name!r} is already registered by {_REGISTRY[name].__name__}")
    _REGISTRY[name] = cls
    return cls


def unregister(name: str) -> type[NodeType]:
    """Remove the node type called `name` (KeyError when none is): for a type registered
    for a while only, as a test's own type."""
    return _REGISTRY.pop(name)


def _load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in {"base", "common"}:
            importlib.import_module(f"{__name__}.{module.name}")


def get(name: str) -> type[NodeType] | None:
    return _REGISTRY.get(name)


def all_types() -> dict[str, type[NodeType]]:
    return dict(sorted(_REGISTRY.items()))


_load_all()

__all__ = ["NodeType", "register", "unregister", "get", "all_types"]
