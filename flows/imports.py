"""Importing flow files: callflow/1 documents, Twilio Studio and Amazon Connect exports,
all or nothing.

Every file is parsed, migrated or converted, and validated (with the other files of the
import as sub-flows) before anything is written; the writes go through the same draft and
version helpers as flows.services. Keyword-only, errors are FlowServiceError subclasses,
no HTTP calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from flows.models import Flow, canonical_json, definition_checksum
from flows.services import FlowServiceError, definition_lookup_with, draft_write, version_create
from flows.spec import Problem, errors, parse_definition, validate, warnings
from flows.spec.connect import ConnectExportError, convert_connect, is_connect_export
from flows.spec.conversion import ConversionNote, conversion_report, placeholder_nodes
from flows.spec.migrations import UnknownFormat, migrate
from flows.spec.studio import StudioExportError, convert_studio, is_studio_export
from flows.spec.validate import DefinitionParseError

# --- errors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    """One error of an import: which file, where in it, and what is wrong."""

    file: str
    message: str
    path: str = "$"
    node: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"file": self.file, "path": self.path, "node": self.node, "message": self.message}

    def __str__(self) -> str:
        where = f"{self.path} (node {self.node!r})" if self.node else self.path
        return f"{self.file}: {where}: {self.message}"


class ImportFailed(FlowServiceError):
    """Nothing was imported; `errors` lists every problem found in every file."""

    def __init__(self, errors: list[ImportProblem]):
        self.errors = errors
        super().__init__(f"Nothing was imported: {len(errors)} error(s).")


# --- import -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSource:
    #: the file name (or a label such as "definitions[0]") used in messages
    name: str
    text: str | bytes


@dataclass
class ImportedFlow:
    slug: str
    file: str
    created: bool
    changed: bool
    published_version: int | None
    #: true when this import published a new version
    published: bool = False
    warnings: list[Problem] = field(default_factory=list)
    #: what the file was converted from ("Twilio Studio", "Amazon Connect"), None for a
    #: callflow file
    converted_from: str | None = None
    #: what the conversion could not carry over, one sentence each
    notes: list[str] = field(default_factory=list)
    #: per node, what became of it (converted, approximated, dropped, placeholder)
    report: list[ConversionNote] = field(default_factory=list)
    #: the ids of the placeholder nodes: the flow is published only when allowed
    placeholders: list[str] = field(default_factory=list)
    #: publishing was asked for and not done: the flow has placeholders (not allowed), or
    #: enters a sub-flow of this import that was held (`held_by`)
    held: bool = False
    #: the sub-flows of this import, held for their placeholders, that this flow enters
    held_by: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "file": self.file,
            "created": self.created,
            "changed": self.changed,
            "published": self.published,
            "published_version": self.published_version,
            "warnings": [w.as_dict() for w in self.warnings],
            "converted_from": self.converted_from,
            "notes": [str(note) for note in self.notes],
            "report": [line.as_dict() for line in self.report],
            "placeholders": list(self.placeholders),
            "held": self.held,
            "held_by": list(self.held_by),
        }


@dataclass
class ImportReport:
    flows: list[ImportedFlow]
    dry_run: bool = False

    @property
    def warnings(self) -> list[ImportProblem]:
        return [
            ImportProblem(f.file, w.message, w.path, w.node) for f in self.flows for w in f.warnings
        ]


@dataclass(frozen=True)
class _Parsed:
    name: str
    definition: dict[str, Any]
    converted_from: str | None = None
    notes: list[str] = field(default_factory=list)
    #: node id -> (the widget's or action's name, its type), when the converter tells
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)


def _parse_one(source: ImportSource) -> _Parsed | ImportProblem:
    """The file as a callflow/1 definition: migrated, or converted from Twilio Studio or
    Amazon Connect; else the problem that stops it."""
    try:
        data = parse_definition(source.text, max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    except DefinitionParseError as exc:
        return ImportProblem(source.name, exc.message, exc.path)
    if is_studio_export(data):
        try:
            studio = convert_studio(data, source_name=source.name)
        except StudioExportError as exc:
            message = f"Twilio Studio export that cannot be converted: {exc.message}"
            return ImportProblem(source.name, message, exc.path)
        return _Parsed(source.name, studio.definition, "Twilio Studio", studio.notes)
    if is_connect_export(data):
        try:
            connect = convert_connect(data, source_name=source.name)
        except ConnectExportError as exc:
            message = f"Amazon Connect export that cannot be converted: {exc.message}"
            return ImportProblem(source.name, message, exc.path)
        return _Parsed(
            source.name, connect.definition, "Amazon Connect", connect.notes, connect.sources
        )
    try:
        return _Parsed(source.name, migrate(data))
    except UnknownFormat as exc:
        return ImportProblem(source.name, str(exc), "$.format")


def _parse_sources(sources: list[ImportSource]) -> tuple[list[_Parsed], list[ImportProblem]]:
    parsed: list[_Parsed] = []
    failures: list[ImportProblem] = []
    for source in sources:
        result = _parse_one(source)
        if isinstance(result, ImportProblem):
            failures.append(result)
        else:
            parsed.append(result)
    return parsed, failures


def flows_import(
    *,
    sources: list[ImportSource],
    publish: bool = False,
    dry_run: bool = False,
    allow_placeholders: bool = False,
    user=None,
) -> ImportReport:
    """Import callflow/1 files (and Twilio Studio and Amazon Connect exports, converted):
    all or nothing, idempotent.

    Every file is checked first (flows in the same import can use one another as
    sub-flows); any error anywhere raises ImportFailed and the database stays as it was.
    A file identical to the flow's draft changes nothing; with `publish`, a draft that is
    not the current published version is published. A flow with placeholder nodes (steps
    the conversion could not carry over) is published only with `allow_placeholders`;
    without `publish` it is imported as a draft with its report. `dry_run` reports and
    writes nothing.
    """
    parsed, failures = _parse_sources(sources)
    batch: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    for item in parsed:
        name, data = item.name, item.definition
        slug = data.get("slug")
        if not isinstance(slug, str):
            continue  # validate() reports it
        if slug in files:
            failures.append(
                ImportProblem(name, f"The slug {slug!r} is also used by {files[slug]}.", "$.slug")
            )
        else:
            files[slug] = name
            batch[slug] = data
    # with `publish`, every flow of the batch is published along with the others, but a flow
    # with placeholders imports as a draft (published once they are replaced, or when asked:
    # `allow_placeholders`), and so does a flow entering it, which would fail there
    held = _held(batch) if publish and not allow_placeholders else {}
    lookup = definition_lookup_with(batch, published_only=publish)
    checked: list[tuple[_Parsed, list[Problem]]] = []
    for item in parsed:
        slug = item.definition.get("slug")
        strict = publish and not (isinstance(slug, str) and slug in held)
        problems = validate(item.definition, publish=strict, flow_lookup=lookup)
        failures += [ImportProblem(item.name, p.message, p.path, p.node) for p in errors(problems)]
        checked.append((item, warnings(problems)))
    if failures:
        raise ImportFailed(failures)
    with transaction.atomic():
        report = ImportReport(
            [
                _import_one(
                    item,
                    found,
                    publish=publish,
                    held_by=held.get(str(item.definition.get("slug"))),
                    user=user,
                )
                for item, found in checked
            ],
            dry_run,
        )
        if dry_run:
            transaction.set_rollback(True)
    return report


def _held(batch: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Slug -> the held sub-flows it enters ([] for a flow held for its own placeholders),
    for each flow of the batch that is imported as a draft rather than published."""
    held: dict[str, list[str]] = {
        slug: [] for slug, definition in batch.items() if placeholder_nodes(definition)
    }
    grown = True
    while grown:
        grown = False
        for slug, definition in batch.items():
            if slug in held:
                continue
            entered = sorted(_subflows(definition) & held.keys())
            if entered:
                held[slug], grown = entered, True
    return held


def _subflows(definition: dict[str, Any]) -> set[str]:
    nodes = definition.get("nodes")
    return {
        node["config"]["flow"]
        for node in (nodes if isinstance(nodes, list) else [])
        if isinstance(node, dict)
        and node.get("type") == "subflow"
        and isinstance(node.get("config"), dict)
        and isinstance(node["config"].get("flow"), str)
    }


def _import_one(
    item: _Parsed, found: list[Problem], *, publish: bool, held_by: list[str] | None, user
) -> ImportedFlow:
    name, definition = item.name, item.definition
    flow = (
        Flow.objects.select_for_update(of=("self",))
        .select_related("published_version")
        .filter(slug=definition["slug"])
        .first()
    )
    created = changed = False
    if flow is None:
        flow = Flow.objects.create(
            slug=definition["slug"],
            name=definition["name"],
            description=definition.get("description", ""),
            definition=definition,
            updated_by=user,
        )
        created = changed = True
    elif canonical_json(flow.definition) != canonical_json(definition):
        draft_write(flow, definition, user)
        changed = True
    published = False
    current = flow.published_version
    placeholders = [node["id"] for _, node in placeholder_nodes(definition)]
    held = held_by is not None
    if held:
        publish = False
    if publish and (current is None or current.checksum != definition_checksum(definition)):
        current = version_create(flow, definition, user=user, note=f"Imported from {name}"[:500])
        published = True
    return ImportedFlow(
        slug=flow.slug,
        file=name,
        created=created,
        changed=changed,
        published_version=current.number if current else None,
        published=published,
        warnings=found,
        converted_from=item.converted_from,
        notes=item.notes,
        report=(
            conversion_report(definition, item.notes, item.sources) if item.converted_from else []
        ),
        placeholders=placeholders,
        held=held,
        held_by=held_by or [],
    )
