"""Kept drafts: the unpublished work a rollback or a restore replaced, and restoring it.

flows.services.flow_rollback keeps the draft it replaces (flows.services.draft_keep);
restoring a kept draft here is a draft save like flows.services.flow_update_draft:
optimistic (a stale revision is refused), validated, a no-op writes nothing, and the draft
it replaces is kept in turn when it holds unpublished work. Keyword-only, no HTTP calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from flows.models import Flow, KeptDraft, canonical_json
from flows.services import (
    FlowServiceError,
    InvalidDefinition,
    StaleRevision,
    definition_validate,
    draft_is_unpublished_work,
    draft_keep,
    draft_write,
)
from flows.spec import Problem, errors
from flows.spec.migrations import UnknownFormat, migrate


class KeptDraftNotFound(FlowServiceError):
    def __init__(self, flow: Flow, kept_id: int):
        self.flow = flow
        self.kept_id = kept_id
        super().__init__(f"Flow {flow.slug!r} has no kept draft {kept_id}.")


def kept_drafts_of(flow: Flow) -> QuerySet[KeptDraft]:
    """A flow's kept drafts, newest first, with what the history shows of each."""
    return KeptDraft.objects.filter(flow=flow).select_related(
        "saved_by", "kept_by", "restored_by", "rollback_version", "replaced_by"
    )


def kept_draft_get(*, flow: Flow, kept_id: int) -> KeptDraft:
    """One kept draft of the flow. KeptDraftNotFound."""
    kept = kept_drafts_of(flow).filter(pk=kept_id).first()
    if kept is None:
        raise KeptDraftNotFound(flow, kept_id)
    return kept


@dataclass(frozen=True)
class RestoreResult:
    flow: Flow
    #: False when the kept draft already was the draft: nothing was written
    changed: bool
    #: the draft the restore replaced, kept in turn; None when it had no unpublished work
    kept_draft: KeptDraft | None
    #: the restored draft's warnings (errors are raised)
    problems: list[Problem] = field(default_factory=list)


def kept_draft_restore(
    *, kept: KeptDraft, base_revision: int, user=None, force: bool = False
) -> RestoreResult:
    """Make a kept draft the flow's draft again (nothing is published).

    StaleRevision when the draft changed since `base_revision` (unless `force`);
    InvalidDefinition when the kept draft no longer validates (a sub-flow it names is gone).
    The draft it replaces is kept when it holds unpublished work. `result.flow` is the flow
    as written.
    """
    try:
        definition = migrate(kept.definition)
    except UnknownFormat as exc:
        raise InvalidDefinition([Problem(str(exc), "$.format")]) from exc
    problems = definition_validate(definition=definition)
    if errors(problems):
        raise InvalidDefinition(problems, "The kept draft has errors now; it was not restored.")
    with transaction.atomic():
        locked = (
            Flow.objects.select_for_update(of=("self",))
            .select_related("published_version", "updated_by")
            .get(pk=kept.flow_id)
        )
        if base_revision != locked.revision and not force:
            raise StaleRevision(locked)
        if canonical_json(locked.definition) == canonical_json(definition):
            return RestoreResult(locked, False, None, problems)
        replaced = None
        if draft_is_unpublished_work(locked, replacement=definition):
            replaced = draft_keep(
                locked, user=user, reason=KeptDraft.Reason.RESTORE, replaced_by=kept
            )
        draft_write(locked, definition, user)
        kept.restored_at = timezone.now()
        kept.restored_by = user
        kept.save(update_fields=["restored_at", "restored_by"])
    return RestoreResult(locked, True, replaced, problems)
