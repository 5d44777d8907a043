"""Everything that changes a flow: create, save drafts, publish, roll back, export.

Views, commands and tasks call these functions (and flows.imports, flows.numbers,
flows.drafts) and nothing else writes Flow, FlowVersion, KeptDraft or PhoneNumber rows.
They are keyword-only, validate before writing, and raise the exceptions defined here
(FlowServiceError is the base the other modules' errors share too); none makes an HTTP call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from flows.models import Flow, FlowVersion, KeptDraft, canonical_json, definition_checksum
from flows.spec import Problem, errors, flowtests, validate
from flows.spec.conversion import placeholder_problems
from flows.spec.graph import FlowLookup
from flows.spec.migrations import UnknownFormat, migrate
from flows.spec.schema import FORMAT

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


def definition_lookup_with(
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
    lookup = definition_lookup_with(overrides, published_only=publish)
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
        draft_write(locked, definition, user)
    _sync(flow, locked)
    return DraftSaveResult(locked, True, problems)


def draft_write(flow: Flow, definition: dict[str, Any], user) -> None:
    """Store a validated definition as the flow's draft (the flow locked by the caller's
    transaction); the revision moves on by one."""
    flow.definition = definition
    flow.name = definition["name"]
    flow.description = definition.get("description", "")
    flow.revision += 1
    flow.updated_by = user
    flow.save(
        update_fields=["definition", "name", "description", "revision", "updated_by", "updated_at"]
    )


# --- flow tests --------------------------------------------------------------------------------


def tests_document(flow: Flow) -> dict[str, Any]:
    """The flow's tests as a callflow-test/1 file."""
    return {"format": flowtests.FORMAT, "flow": flow.slug, "tests": flow.tests}


def tests_checked(
    slug: str, data: Any, *, action: str = "nothing was saved"
) -> list[dict[str, Any]]:
    """The tests in `data`, a callflow-test/1 file of flow `slug` or `{"tests": [...]}`;
    InvalidDefinition naming each problem's place."""
    tests: Any = None
    if isinstance(data, dict) and "format" in data:
        problems = flowtests.check_tests(data)
        if not problems and data["flow"] != slug:
            problems = [Problem(f"This file tests flow {data['flow']!r}, not {slug!r}.", "$.flow")]
        tests = data.get("tests")
    elif isinstance(data, dict) and list(data) == ["tests"]:
        problems = flowtests.check_test_list(data["tests"])
        tests = data["tests"]
    else:
        problems = [Problem('Send a callflow-test/1 file, or {"tests": [...]}.')]
    if problems:
        raise InvalidDefinition(problems, f"The flow tests have errors: {action}.")
    return tests


def flow_tests_write(*, flow: Flow, data: Any) -> list[dict[str, Any]]:
    """Keep the tests in `data` (tests_checked) as the flow's; publishing runs them."""
    tests = tests_checked(flow.slug, data)
    flow.tests = tests
    flow.save(update_fields=["tests", "updated_at"])
    return tests


#: What a draft must also pass to be published, besides the publish rules: each check gets
#: the flow and the definition to publish and returns its problems. The runtime adds the
#: flow's tests (ivr_runtime.apps): the flow definition knows nothing of running flows.
PUBLISH_CHECKS: list[Callable[[Flow, dict[str, Any]], list[Problem]]] = []


def publish_problems(flow: Flow, definition: dict[str, Any]) -> list[Problem]:
    """The problems the publish checks find in `definition` as `flow`'s next version."""
    return [problem for check in PUBLISH_CHECKS for problem in check(flow, definition)]


def _tested(flow: Flow) -> str:
    """What a flow's publish checks depend on: its draft and its tests."""
    return canonical_json({"definition": flow.definition, "tests": flow.tests})


# --- versions ---------------------------------------------------------------------------


def flow_publish(
    *,
    flow: Flow,
    user=None,
    note: str = "",
    base_revision: int | None = None,
    allow_placeholders: bool = False,
) -> FlowVersion:
    """Publish the draft as the next version; new calls run it.

    Publishing a draft identical to the current version returns that version unchanged.
    InvalidDefinition (publish rules, placeholder nodes left by an import unless
    `allow_placeholders`, or a failing flow test), StaleRevision when `base_revision` is not
    current. The flow's tests run before the flow is locked (on SQLite the lock holds every
    writer, live calls too), and again inside the lock only if the draft or its tests
    changed in between.
    """
    fresh = Flow.objects.select_related("published_version").get(pk=flow.pk)
    live = fresh.published_version
    tested = None
    if live is None or live.checksum != definition_checksum(fresh.definition):
        tested = (_tested(fresh), publish_problems(fresh, fresh.definition))
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
        problems = _validated(locked.definition, publish=True)
        if not allow_placeholders and (held := placeholder_problems(locked.definition)):
            raise InvalidDefinition(
                problems + held,
                f"The draft has {len(held)} placeholder node(s) left by an import: replace "
                "them, or publish anyway with allow_placeholders.",
            )
        failing = tested[1] if tested is not None and tested[0] == _tested(locked) else None
        if failing is None:
            failing = publish_problems(locked, locked.definition)
        if failing:
            raise InvalidDefinition(
                problems + failing,
                f"{len(failing)} of the flow's {len(locked.tests)} test(s) fail: "
                "nothing was published.",
            )
        version = version_create(locked, locked.definition, user=user, note=note)
    _sync(flow, locked)
    return version


def version_create(
    flow: Flow, definition: dict[str, Any], *, user, note: str, rolled_back_from=None
) -> FlowVersion:
    """The flow's next version of a validated definition, published (the flow locked by the
    caller's transaction)."""
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
    """Publish version N's definition again as a new version; the draft becomes it too.

    A draft with unpublished work is kept first (a KeptDraft linked to the new version by
    `rollback_version`), so it can be restored. VersionNotFound.
    """
    with transaction.atomic():
        locked = (
            Flow.objects.select_for_update(of=("self",))
            .select_related("published_version", "updated_by")
            .get(pk=flow.pk)
        )
        old = locked.versions.filter(number=version_number).first()
        if old is None:
            raise VersionNotFound(locked, version_number)
        definition = migrate(old.definition)
        unpublished = draft_is_unpublished_work(locked, replacement=definition)
        note = note or f"Rolled back to version {version_number}"
        version = version_create(
            locked, definition, user=user, note=note, rolled_back_from=version_number
        )
        if unpublished:
            draft_keep(
                locked, user=user, reason=KeptDraft.Reason.ROLLBACK, rollback_version=version
            )
        if canonical_json(locked.definition) != canonical_json(definition):
            draft_write(locked, definition, user)
    _sync(flow, locked)
    return version


def draft_is_unpublished_work(flow: Flow, *, replacement: dict[str, Any]) -> bool:
    """Whether replacing the flow's draft by `replacement` would lose work: the draft differs
    from both the published version and the replacement."""
    if canonical_json(flow.definition) == canonical_json(replacement):
        return False
    published = flow.published_version
    return published is None or published.checksum != definition_checksum(flow.definition)


def draft_keep(
    flow: Flow,
    *,
    user,
    reason: KeptDraft.Reason,
    rollback_version: FlowVersion | None = None,
    replaced_by: KeptDraft | None = None,
) -> KeptDraft:
    """Keep the flow's draft as it is now, before it is replaced (the flow locked by the
    caller's transaction, its `updated_by` loaded)."""
    return KeptDraft.objects.create(
        flow=flow,
        definition=flow.definition,
        revision=flow.revision,
        saved_at=flow.updated_at,
        saved_by=flow.updated_by,
        kept_by=user,
        reason=reason,
        rollback_version=rollback_version,
        replaced_by=replaced_by,
    )


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
