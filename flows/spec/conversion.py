"""What a conversion from another system (Twilio Studio, Amazon Connect) reports, per node.

Both converters note what they could not carry over exactly as `ConversionNote`s; the
import turns those notes and the converted definition into one report with a line per
node: converted, approximated, dropped (the step had no effect here and the flow goes
past it) or left as a placeholder, with what to do about it. The same report is printed
by `import_flows`, returned by the import API and shown by the designer.

A `ConversionNote` is a `str` (the whole sentence, as the notes were before they carried
their node), so code and tests that read notes as text keep working.
"""

from __future__ import annotations

from typing import Any, Literal

from .problems import Problem

Kind = Literal["converted", "approximated", "dropped", "placeholder"]
KINDS: tuple[Kind, ...] = ("converted", "approximated", "dropped", "placeholder")


class ConversionNote(str):
    """One line of a conversion report: the sentence, and what it is about."""

    kind: Kind
    #: the callflow node it concerns (None: the whole flow, or a step that became no node)
    node: str | None
    #: the widget's name or the action's identifier in the source system
    source: str | None
    #: the widget or action type there
    source_type: str | None
    #: the sentence without the source prefix, for a report that shows the source apart
    message: str

    def __new__(
        cls,
        text: str,
        *,
        kind: Kind = "approximated",
        node: str | None = None,
        source: str | None = None,
        source_type: str | None = None,
        message: str | None = None,
    ) -> ConversionNote:
        note = super().__new__(cls, text)
        note.kind = kind
        note.node = node
        note.source = source
        note.source_type = source_type
        note.message = text if message is None else message
        return note

    def as_dict(self) -> dict[str, str | None]:
        return {
            "node": self.node,
            "source": self.source,
            "source_type": self.source_type,
            "kind": self.kind,
            "message": self.message,
        }


def sentence(text: str) -> str:
    """A note's text as a sentence on its own (callflow keeps its lower-case c)."""
    return text if text.startswith("callflow") else text[:1].upper() + text[1:]


def as_note(text: str) -> ConversionNote:
    """A note as it is, or a plain sentence as a flow-level approximation."""
    return text if isinstance(text, ConversionNote) else ConversionNote(str(text))


def placeholder_nodes(definition: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(index, node) of every placeholder node of a definition."""
    found = definition.get("nodes")
    if not isinstance(found, list):
        return []
    return [
        (i, node)
        for i, node in enumerate(found)
        if isinstance(node, dict) and node.get("type") == "placeholder"
    ]


def conversion_report(
    definition: dict[str, Any],
    notes: list[str],
    sources: dict[str, tuple[str, str]] | None = None,
) -> list[ConversionNote]:
    """One or more lines per node of a converted definition, in the order of the nodes,
    then the notes about the flow or about steps that became no node.

    A node without a note was converted as it was; a placeholder node is reported as one
    whatever the converter said about it (its `note` says what to do). `sources` gives
    the (name, type) each node came from, when the converter tells."""
    lines = [as_note(n) for n in notes]
    by_node: dict[str, list[ConversionNote]] = {}
    for note in lines:
        if note.node is not None:
            by_node.setdefault(note.node, []).append(note)
    report: list[ConversionNote] = []
    seen: set[str] = set()
    for node in definition.get("nodes") or []:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            continue
        node_id = node["id"]
        seen.add(node_id)
        report += _node_lines(node, by_node.get(node_id, []), (sources or {}).get(node_id))
    report += [n for n in lines if n.node is None or n.node not in seen]
    return report


def _node_lines(
    node: dict[str, Any], notes: list[ConversionNote], origin: tuple[str, str] | None
) -> list[ConversionNote]:
    node_id, type_ = node["id"], str(node.get("type"))
    label = node.get("label") if isinstance(node.get("label"), str) else None
    source = next((n.source for n in notes if n.source), origin[0] if origin else label)
    source_type = next((n.source_type for n in notes if n.source_type), origin and origin[1])
    if type_ == "placeholder":
        own = [n for n in notes if n.kind == "placeholder"]
        if own:  # the converter said what to do
            return own + [n for n in notes if n.kind != "placeholder"]
        config = node["config"] if isinstance(node.get("config"), dict) else {}
        what = str(config.get("note") or "Replace it with a node that does the work.")
        kind_of = str(config.get("source_type") or source_type or "step")
        text = f"{kind_of} became a placeholder (node {node_id!r}): {what}"
        line = ConversionNote(
            text,
            kind="placeholder",
            node=node_id,
            source=str(config.get("source_name") or source or node_id),
            source_type=kind_of,
            message=what,
        )
        return [line, *(n for n in notes if n.kind != "placeholder" and n.message != what)]
    if notes:
        return notes
    text = f"became a {type_} node"
    where = f"{source_type} {source!r}" if source_type else (source or node_id)
    return [
        ConversionNote(
            f"{where}: {text}.",
            kind="converted",
            node=node_id,
            source=source,
            source_type=source_type,
            message=f"Converted: {text}.",
        )
    ]


def placeholder_problems(definition: dict[str, Any]) -> list[Problem]:
    """One error per placeholder node, for a publish that was not told to allow them."""
    problems = []
    for i, node in placeholder_nodes(definition):
        config = node["config"] if isinstance(node.get("config"), dict) else {}
        source = {"studio": "Twilio Studio widget", "connect": "Amazon Connect action"}.get(
            str(config.get("source")), "imported step"
        )
        what = f"{source} {config.get('source_type')!r}" if config.get("source_type") else source
        problems.append(
            Problem(
                f"Node {node.get('id')!r} is a placeholder for the {what}: calls reaching it run "
                "the fallback. Replace it before publishing, or publish anyway with "
                "allow_placeholders (import_flows --allow-placeholders).",
                f"$.nodes[{i}]",
                str(node.get("id")),
            )
        )
    return problems
