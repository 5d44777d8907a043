"""A turn reads the session without a lock and writes only if nobody wrote it meanwhile;
otherwise it runs again with the row locked, and the call still advances exactly once."""

import pytest
from django.db import connection
from django.utils import timezone

from ivr_runtime.models import CallSession, CallStep

from .conftest import publish, two_menus
from .twilio_driver import Call

pytestmark = pytest.mark.django_db

NUMBER = "+442079460111"


class WriteFirst:
    """Before the first session UPDATE, `write` runs: another request got there first."""

    def __init__(self, write):
        self.write, self.done, self.statements = write, False, []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append(sql.split()[0])
        # the session's conditional update: alone, or with the steps (PostgreSQL: WITH ...)
        session_update = sql.startswith('UPDATE "ivr_runtime_callsession"') or sql.startswith(
            'WITH updated AS (UPDATE "ivr_runtime_callsession"'
        )
        if not self.done and session_update:
            self.done = True
            self.write()
        return execute(sql, params, many, context)


def test_a_row_written_meanwhile_runs_the_turn_again_locked(signer):
    publish(two_menus("conflicts", again_one="menu"), NUMBER)
    call = Call(signer, to=NUMBER).start()
    session = CallSession.objects.get(call_sid=call.sid)

    def status_callback():
        CallSession.objects.filter(pk=session.pk).update(
            provider_status="in-progress", updated_at=timezone.now()
        )

    other = WriteFirst(status_callback)
    with connection.execute_wrapper(other):
        call.press("1")

    assert "Press 2." in call.heard
    statements = [s for s in other.statements if s not in ("SAVEPOINT", "RELEASE")]
    # read, conditional update (refused; with the steps' upsert in it on PostgreSQL); read
    # again locked, update, upsert of the steps
    refused = "WITH" if connection.vendor == "postgresql" else "UPDATE"
    assert statements == ["SELECT", refused, "UPDATE", "SELECT", "UPDATE", "INSERT"]
    session.refresh_from_db()
    assert (session.seq, session.current_node, session.provider_status) == (
        2,
        "again",
        "in-progress",
    )
    assert list(CallStep.objects.filter(session=session).values_list("node_id", "exit")) == [
        ("menu", "1"),
        ("again", ""),
    ]


def test_a_status_callback_on_a_row_written_meanwhile_is_recorded_locked(signer):
    publish(two_menus("conflicts", again_one="menu"), NUMBER)
    call = Call(signer, to=NUMBER).start()
    session = CallSession.objects.get(call_sid=call.sid)

    def answer_meanwhile():
        CallSession.objects.filter(pk=session.pk).update(
            last_request_hash="0" * 64, updated_at=timezone.now()
        )

    with connection.execute_wrapper(WriteFirst(answer_meanwhile)):
        call.hang_up()

    session.refresh_from_db()
    assert session.status == CallSession.Status.COMPLETED
    assert session.ended_at is not None
    assert session.last_request_hash == "0" * 64
    step = CallStep.objects.get(session=session)
    assert (step.node_id, step.hung_up) == ("menu", True)
