"""What every turn of a session shares, on any channel (voice, SMS, the simulator):
finding the flow, loading its definitions, recording the answer and writing the steps."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from flows.models import Flow, PhoneNumber
from flows.nodes.runtime import CallInfo
from ivr_runtime import engine
from ivr_runtime.models import CallSession, CallStep, OutboundMessage
from ivr_runtime.turns import definitions, effects, sql

log = logging.getLogger(__name__)

#: what a later turn writes on a step it closes (the upsert's update)
STEP_CLOSING_FIELDS = ("exit", "input", "hung_up", "error", "left_at")

#: the fields store_state() sets, and those the turn loop keeps with the state (what the
#: call has reached, its outcome, its customer: loop.track_outcome)
STATE_FIELDS = (
    "state",
    "current_node",
    "variables",
    "attempts",
    "flow_finished",
    "reached",
    "outcome",
    "outcome_node",
    "customer",
)

#: the fields record_answer() sets, to save with update_fields
ANSWER_FIELDS = (
    *STATE_FIELDS,
    "seq",
    "pending_since",
    "last_request_hash",
    "last_twiml",
    "errors",
    "updated_at",
)


def record_answer(
    session: CallSession,
    state: engine.State,
    *,
    answer: str,
    fingerprint: str,
    errors: list[str],
    what: str,
) -> list[str]:
    """Put a turn's outcome on the row (not saved): the new state, the answer and the
    fingerprint of the request it answers (a retry gets it again). The fields to save."""
    store_state(session, state)
    session.seq = state.seq
    session.pending_since = None
    session.last_request_hash = fingerprint
    session.last_twiml = answer
    if errors:
        log.warning("%s %s: %s", what, session.call_sid, "; ".join(errors))
        session.errors = (list(session.errors) + errors)[-20:]
    return list(ANSWER_FIELDS)


def store_state(session: CallSession, state: engine.State) -> None:
    """Put the engine's state on the row (not saved): the STATE_FIELDS."""
    session.state = state.to_dict()
    session.current_node = state.node or ""
    session.variables = state.vars
    session.attempts = state.attempts
    session.flow_finished = state.ended


def save_pending(session: CallSession, state: engine.State, *, fingerprint: str) -> datetime:
    """Save the row as waiting for a request made outside any transaction (an HTTP call, a
    PIN check): a duplicate arriving meanwhile is told to come back. The token returned is
    the row's `pending_since`, which the turn checks when it comes back with the answer."""
    store_state(session, state)
    session.pending_since = timezone.now()
    session.last_request_hash = fingerprint
    session.last_twiml = ""
    session.save(
        update_fields=[
            *STATE_FIELDS,
            "pending_since",
            "last_request_hash",
            "last_twiml",
            "updated_at",
        ]
    )
    return session.pending_since


def save_steps(
    session: CallSession,
    records: list[engine.StepRecord],
    loaded: dict[str, definitions.Loaded],
    *,
    old_step: int,
    now: datetime,
) -> dict[str, effects.StepRef]:
    """Insert the new steps and close the ones opened by an earlier turn, in one statement
    (an upsert on (session, index)). Node id -> the step written (its last, if several)."""
    if not records:
        return {}
    rows = _step_rows(session, records, loaded, now)
    ids = sql.insert_values(CallStep, rows, **_step_conflict(records, old_step))
    return {
        row["node_id"]: effects.StepRef(pk=pk, index=row["index"])
        for row, pk in zip(rows, ids, strict=True)
    }


def writes_in_one_statement() -> bool:
    """Whether write_with_steps() is one statement here: on PostgreSQL (a data-modifying
    WITH). SQLite writes the row and the steps in one transaction instead."""
    return connection.vendor == "postgresql"


def write_with_steps(
    session: CallSession,
    fields: list[str],
    *,
    expected: tuple[datetime, str] | None,
    records: list[engine.StepRecord],
    loaded: dict[str, definitions.Loaded],
    old_step: int,
    now: datetime,
    texts: Sequence[tuple[OutboundMessage, int | None]] = (),
    bound_to: str | None = None,
) -> bool:
    """write() and save_steps() in one statement (see writes_in_one_statement), with the
    outbox rows of the round's `texts` (effects.texts_only) when the row is updated: a
    turn with nothing else to save costs one round trip after its read. A new row is
    inserted (a duplicate raises IntegrityError; it takes no texts); an existing one is
    updated only if it still has the `expected` version: False, having written nothing,
    when someone else wrote it meanwhile. A new row with `bound_to` (the number called,
    its flow taken from known_flow()) is inserted only if that number is still bound to
    its flow and version and no row has its call SID: False, having written nothing, if
    not."""
    rows = _step_rows(session, records, loaded, now)
    if session.pk is None:
        assert not texts, "a new row's texts refer to it: written after it (save_last)"
        unless = None
        if bound_to is not None:
            still = (bound_to, session.flow_id, session.flow_version_id)
            unless = sql.Unless(taken="call_sid", condition=_STILL_BOUND.sql(), params=still)
        return sql.insert_then_insert(session, CallStep, rows, parent="session", unless=unless)
    assert expected is not None
    updated_at, last_request_hash = expected
    return sql.update_if_then_insert(
        session,
        fields,
        {"updated_at": updated_at, "last_request_hash": last_request_hash},
        CallStep,
        rows,
        **_step_conflict(records, old_step),
        dependents=[sql.Dependent(message, "step", "index", index) for message, index in texts],
    )


def _step_conflict(records: list[engine.StepRecord], old_step: int) -> dict[str, Any]:
    """Only a turn that closes an earlier turn's step upserts; new steps are plain inserts,
    a duplicate index an error."""
    if records and records[0].index <= old_step:
        return {"conflict": ("session", "index"), "update": STEP_CLOSING_FIELDS}
    return {}


def _step_rows(
    session: CallSession,
    records: list[engine.StepRecord],
    loaded: dict[str, definitions.Loaded],
    now: datetime,
) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        source = loaded.get(record.flow)
        rows.append(
            {
                "session_id": session.pk,
                "index": record.index,
                "node_id": record.node,
                "node_type": record.node_type,
                "at": record.at,
                "flow_id": source.flow_id if source else session.flow_id,
                "flow_version_id": source.version_id if source else None,
                "simulated": session.simulated,
                "exit": record.exit or "",
                "input": record.input or "",
                "hung_up": record.hung_up,
                "error": record.error,
                "left_at": now if record.closed else None,
            }
        )
    return rows


# --- the session row ----------------------------------------------------------------------
def read(*, call_sid: str) -> CallSession | None:
    """The session row as committed, without a lock: every webhook's first query."""
    return sql.fetch_one(CallSession, "call_sid", call_sid)


def locked(*, call_sid: str | None = None, pk: int | None = None) -> CallSession | None:
    """The session row, locked until the end of the transaction (one query by a unique key)."""
    rows = CallSession.objects.select_for_update().order_by()
    found = rows.filter(call_sid=call_sid) if pk is None else rows.filter(pk=pk)
    return next(iter(found[:1]), None)


def one_statement() -> AbstractContextManager[Any]:
    """The transaction one write statement needs. On SQLite, a write transaction: it queues
    at the gate (callflow/sqlite3) rather than in SQLite's busy handler. On PostgreSQL, none:
    the statement commits on its own, without a BEGIN and a COMMIT round trip each."""
    if connection.vendor == "sqlite":
        return transaction.atomic()
    return contextlib.nullcontext()


def version(session: CallSession) -> tuple[datetime, str]:
    """What changes whenever the row is written (every save sets updated_at)."""
    return session.updated_at, session.last_request_hash


def write(
    session: CallSession, fields: list[str], *, expected: tuple[datetime, str] | None = None
) -> bool:
    """Insert a new row, or update `fields`; with `expected`, only if the row still has that
    version (False: someone else wrote it meanwhile, nothing was written)."""
    if session.pk is None:
        sql.insert([session])
        return True
    if expected is None:
        session.save(update_fields=fields)
        return True
    updated_at, last_request_hash = expected
    return sql.update_if(
        session, fields, {"updated_at": updated_at, "last_request_hash": last_request_hash}
    )


# --- lookups --------------------------------------------------------------------------------
def find_flow(*, to: str, slug: str | None, draft: bool) -> tuple[int, int | None] | None:
    """(flow id, published version id) in one query, by slug or by the number called."""
    if slug is not None:
        row = sql.fetch_row(_FLOW_BY_SLUG, slug)
    elif to:
        row = sql.fetch_row(_FLOW_BY_NUMBER, to)
        _remember(to, row)
    else:
        row = None
    if row is None or (row[1] is None and not draft):
        return None
    return row[0], row[1]


#: number called -> (flow id, published version id), as this process last found them
#: (find_flow). A new call's first webhook takes its flow from here and inserts its row
#: only if the number is still bound so (write_with_steps' `bound_to`): one round trip
#: instead of three (read the call, find the flow, insert). A number bound elsewhere or a
#: version published since makes the insert write nothing, and the webhook looks again.
_KNOWN: dict[str, tuple[int, int]] = {}
#: numbers remembered at most (a process serving more forgets them all and starts again)
KNOWN_NUMBERS = 10_000


def known_flow(to: str) -> tuple[int, int] | None:
    """The flow `to` was last found bound to, where a first webhook can check it as it
    inserts (sessions.writes_in_one_statement); None if it must be looked up."""
    return _KNOWN.get(to) if writes_in_one_statement() else None


def forget_flows(*numbers: str) -> None:
    """Forget these numbers' flows, or every number's (each is looked up again by its
    next call)."""
    if not numbers:
        _KNOWN.clear()
    for number in numbers:
        _KNOWN.pop(number, None)


def _remember(to: str, row: tuple[Any, ...] | None) -> None:
    if row is None or row[1] is None:
        _KNOWN.pop(to, None)
        return
    if len(_KNOWN) >= KNOWN_NUMBERS:
        _KNOWN.clear()
    _KNOWN[to] = (row[0], row[1])


def _flow_by_slug(quote: Callable[[str], str]) -> str:
    flows = Flow._meta
    return (
        f"SELECT {quote('id')}, {quote('published_version_id')} FROM {quote(flows.db_table)} "
        f"WHERE {quote('slug')} = %s"
    )


def _number_flow(quote: Callable[[str], str], condition: str) -> str:
    """SELECT (the number's flow, its published version) FROM the numbers and their flows
    WHERE the number is %s and `condition`."""
    flows, numbers = quote(Flow._meta.db_table), quote(PhoneNumber._meta.db_table)
    return (
        f"SELECT {numbers}.{quote('flow_id')}, {flows}.{quote('published_version_id')} "
        f"FROM {numbers} INNER JOIN {flows} ON {flows}.{quote('id')} = {numbers}.{quote('flow_id')} "
        f"WHERE {numbers}.{quote('number')} = %s{condition}"
    )


def _flow_by_number(quote: Callable[[str], str]) -> str:
    return _number_flow(quote, "")


def _still_bound(quote: Callable[[str], str]) -> str:
    """Whether the number (%s) is bound to the flow (%s) with that version (%s) published."""
    flows, numbers = quote(Flow._meta.db_table), quote(PhoneNumber._meta.db_table)
    same = (
        f" AND {numbers}.{quote('flow_id')} = %s AND {flows}.{quote('published_version_id')} = %s"
    )
    return f"EXISTS ({_number_flow(quote, same)})"


_FLOW_BY_SLUG = sql.Statement(_flow_by_slug)
_FLOW_BY_NUMBER = sql.Statement(_flow_by_number)
_STILL_BOUND = sql.Statement(_still_bound)
_IS_STILL_BOUND = sql.Statement(lambda quote: f"SELECT {_still_bound(quote)}")


def still_bound(number: str, session: CallSession) -> bool:
    """Whether `number` is still bound to the new session's flow with its version
    published (a first webhook that took them from known_flow() and writes the long way)."""
    row = sql.fetch_row(_IS_STILL_BOUND, number, session.flow_id, session.flow_version_id)
    return bool(row and row[0])


def loaded_root(session: CallSession) -> definitions.Loaded:
    if session.draft_definition is not None:
        return definitions.load_draft(session.call_sid, session.draft_definition, session.flow_id)
    assert session.flow_version_id is not None
    return definitions.load_version(session.flow_version_id)


def new_state(session: CallSession) -> dict[str, Any]:
    """A new call's state: at the start of its flow, with the versions of the subflows it
    may enter pinned to those published now (no query for a flow without subflows)."""
    root = loaded_root(session)
    state = engine.State.new(root.definition.key)
    state.subflows = definitions.pin_subflows(root)
    return state.to_dict()


def loaded_for(session: CallSession, state: engine.State) -> dict[str, definitions.Loaded]:
    root = loaded_root(session)
    loaded = {root.definition.key: root}
    for key in {state.flow, *(frame.key for frame in state.stack)} - {root.definition.key}:
        if key.startswith("v") and key[1:].isdigit():
            loaded[key] = definitions.load_version(int(key[1:]))
    return loaded


def call_info(session: CallSession) -> CallInfo:
    return CallInfo(
        sid=session.call_sid,
        caller=session.from_number,
        to=session.to_number,
        simulated=session.simulated,
        channel="sms" if session.channel == "sms" else "voice",
        direction=session.direction,
        answered_by=session.answered_by,
    )
