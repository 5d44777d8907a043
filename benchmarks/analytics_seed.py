"""100,000 calls and 1,000,000 steps of one flow, written by PostgreSQL itself (INSERT ...
SELECT over generate_series), with the texts, callbacks and voicemails they left.

The calls spread over the last 90 days, at every hour; two versions share them. Each call
walks ten nodes; its last step is where it ended (an abandoned call hung up there). The
outcomes are mixed as on a busy support line: a third routed, a fifth self-served, one in
seven abandoned.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection, models
from django.db.models import NOT_PROVIDED

from flows.models import Flow, FlowVersion
from ivr_runtime.models import (
    CallbackRequest,
    CallSession,
    CallStep,
    OutboundMessage,
    Recording,
    RecoveryOffer,
)

SLUG = "analytics-bench"
#: the path of every call, node by node (id, type, exit); the last one is where it ended
PATH = [
    ("greeting", "say", "next"),
    ("hours", "time_of_day", "open"),
    ("identify", "authenticate", "success"),
    ("menu", "menu", "2"),
    ("remember", "set", "next"),
    ("by_tier", "branch", "else"),
    ("notice", "say", "next"),
    ("agent", "route", "connected"),
    ("offer", "callback", "declined"),
    ("bye", "hangup", ""),
]
#: the outcome of call g, by g % 20
OUTCOMES = (
    ["routed"] * 7
    + ["self_served"] * 4
    + ["sms_fallback", "voicemail", "voicemail", "callback"]
    + ["abandoned"] * 3
    + ["failed", "routed"]
)


LAST_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-GB">Thanks for'
    " calling. Please hold while we put you through to one of the team.</Say><Dial"
    ' action="/ivr/continue?seq=4" timeout="20"><Number>+442071838750</Number></Dial>'
    "</Response>"
)
WAIT_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="/ivr/continue?seq=4"'
    ' timeout="20"><Number>+442071838750</Number></Dial></Response>'
)


def definition() -> dict[str, Any]:
    nodes = []
    for index, (node_id, node_type, exit_name) in enumerate(PATH):
        following = PATH[index + 1][0] if index + 1 < len(PATH) else None
        nodes.append(
            {
                "id": node_id,
                "type": node_type,
                "label": node_id.replace("_", " ").title(),
                "config": {},
                "exits": {exit_name: following} if exit_name else {},
            }
        )
    return {
        "format": "callflow/1",
        "slug": SLUG,
        "name": "Analytics bench",
        "timezone": "Europe/London",
        "start": "greeting",
        "nodes": nodes,
    }


def _literal(field: models.Field) -> str:
    """The SQL of a field's default, for the columns the seed does not set."""
    if field.default is NOT_PROVIDED:
        return "NULL" if field.null else "''"
    value = field.default() if callable(field.default) else field.default
    if isinstance(field, models.JSONField):
        return f"'{json.dumps(value)}'::jsonb"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert_select(
    model: type[models.Model], expressions: dict[str, str], source: str, where: str = ""
) -> int:
    """INSERT INTO model's table SELECT expressions FROM source: every other column gets
    its field's default, so the seed follows the model as it changes."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        values.append(expressions.get(field.attname) or _literal(field))
    unknown = set(expressions) - {f.attname for f in model._meta.concrete_fields}
    assert not unknown, unknown
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source} {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount


def seed(*, calls: int) -> tuple[Flow, list[FlowVersion]]:
    flow = Flow.objects.create(slug=SLUG, name="Analytics bench", definition=definition())
    versions = [
        FlowVersion.objects.create(flow=flow, number=n, definition=definition()) for n in (1, 2)
    ]
    flow.published_version = versions[-1]
    flow.save(update_fields=["published_version"])
    outcomes = "ARRAY[" + ", ".join(f"'{o}'" for o in OUTCOMES) + "]"
    started = (
        "now() - make_interval(days => g % 90, hours => (g * 7) % 24,"
        " mins => (g * 13) % 60, secs => (g * 17) % 60)"
    )
    insert_select(
        CallSession,
        {
            "call_sid": "'CA' || lpad(to_hex(g), 32, '0')",
            "flow_id": str(flow.pk),
            "flow_version_id": f"CASE WHEN g % 2 = 0 THEN {versions[0].pk} ELSE {versions[1].pk} END",
            "simulated": "g % 100 = 0",
            "from_number": "'+4477009' || lpad((g % 100000)::text, 5, '0')",
            "to_number": "'+442079460000'",
            "status": "'completed'",
            "provider_status": "'completed'",
            "flow_finished": "true",
            "started_at": started,
            "updated_at": started,
            "ended_at": f"{started} + interval '3 minutes'",
            "duration": "180",
            # a finished call's row as the turns leave it: the state, the last answers
            "state": "jsonb_build_object('nodes', jsonb_build_object('menu', jsonb_build_object("
            "'digits', '2', 'speech', '')), 'scratch', '{}'::jsonb, 'frames', '[]'::jsonb,"
            " 'subflows', '{}'::jsonb, 'ended', true, 'fallbacks', 0)",
            "variables": "jsonb_build_object('choice', '2', 'tier', 'gold')",
            "last_twiml": f"'{LAST_TWIML}'",
            "wait_twiml": f"'{WAIT_TWIML}'",
            "last_request_hash": "md5(g::text) || md5((g + 1)::text)",
            "outcome": f"({outcomes})[(g % 20) + 1]",
            "outcome_node": f"CASE WHEN ({outcomes})[(g % 20) + 1] = 'abandoned'"
            " THEN (ARRAY['menu', 'agent', 'agent', 'identify'])[(g % 4) + 1] ELSE '' END",
        },
        f"generate_series(1, {calls}) AS g",
    )
    _seed_steps(flow)
    _seed_effects()
    with connection.cursor() as cursor:
        # as autovacuum would have: statistics, and the visibility map index-only scans use
        cursor.execute("VACUUM ANALYZE")
    return flow, versions


def _seed_steps(flow: Flow) -> None:
    def column(i: int) -> str:
        return "(ARRAY[" + ", ".join(f"'{step[i]}'" for step in PATH) + "])[i + 1]"

    ended_here = "(s.outcome = 'abandoned' AND i = 9)"
    insert_select(
        CallStep,
        {
            "session_id": "s.id",
            "index": "i",
            "flow_id": str(flow.pk),
            "flow_version_id": "s.flow_version_id",
            "simulated": "s.simulated",
            "node_id": column(0),
            "node_type": column(1),
            "exit": f"CASE WHEN {ended_here} THEN '' WHEN i = 7 AND s.outcome <> 'routed'"
            f" THEN 'unavailable' ELSE {column(2)} END",
            "hung_up": ended_here,
            "at": "s.started_at + make_interval(secs => i * 8)",
            "left_at": "s.started_at + make_interval(secs => i * 8 + 8)",
        },
        f"{CallSession._meta.db_table} AS s CROSS JOIN generate_series(0, {len(PATH) - 1}) AS i",
    )


def _seed_effects() -> None:
    sessions = f"{CallSession._meta.db_table} AS s"
    insert_select(
        OutboundMessage,
        {
            "to": "s.from_number",
            "body": "'Your link: https://example.com/x'",
            "status": "CASE WHEN s.id % 10 = 0 THEN 'undelivered' ELSE 'delivered' END",
            "idempotency_key": "'bench-' || s.id",
            "session_id": "s.id",
            "sent_at": "s.started_at + interval '1 minute'",
            "created_at": "s.started_at",
            "updated_at": "s.started_at",
        },
        sessions,
        "WHERE s.outcome IN ('self_served', 'sms_fallback')",
    )
    insert_select(
        CallbackRequest,
        {
            "number": "s.from_number",
            "due_at": "s.started_at + interval '2 hours'",
            "status": "CASE WHEN s.id % 3 = 0 THEN 'pending' ELSE 'done' END",
            "node_id": "'offer'",
            "session_id": "s.id",
            "flow_id": "s.flow_id",
            "created_at": "s.started_at",
        },
        sessions,
        "WHERE s.outcome = 'callback'",
    )
    insert_select(
        Recording,
        {
            "session_id": "s.id",
            "node_id": "'voicemail'",
            "url": "'https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE' || s.id",
            "duration": "20",
            "created_at": "s.started_at",
        },
        sessions,
        "WHERE s.outcome = 'voicemail'",
    )
    # callers who hung up waiting for an agent, texted a callback offer (route.on_abandon)
    insert_select(
        RecoveryOffer,
        {
            "number": "s.from_number",
            "from_number": "s.to_number",
            "flow_id": "s.flow_id",
            "session_id": "s.id",
            "node_id": "'agent'",
            "callback": "true",
            "status": "CASE WHEN s.id % 2 = 0 THEN 'booked' ELSE 'expired' END",
            "sent_at": "s.ended_at",
            "expires_at": "s.ended_at + interval '1 day'",
        },
        sessions,
        "WHERE s.outcome = 'abandoned' AND s.outcome_node = 'agent'",
    )
