"""The webhook path's hand-written statements read and write what the ORM would."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ivr_runtime.models import CallSession, CallStep, OutboundMessage
from ivr_runtime.turns import sql

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


def test_rows_given_as_values_are_the_rows_the_orm_writes():
    session = a_session()
    session.save()
    at = timezone.now()
    given = {"session_id": session.pk, "index": 0, "node_id": "menu", "at": at, "input": "12"}
    ids = sql.insert_values(CallStep, [given, {**given, "index": 1, "node_id": "bye"}])
    by_orm = CallStep.objects.create(session=session, index=2, node_id="menu", at=at, input="12")
    written = [fields_of(CallStep.objects.get(pk=pk)) for pk in ids]
    assert [row["node_id"] for row in written] == ["menu", "bye"]
    # Defaults fill what a row leaves out, exactly as for the row the ORM wrote.
    assert {**written[0], "id": None, "index": None} == {
        **fields_of(by_orm),
        "id": None,
        "index": None,
    }


def test_rows_given_as_values_upsert_like_instances():
    session = a_session()
    session.save()
    at = timezone.now()
    [first] = sql.insert_values(
        CallStep, [{"session_id": session.pk, "index": 0, "node_id": "menu", "at": at}]
    )
    [again] = sql.insert_values(
        CallStep,
        [{"session_id": session.pk, "index": 0, "node_id": "other", "at": at, "exit": "1"}],
        conflict=("session", "index"),
        update=("exit",),
    )
    step = CallStep.objects.get(session=session)
    assert (again, step.pk, step.node_id, step.exit) == (first, first, "menu", "1")


def test_rows_given_as_values_are_refused_for_models_with_auto_now_fields():
    with pytest.raises(
        TypeError, match=r"CallSession\.\w+ (is set when saved|is a JSON field).*with insert\(\)"
    ):
        sql.insert_values(CallSession, [{"call_sid": "CA1"}])
    assert not CallSession.objects.exists()


def test_many_rows_go_in_one_statement_in_their_order():
    """The rows travel as one JSON document: sixty rows (780 values) are one parameter."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    session = a_session()
    session.save()
    at = timezone.now()
    rows = [
        {"session_id": session.pk, "index": i, "node_id": f"n{i}", "at": at, "hung_up": i % 2 == 0}
        for i in range(60)
    ]
    with CaptureQueriesContext(connection) as captured:
        ids = sql.insert_values(CallStep, rows)
    assert len(captured.captured_queries) == 1
    steps = {s.pk: s for s in CallStep.objects.filter(session=session)}
    assert [(steps[pk].index, steps[pk].node_id, steps[pk].hung_up) for pk in ids] == [
        (i, f"n{i}", i % 2 == 0) for i in range(60)
    ]
    assert all(steps[pk].at == at for pk in ids)


def test_a_new_row_and_its_children_are_one_statement_on_postgresql():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("one statement for both needs PostgreSQL")
    session = a_session()
    at = timezone.now()
    rows = [{"session_id": None, "index": i, "node_id": f"n{i}", "at": at} for i in range(3)]
    with CaptureQueriesContext(connection) as captured:
        sql.insert_then_insert(session, CallStep, rows, parent="session")
    assert len(captured.captured_queries) == 1
    assert session.pk is not None and not session._state.adding
    assert fields_of(CallSession.objects.get(pk=session.pk)) == fields_of(session)
    steps = CallStep.objects.filter(session=session).order_by("index")
    assert [s.node_id for s in steps] == ["n0", "n1", "n2"]


def only_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("one statement for all needs PostgreSQL")


def a_text(session) -> OutboundMessage:
    return OutboundMessage(
        session=session, to="+447700900123", body="Hi", idempotency_key=f"k{session.pk}"
    )


@pytest.mark.parametrize("found", [True, False])
def test_an_update_its_rows_and_the_rows_referring_to_them_are_one_statement(found):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    only_postgresql()
    session = a_session()
    sql.insert([session])
    at = timezone.now()
    rows = [{"session_id": session.pk, "index": i, "node_id": f"n{i}", "at": at} for i in (1, 2)]
    text = a_text(session)
    session.current_node = "n2"
    with CaptureQueriesContext(connection) as captured:
        written = sql.update_if_then_insert(
            session,
            ["current_node", "updated_at"],
            {"updated_at": session.updated_at},
            CallStep,
            rows,
            dependents=[sql.Dependent(text, "step", "index", 2 if found else 7)],
        )
    assert written and len(captured.captured_queries) == 1
    step = CallStep.objects.get(session=session, index=2)
    assert text.pk is not None and not text._state.adding
    stored = OutboundMessage.objects.get(pk=text.pk)
    assert stored.step_id == text.step_id == (step.pk if found else None)
    assert fields_of(stored) == fields_of(text)
    assert CallSession.objects.get(pk=session.pk).current_node == "n2"


def test_an_update_that_finds_the_row_changed_writes_no_row_referring_to_it():
    only_postgresql()
    session = a_session()
    sql.insert([session])
    read = sql.fetch_one(CallSession, "call_sid", session.call_sid)
    CallSession.objects.filter(pk=session.pk).update(updated_at=timezone.now())  # someone else
    rows = [{"session_id": session.pk, "index": 1, "node_id": "n1", "at": timezone.now()}]
    text = a_text(session)
    read.current_node = "lost"
    assert not sql.update_if_then_insert(
        read,
        ["current_node"],
        {"updated_at": read.updated_at},
        CallStep,
        rows,
        dependents=[sql.Dependent(text, "step", "index", 1)],
    )
    assert text.pk is None
    assert not CallStep.objects.exists() and not OutboundMessage.objects.exists()
    assert CallSession.objects.get(pk=session.pk).current_node != "lost"


@pytest.mark.parametrize("why", ["taken", "condition"])
def test_a_guarded_insert_writes_nothing_when_its_value_is_taken_or_its_condition_false(why):
    from django.db import IntegrityError, transaction

    only_postgresql()
    first = a_session()
    sql.insert([first])
    again = a_session()
    if why == "condition":
        again.call_sid = "CA" + "9" * 32
    rows = [{"session_id": None, "index": 1, "node_id": "menu", "at": timezone.now()}]
    holds = "false" if why == "condition" else "%s = %s"
    unless = sql.Unless(
        taken="call_sid", condition=holds, params=() if why == "condition" else (1, 1)
    )
    assert not sql.insert_then_insert(again, CallStep, rows, parent="session", unless=unless)
    assert again.pk is None and again._state.adding
    assert CallSession.objects.count() == 1 and not CallStep.objects.exists()
    # unguarded, the same row is an error, as insert() makes it
    if why == "taken":
        with pytest.raises(IntegrityError), transaction.atomic():
            sql.insert_then_insert(a_session(), CallStep, rows, parent="session")


def test_driver_errors_are_djangos_and_a_broken_transaction_is_refused():
    from django.db import IntegrityError, transaction
    from django.db.transaction import TransactionManagementError

    session = a_session()
    sql.insert([session])
    row = {"session_id": session.pk, "index": 0, "node_id": "menu", "at": timezone.now()}
    sql.insert_values(CallStep, [row])
    with pytest.raises(IntegrityError), transaction.atomic():  # django.db's, not the driver's
        sql.insert_values(CallStep, [row])
    with transaction.atomic():
        transaction.set_rollback(True)  # as after an error inside an inner atomic block
        with pytest.raises(TransactionManagementError):
            sql.fetch_one(CallSession, "call_sid", session.call_sid)


def test_logged_queries_see_the_statements_and_get_the_same_answers():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    session = a_session()
    sql.insert([session])
    straight = sql.fetch_one(CallSession, "call_sid", session.call_sid)
    with CaptureQueriesContext(connection) as captured:
        logged = sql.fetch_one(CallSession, "call_sid", session.call_sid)
        assert sql.update_if(logged, ["current_node"], {"updated_at": logged.updated_at})
    assert fields_of(logged) == fields_of(straight)
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT", "UPDATE"]
    assert session.call_sid in captured.captured_queries[0]["sql"]


def test_an_update_where_matches_equal_values_and_nulls_and_says_how_many_rows():
    first, second = a_session(), a_session()
    second.call_sid = "CA" + "2" * 32
    sql.insert([first, second])
    closed = timezone.now()
    where = {"from_number": "+447700900123", "ended_at": None}
    assert sql.update_where(CallSession, {"ended_at": closed, "current_node": "bye"}, where) == 2
    assert sql.update_where(CallSession, {"current_node": "again"}, where) == 0  # none NULL now
    rows = CallSession.objects.values_list("ended_at", "current_node")
    assert set(rows) == {(closed, "bye")}
    one = {"call_sid": first.call_sid, "ended_at": closed}
    assert sql.update_where(CallSession, {"current_node": "last"}, one) == 1
    assert CallSession.objects.get(pk=first.pk).current_node == "last"
    assert CallSession.objects.get(pk=second.pk).current_node == "bye"


@pytest.mark.parametrize("model", [CallSession, CallStep, OutboundMessage])
def test_plain_values_passed_as_they_are_are_what_the_field_would_write(model):
    """Every field of the models written here, with values of every kind: what `prepared`
    writes is what the field's own get_db_prep_save writes, value and type."""
    from django.db import connection

    samples = ["", "menu", "é\u2028<x>", gettext_lazy("Goodbye"), True, False, None, 0, 12]
    samples += [2**40, timezone.now(), {"a": [1, None]}, ["x"]]
    checked = 0
    for field in model._meta.concrete_fields:
        for value in samples:
            try:
                expected = field.get_db_prep_save(value, connection)
            except (TypeError, ValueError, ValidationError):  # not a value for this field
                continue
            written = sql.prepared(field, value, connection)
            assert type(written) is type(expected), (field.name, value)
            # psycopg's Jsonb wrapper has no equality of its own: compare what it wraps
            assert getattr(written, "obj", written) == getattr(expected, "obj", expected), (
                field.name,
                value,
            )
            checked += 1
    assert checked >= 100
