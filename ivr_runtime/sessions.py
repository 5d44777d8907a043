"""What every turn of a session shares, on any channel (voice, SMS, the simulator):
finding the flow, loading its definitions, recording the answer and writing the steps."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection

from flows.models import Flow, PhoneNumber
from flows.nodes.runtime import CallInfo

from . import definitions, engine
from .models import CallSession, CallStep

log = logging.getLogger(__name__)

#: the fields record_answer() sets, to save with update_fields
ANSWER_FIELDS = (
    "state",
    "current_node",
    "variables",
    "attempts",
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
    session.state = state.to_dict()
    session.current_node = state.node or ""
    session.variables = state.vars
    session.attempts = state.attempts


def save_steps(
    session: CallSession,
    records: list[engine.StepRecord],
    loaded: dict[str, definitions.Loaded],
    *,
    old_step: int,
    now: datetime,
) -> dict[str, int]:
    """Insert the new steps and close the ones opened by an earlier turn, in one statement
    (an upsert on (session, index)). Node id -> step pk, for the rows written."""
    if not records:
        return {}
    rows = []
    for record in records:
        source = loaded.get(record.flow)
        rows.append(
            CallStep(
                session=session,
                index=record.index,
                node_id=record.node,
                node_type=record.node_type,
                at=record.at,
                flow_id=source.flow_id if source else session.flow_id,
                flow_version_id=source.version_id if source else None,
                simulated=session.simulated,
                exit=record.exit or "",
                input=record.input or "",
                hung_up=record.hung_up,
                error=record.error,
                left_at=now if record.closed else None,
            )
        )
    # Written out like _READ (bulk_create's compilation cost more than the statement):
    # SQLite and PostgreSQL both upsert and return the ids. Only a turn that closes an
    # earlier turn's step upserts; new steps are plain inserts, a duplicate index an error.
    meta, quote = CallStep._meta, connection.ops.quote_name
    columns = [column for column in meta.concrete_fields if not column.primary_key]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c.column) for c in columns)}) "
        f"VALUES {', '.join([row] * len(rows))}"
    )
    if records[0].index <= old_step:
        sql += f" ON CONFLICT (session_id, {quote('index')}) DO UPDATE SET " + ", ".join(
            f"{quote(name)} = EXCLUDED.{quote(name)}"
            for name in ("exit", "input", "hung_up", "error", "left_at")
        )
    with connection.cursor() as cursor:
        cursor.execute(
            sql + " RETURNING id, node_id",
            [
                c.get_db_prep_save(getattr(step, c.attname), connection)
                for step in rows
                for c in columns
            ],
        )
        return {node_id: pk for pk, node_id in cursor.fetchall()}


# --- lookups --------------------------------------------------------------------------------
def find_flow(*, to: str, slug: str | None, draft: bool) -> tuple[int, int | None] | None:
    """(flow id, published version id) in one query, by slug or by the number called."""
    if slug is not None:
        row = Flow.objects.filter(slug=slug).values_list("id", "published_version_id").first()
    elif to:
        row = (
            PhoneNumber.objects.filter(number=to)
            .values_list("flow_id", "flow__published_version_id")
            .first()
        )
    else:
        row = None
    if row is None or (row[1] is None and not draft):
        return None
    return row[0], row[1]


def loaded_root(session: CallSession) -> definitions.Loaded:
    if session.draft_definition is not None:
        return definitions.load_draft(session.call_sid, session.draft_definition, session.flow_id)
    assert session.flow_version_id is not None
    return definitions.load_version(session.flow_version_id)


def loaded_for(session: CallSession, state: engine.State) -> dict[str, definitions.Loaded]:
    root = loaded_root(session)
    loaded = {root.definition.key: root}
    for key in {state.flow, *(frame.key for frame in state.stack)} - {root.definition.key}:
        if key.startswith("v") and key[1:].isdigit():
            loaded[key] = definitions.load_version(int(key[1:]))
    return loaded


def call_info(session: CallSession) -> CallInfo:
    return CallInfo(sid=session.call_sid, caller=session.from_number, to=session.to_number)
