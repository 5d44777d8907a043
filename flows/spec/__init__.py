"""The callflow/1 format: its JSON Schema, validation, graph checks and format migrations."""

from .problems import Problem
from .schema import FORMAT, format_schema
from .validate import DefinitionParseError, errors, parse_definition, validate, warnings

__all__ = [
    "FORMAT",
    "DefinitionParseError",
    "Problem",
    "errors",
    "format_schema",
    "parse_definition",
    "validate",
    "warnings",
]
