"""The webhook path's hand-written statements read and write what the ORM would."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ivr_runtime import sql
from ivr_runtime.models import CallSession, CallStep

pytestmark = pytest.mark.django_db


def fields_of(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def a_session(**extra) -> CallSession:
    return CallSession(
        call_sid="CA" + "1" * 32,
        from_number="+447700900123",
        variables={"name": "Ada", "nested": {"n": [1, 2.5, None, True]}},
        state={"node": "menu", "vars": {"é": "ü"}},
        errors=["first"],
        pending_since=timezone.now() - timedelta(seconds=3),
        **extra,
    )


def test_a_row_inserted_then_read_is_the_row_the_orm_reads():
    session = a_session()
    sql.insert([session])
    assert session.pk is not None and not session._state.adding
    assert session.started_at is not None and session.updated_at is not None  # auto_now(_add)
    read = sql.fetch_one(CallSession, "call_sid", session.call_sid)
    assert fields_of(read) == fields_of(CallSession.objects.get(pk=session.pk))
    assert fields_of(read) == fields_of(session)
    assert not read._state.adding and read._state.db == "default"


def test_nothing_found_is_none():
    assert sql.fetch_one(CallSession, "call_sid", "CA-nobody") is None


def test_several_rows_in_one_insert_get_their_own_keys_in_order():
    session = a_session()
    session.save()
    steps = [
        CallStep(session=session, index=i, node_id=f"n{i}", at=timezone.now()) for i in range(3)
    ]
    sql.insert(steps)
    assert [CallStep.objects.get(pk=s.pk).node_id for s in steps] == ["n0", "n1", "n2"]


def test_an_upsert_overwrites_only_the_named_fields_of_the_existing_row():
    session = a_session()
    session.save()
    at = timezone.now()
    sql.insert([CallStep(session=session, index=0, node_id="menu", input="", at=at)])
    again = CallStep(session=session, index=0, node_id="other", exit="1", input="1", at=at)
    sql.insert([again], conflict=("session", "index"), update=("exit", "input"))
    step = CallStep.objects.get(session=session)
    assert (step.pk, step.node_id, step.exit, step.input) == (again.pk, "menu", "1", "1")


def test_a_conditional_update_applies_only_to_the_row_as_it_was_read():
    session = a_session()
    session.save()
    read = sql.fetch_one(CallSession, "call_sid", session.call_sid)
    expected = {"updated_at": read.updated_at, "last_request_hash": read.last_request_hash}
    read.current_node = "next"
    assert sql.update_if(read, ["current_node", "updated_at"], expected)
    assert read.updated_at > expected["updated_at"]  # auto_now refreshed, as save() does
    assert CallSession.objects.get(pk=session.pk).current_node == "next"
    read.current_node = "lost"  # written by someone who read the row before the update
    assert not sql.update_if(read, ["current_node", "updated_at"], expected)
    assert CallSession.objects.get(pk=session.pk).current_node == "next"
