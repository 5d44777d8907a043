"""Importing flow files: callflow/1 documents, Twilio Studio and Amazon Connect exports,
and flow test files (callflow-test/1, kept as their flow's tests), all or nothing.

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
from flows.services import (
    FlowServiceError,
    definition_lookup_with,
    draft_write,
    publish_problems,
    version_create,
)
from flows.spec import Problem, errors, parse_definition, validate, warnings
from flows.spec.connect import ConnectExportError, convert_connect, is_connect_export
from flows.spec.conversion import ConversionNote, conversion_report, placeholder_nodes
from flows.spec.flowtests import check_tests, is_test_file
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
class ImportedTests:
    """A flow test file, kept as its flow's tests."""

    slug: str
    file: str
    count: int
    changed: bool

    def as_dict(self) -> dict[str, Any]:
        return {"slug": self.slug, "file": self.file, "count": self.count, "changed": self.changed}


@dataclass
class ImportReport:
    flows: list[ImportedFlow]
    dry_run: bool = False
    tests: list[ImportedTests] = field(default_factory=list)

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


@dataclass(frozen=True)
class _ParsedTests:
    name: str
    slug: str
    tests: list[dict[str, Any]]


def _parse_one(source: ImportSource) -> _Parsed | _ParsedTests | list[ImportProblem]:
    """The file as a callflow/1 definition: migrated, or converted from Twilio Studio or
    Amazon Connect; or as a flow test file; else the problems that stop it."""
    try:
        data = parse_definition(source.text, max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    except DefinitionParseError as exc:
        return [ImportProblem(source.name, exc.message, exc.path)]
    if is_test_file(data):
        problems = check_tests(data)
        if problems:
            return [ImportProblem(source.name, p.message, p.path) for p in problems]
        return _ParsedTests(source.name, data["flow"], data["tests"])
    if is_studio_export(data):
        try:
            studio = convert_studio(data, source_name=source.name)
        except StudioExportError as exc:
            message = f"Twilio Studio export that cannot be converted: {exc.message}"
            return [ImportProblem(source.name, message, exc.path)]
        return _Parsed(source.name, studio.definition, "Twilio Studio", studio.notes)
    if is_connect_export(data):
        try:
            connect = convert_connect(data, source_name=source.name)
        except ConnectExportError as exc:
            message = f"Amazon Connect export that cannot be converted: {exc.message}"
            return [ImportProblem(source.name, message, exc.path)]
        return _Parsed(
            source.name, connect.definition, "Amazon Connect", connect.notes, connect.sources
        )
    try:
        return _Parsed(source.name, migrate(data))
    except UnknownFormat as exc:
        return [ImportProblem(source.name, str(exc), "$.format")]


def _parse_sources(
    sources: list[ImportSource],
) -> tuple[list[_Parsed], list[_ParsedTests], list[ImportProblem]]:
    parsed: list[_Parsed] = []
    tests: list[_ParsedTests] = []
    failures: list[ImportProblem] = []
    for source in sources:
        result = _parse_one(source)
        if isinstance(result, list):
            failures += result
        elif isinstance(result, _ParsedTests):
            tests.append(result)
        else:
            parsed.append(result)
    return parsed, tests, failures


def _tests_by_flow(
    tests: list[_ParsedTests], batch: dict[str, dict[str, Any]], failures: list[ImportProblem]
) -> dict[str, _ParsedTests]:
    """Each test file under its flow, which the import or the database must hold; a
    problem for a file naming an unknown flow, or a flow another file already tests."""
    by_flow: dict[str, _ParsedTests] = {}
    known = set(
        Flow.objects.filter(slug__in={t.slug for t in tests}).values_list("slug", flat=True)
    )
    for item in tests:
        if item.slug in by_flow:
            message = f"The tests of flow {item.slug!r} are also in {by_flow[item.slug].name}."
            failures.append(ImportProblem(item.name, message, "$.flow"))
        elif item.slug not in batch and item.slug not in known:
            message = f"No flow {item.slug!r}: import it with its tests, or before them."
            failures.append(ImportProblem(item.name, message, "$.flow"))
        else:
            by_flow[item.slug] = item
    return by_flow


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
    without `publish` it is imported as a draft with its report. A flow test file becomes
    its flow's tests, and publishing runs them: a flow whose tests fail fails the import.
    `dry_run` reports and writes nothing.
    """
    parsed, test_files, failures = _parse_sources(sources)
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
    tests = _tests_by_flow(test_files, batch, failures)
    if failures:
        raise ImportFailed(failures)
    with transaction.atomic():
        # the tests of flows this import does not hold are kept first; those of its own
        # flows go in with their flow (_import_one), before it is published
        kept = [_keep_tests(item) for slug, item in tests.items() if slug not in batch]
        report = ImportReport(
            [
                _import_one(
                    item,
                    found,
                    publish=publish,
                    held_by=held.get(str(item.definition.get("slug"))),
                    user=user,
                    tests=tests.get(str(item.definition.get("slug"))),
                    kept=kept,
                )
                for item, found in checked
            ],
            dry_run,
            kept,
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


def _keep_tests(item: _ParsedTests, flow: Flow | None = None) -> ImportedTests:
    """The test file's tests as its flow's (unchanged when they are the same)."""
    if flow is None:
        flow = Flow.objects.select_for_update(of=("self",)).get(slug=item.slug)
    changed = canonical_json(flow.tests) != canonical_json(item.tests)
    if changed:
        flow.tests = item.tests
        flow.save(update_fields=["tests", "updated_at"])
    return ImportedTests(item.slug, item.name, len(item.tests), changed)


def _import_one(
    item: _Parsed,
    found: list[Problem],
    *,
    publish: bool,
    held_by: list[str] | None,
    user,
    tests: _ParsedTests | None,
    kept: list[ImportedTests],
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
    if tests is not None:
        kept.append(_keep_tests(tests, flow))
    published = False
    current = flow.published_version
    placeholders = [node["id"] for _, node in placeholder_nodes(definition)]
    held = held_by is not None
    if held:
        publish = False
    if publish and (current is None or current.checksum != definition_checksum(definition)):
        failing = publish_problems(flow, definition)
        if failing:  # the whole import is undone
            where = tests.name if tests is not None else f"{name} (its flow's tests)"
            raise ImportFailed([ImportProblem(where, p.message, p.path) for p in failing])
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
