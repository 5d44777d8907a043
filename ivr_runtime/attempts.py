"""Work done at least once, one attempt at a time, under a lease: the SMS outbox,
callbacks, outbound calls and actions on live calls all hand their rows to the provider
through this module (docs/runtime.md, "Work done at least once").

A leased row has `status`, `attempts` and `lease_until`; a `Leased` describes the rest of
its model: which status is ready and which in flight, the field saying when a ready row
is due, its attempt log and `simulated` flag if it has them, its lease and retry policy.

1. `attempt_claim` locks the row and takes it for one attempt if it is ready and due, or
   in flight with its lease expired (its worker was lost): in flight, the attempt counted
   and logged as `started`, a lease taken. Only the holder of the `Attempt` calls the
   provider; everyone else gets None.
2. An attempt that takes over from a lost one, or follows one whose outcome is unknown,
   `reconcile`s: it looks the work up at the provider (from `since`) before doing it again.
3. `attempt_finish`, `attempt_retry` and `attempt_defer` record the outcome only if the row
   is still that attempt's: a worker that lost its lease and comes back writes nothing.
4. `attempt_sweep` lists what a sweep hands over again: ready rows that are due and
   in-flight rows whose lease expired, whatever happened to the broker meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any, Generic, Protocol, TypeVar

from django.db import models, transaction
from django.db.models import Q

Row = TypeVar("Row", bound=models.Model)

#: the attempt-log error of an attempt whose worker died (its lease expired)
LOST = "the worker was lost"


# --- retry policies --------------------------------------------------------------------------
class RetryPolicy(Protocol):
    def delay(self, attempt: int) -> float:
        """Seconds to wait after attempt `attempt` (1 is the first) before the next."""
        ...

    def allows(self, attempt: int) -> bool:
        """Whether another attempt may follow attempt `attempt`."""
        ...


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: `base` seconds after the first attempt, doubled after each
    one, never more than `cap`; `max_attempts` attempts at most."""

    base: float
    cap: float
    max_attempts: int

    def delay(self, attempt: int) -> float:
        return min(self.base * (2 ** max(attempt - 1, 0)), self.cap)

    def allows(self, attempt: int) -> bool:
        return attempt < self.max_attempts


@dataclass(frozen=True)
class Schedule:
    """A fixed schedule: `delays[n - 1]` seconds after attempt n, the last delay again
    past the end; `max_attempts` attempts at most, by default one per delay and the first."""

    delays: tuple[float, ...]
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if not self.delays:
            raise ValueError("a schedule needs at least one delay")

    def delay(self, attempt: int) -> float:
        return self.delays[min(max(attempt, 1), len(self.delays)) - 1]

    def allows(self, attempt: int) -> bool:
        limit = len(self.delays) + 1 if self.max_attempts is None else self.max_attempts
        return attempt < limit


# --- the description of a leased model --------------------------------------------------------
@dataclass(frozen=True)
class Leased(Generic[Row]):
    """How the rows of one model are leased: its statuses, the names of the fields that
    differ between models, and the settings of its lease and retries (read at each use)."""

    model: type[Row]
    ready: str
    in_flight: str
    #: the field saying when a ready row is due (null: at once)
    due: str
    lease_seconds: Callable[[], float]
    policy: Callable[[], RetryPolicy]
    #: the order in which a sweep hands rows over
    order: tuple[str, ...]
    #: the JSON list with one entry per attempt (None: the model keeps no log)
    log: str | None = "attempt_log"
    #: the flag of rows that never reach the provider (None: the model has none)
    simulated: str | None = None
    #: whether taking over from a lost attempt is a new attempt. When it is not, the
    #: counter does not tell the lost attempt from the one that took over: the lease does.
    count_lost: bool = True
    #: relations loaded with the claimed row
    related: tuple[str, ...] = ()
    #: asked under the lock about a row that could be claimed: the changes that keep it
    #: ready instead (not an attempt), or None to claim it
    hold: Callable[[Any, datetime], dict[str, Any] | None] | None = None

    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds())


@dataclass(frozen=True)
class Attempt(Generic[Row]):
    """One claimed attempt: only its holder calls the provider for the row."""

    row: Row
    #: the row's attempt count once claimed (not raised when a lost attempt is taken over
    #: and the model does not count those)
    number: int
    lease_until: datetime
    #: this attempt takes over from one whose worker was lost
    lost: bool
    #: this claim raised the count (given back by `attempt_defer`)
    counted: bool
    #: the previous attempt may have reached the provider: look before doing it again
    reconcile: bool
    #: since when what earlier attempts did is unknown (where to look from); None without
    #: `reconcile`
    since: datetime | None


# --- claiming --------------------------------------------------------------------------------
def attempt_claim(kind: Leased[Row], *, pk: int, now: datetime) -> Attempt[Row] | None:
    """Take the row for one attempt, or None when it is not to be tried now (not ready,
    not due, within another worker's lease, simulated, held)."""
    lease = kind.lease()
    with transaction.atomic():
        row = (
            kind.model._default_manager.select_for_update(of=("self",))
            .select_related(*kind.related)
            .filter(pk=pk)
            .first()
        )
        if row is None or (kind.simulated is not None and getattr(row, kind.simulated)):
            return None
        lost = _lease_expired(kind, row, now)
        if not lost and not _due(kind, row, now):
            return None
        entries: list[dict[str, Any]] = list(getattr(row, kind.log)) if kind.log else []
        if lost and entries and entries[-1].get("outcome") == "started":
            entries[-1] = {**entries[-1], "outcome": "unknown", "error": LOST}
        reconcile = lost or (bool(entries) and entries[-1].get("outcome") == "unknown")
        since = _started(row, entries, lease) if reconcile else None
        held = kind.hold(row, now) if kind.hold is not None else None
        if held is not None:
            _save(kind, row, entries, {"status": kind.ready, "lease_until": None, **held})
            return None
        counted = kind.count_lost or not lost
        number = row.attempts + counted  # type: ignore[attr-defined]
        if kind.log:
            entries.append({"n": number, "at": now.isoformat(), "outcome": "started"})
        changes = {"status": kind.in_flight, "attempts": number, "lease_until": now + lease}
        _save(kind, row, entries, changes)
    return Attempt(
        row=row,
        number=number,
        lease_until=changes["lease_until"],
        lost=lost,
        counted=counted,
        reconcile=reconcile,
        since=since,
    )


def _lease_expired(kind: Leased[Any], row: Any, now: datetime) -> bool:
    return row.status == kind.in_flight and row.lease_until is not None and row.lease_until < now


def _due(kind: Leased[Any], row: Any, now: datetime) -> bool:
    due = getattr(row, kind.due)
    return row.status == kind.ready and (due is None or due <= now)


def _started(row: Any, entries: list[dict[str, Any]], lease: timedelta) -> datetime:
    """Since when what earlier attempts may have done is unknown: the start of the first of
    the last attempts whose outcome is unknown (a lookup that failed leaves the attempt
    before it as unknown as it was), else the last claim's lease, else the row."""
    unresolved = list(takewhile(lambda entry: entry.get("outcome") == "unknown", entries[::-1]))
    if unresolved and unresolved[-1].get("at"):
        return datetime.fromisoformat(unresolved[-1]["at"])
    if entries and entries[-1].get("at"):
        return datetime.fromisoformat(entries[-1]["at"])
    if row.lease_until is not None:
        return row.lease_until - lease
    return row.created_at


def held_sids(entries: list[dict[str, Any]]) -> set[str]:
    """The provider's SIDs an attempt log records (work this row's attempts did)."""
    return {sid for entry in entries if (sid := entry.get("sid"))}


def _save(
    kind: Leased[Any], row: Any, entries: list[dict[str, Any]], changes: dict[str, Any]
) -> None:
    for name, value in changes.items():
        setattr(row, name, value)
    fields = list(changes)
    if kind.log:
        setattr(row, kind.log, entries)
        fields.append(kind.log)
    # the save of a row with update_fields leaves its auto_now fields alone otherwise
    fields += [f.name for f in row._meta.concrete_fields if getattr(f, "auto_now", False)]
    row.save(update_fields=fields)


# --- recording the outcome -------------------------------------------------------------------
def attempt_finish(
    kind: Leased[Row], attempt: Attempt[Row], *, entry: dict[str, Any] | None = None, **changes: Any
) -> Row | None:
    """Record the attempt's outcome (`changes`, `entry` added to its log entry) and give
    the lease up, if the row is still that attempt's. The row as saved, else None."""
    with transaction.atomic():
        row: Any = kind.model._default_manager.select_for_update().filter(pk=attempt.row.pk).first()
        if row is None or not _still_ours(kind, row, attempt):
            return None
        entries: list[dict[str, Any]] = list(getattr(row, kind.log)) if kind.log else []
        if entry and entries and entries[-1].get("n") == attempt.number:
            entries[-1] = {**entries[-1], **entry}
        _save(kind, row, entries, {**changes, "lease_until": None})
    return row  # type: ignore[no-any-return]


def _still_ours(kind: Leased[Any], row: Any, attempt: Attempt[Any]) -> bool:
    if row.attempts != attempt.number:
        return False
    if kind.count_lost:
        return True
    return row.status == kind.in_flight and row.lease_until == attempt.lease_until


def attempt_retry(
    kind: Leased[Row],
    attempt: Attempt[Row],
    *,
    now: datetime,
    entry: dict[str, Any] | None = None,
    **changes: Any,
) -> float | None:
    """The attempt failed in a way that may pass: the row is ready again, due after the
    policy's delay (logged as `retry_in`). The delay in seconds, None if the row is no
    longer that attempt's. Whether to retry at all is the caller's (`policy().allows`)."""
    delay = kind.policy().delay(attempt.number)
    due = now + timedelta(seconds=delay)
    entry = {**entry, "retry_in": delay} if entry is not None else None
    finished = attempt_finish(
        kind, attempt, entry=entry, **{"status": kind.ready, kind.due: due, **changes}
    )
    return delay if finished is not None else None


def attempt_defer(
    kind: Leased[Row],
    attempt: Attempt[Row],
    *,
    until: datetime,
    entry: dict[str, Any] | None = None,
    **changes: Any,
) -> Row | None:
    """The attempt could not start (a rate used up): the row is ready again, due `until`,
    and the attempt is not counted."""
    return attempt_finish(
        kind,
        attempt,
        entry=entry,
        **{
            "status": kind.ready,
            kind.due: until,
            "attempts": attempt.number - attempt.counted,
            **changes,
        },
    )


# --- the sweep -------------------------------------------------------------------------------
def attempt_sweep(
    kind: Leased[Any], *, now: datetime, limit: int, ready_also: Q | None = None
) -> list[int]:
    """The ids a sweep hands over, in the model's order: ready rows that are due (and match
    `ready_also`), and in-flight rows whose lease expired. Never simulated ones."""
    due = Q(**{f"{kind.due}__lte": now})
    if kind.model._meta.get_field(kind.due).null:
        due |= Q(**{f"{kind.due}__isnull": True})
    ready = Q(status=kind.ready) & due
    if ready_also is not None:
        ready &= ready_also
    stale = Q(status=kind.in_flight, lease_until__lt=now)
    rows = kind.model._default_manager.filter(ready | stale)
    if kind.simulated is not None:
        rows = rows.filter(**{kind.simulated: False})
    return list(rows.order_by(*kind.order).values_list("pk", flat=True)[:limit])
