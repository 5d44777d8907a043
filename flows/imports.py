"""Importing flow files: callflow/1 documents and Twilio Studio exports, all or nothing.

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
    #: what the file was converted from ("Twilio Studio"), None for a callflow file
    converted_from: str | None = None
    #: what the conversion could not carry over, one sentence each
    notes: list[str] = field(default_factory=list)

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
            "notes": list(self.notes),
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


def _parse_sources(sources: list[ImportSource]) -> tuple[list[_Parsed], list[ImportProblem]]:
    """Each file as a callflow/1 definition: migrated, or converted from Twilio Studio."""
    parsed: list[_Parsed] = []
    failures: list[ImportProblem] = []
    for source in sources:
        try:
            data = parse_definition(source.text, max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        except DefinitionParseError as exc:
            failures.append(ImportProblem(source.name, exc.message, exc.path))
            continue
        if is_studio_export(data):
            try:
                converted = convert_studio(data, source_name=source.name)
            except StudioExportError as exc:
                message = f"Twilio Studio export that cannot be converted: {exc.message}"
                failures.append(ImportProblem(source.name, message, exc.path))
                continue
            parsed.append(
                _Parsed(source.name, converted.definition, "Twilio Studio", converted.notes)
            )
            continue
        try:
            data = migrate(data)
        except UnknownFormat as exc:
            failures.append(ImportProblem(source.name, str(exc), "$.format"))
            continue
        parsed.append(_Parsed(source.name, data))
    return parsed, failures


def flows_import(
    *, sources: list[ImportSource], publish: bool = False, dry_run: bool = False, user=None
) -> ImportReport:
    """Import callflow/1 files (and Twilio Studio exports, converted): all or nothing,
    idempotent.

    Every file is checked first (flows in the same import can use one another as
    sub-flows); any error anywhere raises ImportFailed and the database stays as it was.
    A file identical to the flow's draft changes nothing; with `publish`, a draft that is
    not the current published version is published. `dry_run` reports and writes nothing.
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
    # with `publish`, every flow of the batch is published along with the others
    lookup = definition_lookup_with(batch, published_only=publish)
    checked: list[tuple[_Parsed, list[Problem]]] = []
    for item in parsed:
        # a flow with placeholders imports as a draft: it is published once they are replaced
        strict = publish and not _has_placeholders(item.definition)
        problems = validate(item.definition, publish=strict, flow_lookup=lookup)
        failures += [ImportProblem(item.name, p.message, p.path, p.node) for p in errors(problems)]
        checked.append((item, warnings(problems)))
    if failures:
        raise ImportFailed(failures)
    with transaction.atomic():
        report = ImportReport(
            [_import_one(item, found, publish=publish, user=user) for item, found in checked],
            dry_run,
        )
        if dry_run:
            transaction.set_rollback(True)
    return report


def _has_placeholders(definition: dict[str, Any]) -> bool:
    nodes = definition.get("nodes")
    return isinstance(nodes, list) and any(
        isinstance(n, dict) and n.get("type") == "placeholder" for n in nodes
    )


def _import_one(item: _Parsed, found: list[Problem], *, publish: bool, user) -> ImportedFlow:
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
    if publish and _has_placeholders(definition):
        publish = False
        item.notes.append(
            "Not published: the flow has placeholder nodes (steps with no equivalent); replace "
            "them, then publish."
        )
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
    )
