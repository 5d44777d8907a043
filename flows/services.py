"""Everything that changes flows: create, save drafts, publish, roll back, import, bind numbers.

Views, commands and tasks call these functions and nothing else writes Flow, FlowVersion
or PhoneNumber rows. They are keyword-only, validate before writing, and raise the
exceptions defined here; none makes an HTTP call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from flows.models import (
    Flow,
    FlowVersion,
    PhoneNumber,
    canonical_json,
    definition_checksum,
    validate_e164,
)
from flows.spec import Problem, errors, parse_definition, validate, warnings
from flows.spec.graph import FlowLookup
from flows.spec.migrations import UnknownFormat, migrate
from flows.spec.schema import FORMAT
from flows.spec.studio import StudioExportError, convert_studio, is_studio_export
from flows.spec.validate import DefinitionParseError

# --- exceptions ------------------------------------------------------------------------


class FlowServiceError(Exception):
    """Base of the errors these services raise on purpose."""


class FlowExists(FlowServiceError):
    def __init__(self, slug: str):
        self.slug = slug
        super().__init__(f"A flow with the slug {slug!r} already exists.")


class InvalidDefinition(FlowServiceError):
    """The definition has errors; `problems` lists all problems (warnings too)."""

    def __init__(self, problems: list[Problem], message: str = "The flow definition has errors."):
        self.problems = problems
        super().__init__(message)

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)


class StaleRevision(FlowServiceError):
    """The change was based on an older revision: someone else saved in between."""

    def __init__(self, flow: Flow):
        self.flow = flow
        self.revision = flow.revision
        self.updated_by = flow.updated_by
        self.updated_at = flow.updated_at
        who = flow.updated_by.get_username() if flow.updated_by else "someone"
        super().__init__(
            f"Changed by {who} at {flow.updated_at:%Y-%m-%d %H:%M:%S %Z} (revision {flow.revision}). "
            "Reload, or overwrite their changes."
        )


class VersionNotFound(FlowServiceError):
    def __init__(self, flow: Flow, number: int):
        self.flow = flow
        self.number = number
        super().__init__(f"Flow {flow.slug!r} has no version {number}.")


class InvalidNumber(FlowServiceError):
    pass


class NumberNotBound(FlowServiceError):
    def __init__(self, number: str):
        self.number = number
        super().__init__(f"{number} is not bound to any flow.")


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


# --- lookups ----------------------------------------------------------------------------


def flow_definition_lookup(slug: str, *, published_only: bool = False) -> dict[str, Any] | None:
    """The definition a sub-flow to `slug` runs: its published version, else (unless
    `published_only`, as publish rules want) its draft; None when there is neither."""
    flow = Flow.objects.select_related("published_version").filter(slug=slug).first()
    if flow is None:
        return None
    if flow.published_version is not None:
        return migrate(flow.published_version.definition)
    return None if published_only else flow.definition


def _lookup_with(
    overrides: dict[str, dict[str, Any]], *, published_only: bool = False
) -> FlowLookup:
    """Flows being saved or imported right now win over what is stored."""

    def lookup(slug: str) -> dict[str, Any] | None:
        if slug in overrides:
            return overrides[slug]
        return flow_definition_lookup(slug, published_only=published_only)

    return lookup


def _current_format(definition: Any) -> Any:
    """The definition migrated to callflow/1 when it is in an older format; else as it is
    (an unknown format is then reported by validation, with the other problems)."""
    if not isinstance(definition, dict):
        return definition
    try:
        return migrate(definition)
    except UnknownFormat:
        return definition


def definition_validate(*, definition: Any, publish: bool = False) -> list[Problem]:
    """Every problem of a definition, sub-flows looked up as the publish rules want
    (the definition itself stands for its own slug)."""
    slug = definition.get("slug") if isinstance(definition, dict) else None
    overrides = {slug: definition} if isinstance(slug, str) else {}
    lookup = _lookup_with(overrides, published_only=publish)
    return validate(definition, publish=publish, flow_lookup=lookup)


def _validated(definition: dict[str, Any], *, publish: bool = False) -> list[Problem]:
    """The problems of a definition, raising InvalidDefinition when there are errors."""
    problems = definition_validate(definition=definition, publish=publish)
    if errors(problems):
        raise InvalidDefinition(problems)
    return problems


def empty_definition(*, slug: str, name: str) -> dict[str, Any]:
    """A new flow: one node that says goodbye (the designer's starting point)."""
    return {
        "format": FORMAT,
        "slug": slug,
        "name": name,
        "timezone": "Europe/London",
        "language": "en-GB",
        "start": "goodbye",
        "nodes": [
            {
                "id": "goodbye",
                "type": "hangup",
                "config": {"text": "Thank you for calling. Goodbye."},
                "exits": {},
                "position": {"x": 0, "y": 0},
            }
        ],
    }


# --- drafts -----------------------------------------------------------------------------


def flow_create(*, definition: dict[str, Any], user=None) -> Flow:
    """A new flow whose draft is `definition`. FlowExists, InvalidDefinition."""
    definition = _current_format(definition)
    _validated(definition)
    slug = definition["slug"]
    if Flow.objects.filter(slug=slug).exists():
        raise FlowExists(slug)
    try:
        with transaction.atomic():
            return Flow.objects.create(
                slug=slug,
                name=definition["name"],
                description=definition.get("description", ""),
                definition=definition,
                updated_by=user,
            )
    except IntegrityError as exc:  # created by someone else since the check above
        raise FlowExists(slug) from exc


@dataclass(frozen=True)
class DraftSaveResult:
    flow: Flow
    #: False when the definition was already the draft: nothing was written
    changed: bool
    #: the draft's warnings (errors are raised)
    problems: list[Problem] = field(default_factory=list)


def flow_update_draft(
    *, flow: Flow, definition: dict[str, Any], base_revision: int, user=None, force: bool = False
) -> DraftSaveResult:
    """Save the draft if it is based on the current revision (or `force`).

    StaleRevision when someone saved since `base_revision`; InvalidDefinition on errors or
    when the definition's slug is not the flow's. A save that changes nothing writes nothing.
    """
    definition = _current_format(definition)
    if isinstance(definition, dict) and definition.get("slug") != flow.slug:
        raise InvalidDefinition(
            [
                Problem(
                    f"The slug must stay {flow.slug!r}; create a new flow to change it.", "$.slug"
                )
            ]
        )
    problems = _validated(definition)
    with transaction.atomic():
        locked = (
            Flow.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(pk=flow.pk)
        )
        if base_revision != locked.revision and not force:
            raise StaleRevision(locked)
        if canonical_json(locked.definition) == canonical_json(definition):
            return DraftSaveResult(locked, False, problems)
        _write_draft(locked, definition, user)
    _sync(flow, locked)
    return DraftSaveResult(locked, True, problems)


def _write_draft(flow: Flow, definition: dict[str, Any], user) -> None:
    flow.definition = definition
    flow.name = definition["name"]
    flow.description = definition.get("description", "")
    flow.revision += 1
    flow.updated_by = user
    flow.save(
        update_fields=["definition", "name", "description", "revision", "updated_by", "updated_at"]
    )


# --- versions ---------------------------------------------------------------------------


def flow_publish(
    *, flow: Flow, user=None, note: str = "", base_revision: int | None = None
) -> FlowVersion:
    """Publish the draft as the next version; new calls run it.

    Publishing a draft identical to the current version returns that version unchanged.
    InvalidDefinition (publish rules), StaleRevision when `base_revision` is not current.
    """
    with transaction.atomic():
        locked = (
            Flow.objects.select_for_update(of=("self",))
            .select_related("published_version", "updated_by")
            .get(pk=flow.pk)
        )
        if base_revision is not None and base_revision != locked.revision:
            raise StaleRevision(locked)
        current = locked.published_version
        if current is not None and current.checksum == definition_checksum(locked.definition):
            return current
        _validated(locked.definition, publish=True)
        version = _new_version(locked, locked.definition, user=user, note=note)
    _sync(flow, locked)
    return version


def _new_version(
    flow: Flow, definition: dict[str, Any], *, user, note: str, rolled_back_from=None
) -> FlowVersion:
    number = (flow.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = FlowVersion.objects.create(
        flow=flow,
        number=number,
        definition=definition,
        note=note[:500],
        published_by=user,
        rolled_back_from=rolled_back_from,
    )
    flow.published_version = version
    flow.save(update_fields=["published_version"])
    return version


def flow_rollback(*, flow: Flow, version_number: int, user=None, note: str = "") -> FlowVersion:
    """Publish version N's definition again as a new version; the draft becomes it too."""
    with transaction.atomic():
        locked = Flow.objects.select_for_update().get(pk=flow.pk)
        old = locked.versions.filter(number=version_number).first()
        if old is None:
            raise VersionNotFound(locked, version_number)
        definition = migrate(old.definition)
        note = note or f"Rolled back to version {version_number}"
        version = _new_version(
            locked, definition, user=user, note=note, rolled_back_from=version_number
        )
        if canonical_json(locked.definition) != canonical_json(definition):
            _write_draft(locked, definition, user)
    _sync(flow, locked)
    return version


def flow_export(*, flow: Flow, version_number: int | None = None) -> dict[str, Any]:
    """The draft, or version N, as a callflow/1 document. VersionNotFound."""
    if version_number is None:
        return migrate(flow.definition)
    version = flow.versions.filter(number=version_number).first()
    if version is None:
        raise VersionNotFound(flow, version_number)
    return migrate(version.definition)


def _sync(stale: Flow, fresh: Flow) -> None:
    """Let the caller's Flow instance see what was written through the locked copy."""
    for name in (
        "definition",
        "name",
        "description",
        "revision",
        "updated_by_id",
        "updated_at",
        "published_version_id",
    ):
        setattr(stale, name, getattr(fresh, name))
    stale.published_version = fresh.published_version


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
            data = parse_definition(source.text)
        except DefinitionParseError as exc:
            failures.append(ImportProblem(source.name, exc.message))
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
    lookup = _lookup_with(batch, published_only=publish)
    checked: list[tuple[_Parsed, list[Problem]]] = []
    for item in parsed:
        problems = validate(item.definition, publish=publish, flow_lookup=lookup)
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
        _write_draft(flow, definition, user)
        changed = True
    published = False
    current = flow.published_version
    if publish and (current is None or current.checksum != definition_checksum(definition)):
        current = _new_version(flow, definition, user=user, note=f"Imported from {name}"[:500])
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


# --- phone numbers ----------------------------------------------------------------------


def number_bind(*, number: str, flow: Flow, label: str | None = None) -> PhoneNumber:
    """Calls and texts to `number` (E.164) run `flow`; a bound number moves. InvalidNumber."""
    number = number.strip()
    try:
        validate_e164(number)
    except ValidationError as exc:
        raise InvalidNumber(" ".join(exc.messages)) from exc
    with transaction.atomic():
        bound = PhoneNumber.objects.select_for_update().filter(number=number).first()
        if bound is None:
            return PhoneNumber.objects.create(number=number, flow=flow, label=label or "")
        fields = []
        if bound.flow_id != flow.pk:
            bound.flow = flow
            fields.append("flow")
        if label is not None and label != bound.label:
            bound.label = label
            fields.append("label")
        if fields:  # binding again to the same flow writes nothing
            bound.save(update_fields=[*fields, "updated_at"])
    return bound


def number_unbind(*, number: str) -> None:
    """Calls to `number` no longer run a flow. NumberNotBound."""
    deleted, _ = PhoneNumber.objects.filter(number=number.strip()).delete()
    if not deleted:
        raise NumberNotBound(number)
