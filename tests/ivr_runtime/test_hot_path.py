"""The per-webhook work does not depend on the size of the flow or on the calls in the database.

A webhook's queries, savepoints aside (the tests run inside a transaction):
- the first: the session by CallSid (a retry finds it), number -> flow -> published
  version, the session's insert, the steps' insert; on PostgreSQL, once the process knows
  the number's flow, one statement (WITH ...) inserts the row and the steps if the number
  is still bound so and the call is new;
- an answer: the session, its conditional update, the steps' upsert and the texts it
  sends (on PostgreSQL the update, the upsert and the texts are one statement, WITH ...);
- a status callback: when the flow has finished, one update and nothing else; otherwise
  that update (which changes nothing), the session, its conditional update (and the steps'
  upsert when the caller hangs up while the flow waits).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flows.models import Flow, PhoneNumber
from ivr_runtime.models import CallSession, CallStep, OutboundMessage
from ivr_runtime.turns import definitions

from .conftest import publish, two_menus
from .twilio_driver import Call

pytestmark = pytest.mark.django_db

SMALL, LARGE = "+442079460107", "+442079460108"


def sized_flow(slug, size):
    """A flow of `size` nodes: two menus, a hang-up and `size - 3` says nobody reaches."""
    flow = two_menus(slug, again_one="menu")
    flow["nodes"] += [
        {"id": f"n{i}", "type": "say", "config": {"text": f"Node {i}"}, "exits": {"next": "bye"}}
        for i in range(size - len(flow["nodes"]))
    ]
    return flow


def queries(signer, number, presses, *, hang_up_waiting=True):
    """The queries of each webhook of one call: start, key presses, the status callback."""
    call = Call(signer, to=number)
    webhooks = [call.start, *(lambda d=d: call.press(d) for d in presses)]
    if not hang_up_waiting:
        webhooks.append(lambda: call.press("2"))  # the flow hangs up: the call has ended
    webhooks.append(call.hang_up)
    counts = []
    for webhook in webhooks:
        with CaptureQueriesContext(connection) as captured:
            webhook()
        counts.append(
            [q["sql"].split()[0] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
        )
    return counts


def many_calls(version, count):
    """`count` finished calls of `version`, three steps each, written in bulk."""
    now = timezone.now()
    sessions = CallSession.objects.bulk_create(
        CallSession(
            call_sid=f"CA{'f' * 24}{i:08d}",
            flow_id=version.flow_id,
            flow_version=version,
            from_number="+447700900123",
            to_number=LARGE,
            status=CallSession.Status.COMPLETED,
            ended_at=now,
        )
        for i in range(count)
    )
    CallStep.objects.bulk_create(
        CallStep(
            session=session,
            index=index,
            flow_id=version.flow_id,
            flow_version=version,
            node_id=node,
            node_type="menu",
            exit="1",
            at=now - timedelta(minutes=1),
            left_at=now,
        )
        for session in sessions
        for index, node in enumerate(["menu", "again", "menu"], start=1)
    )


def start(*, known: bool = True) -> list[str]:
    """A call's first webhook: is the call known, which flow; then its row and first steps
    (one statement on PostgreSQL, the only one once the process `known` the number)."""
    if connection.vendor == "postgresql":
        return ["WITH"] if known else ["SELECT", "SELECT", "WITH"]
    return ["SELECT", "SELECT", "INSERT", "INSERT"]


def answer() -> list[str]:
    return (
        ["SELECT", "WITH"] if connection.vendor == "postgresql" else ["SELECT", "UPDATE", "INSERT"]
    )


def test_queries_per_webhook_are_few_and_the_same_for_any_flow_size_and_call_count(signer):
    small = publish(sized_flow("small", 10), SMALL)
    large = publish(sized_flow("large", 2000), LARGE)
    # Published versions are immutable: each process indexes a version once (see below).
    definitions.load_version(small.pk)
    definitions.load_version(large.pk)
    assert not CallSession.objects.exists()

    hung_up = ["UPDATE", "SELECT", "UPDATE", "INSERT"]
    assert queries(signer, SMALL, ["1", "1"]) == [start(known=False), answer(), answer(), hung_up]
    first = queries(signer, SMALL, ["1", "1"])
    assert first == [start(), answer(), answer(), hung_up]
    ended = queries(signer, SMALL, ["1"], hang_up_waiting=False)
    assert ended == [start(), answer(), answer(), ["UPDATE"]]

    many_calls(large, 2000)
    assert CallSession.objects.count() > 2000
    queries(signer, LARGE, ["1"])
    assert queries(signer, LARGE, ["1", "1"]) == first
    assert queries(signer, SMALL, ["1", "1"]) == first
    assert queries(signer, LARGE, ["1"], hang_up_waiting=False) == ended


def test_a_published_version_is_loaded_once_per_process(signer):
    publish(sized_flow("cached", 10), "+442079460109")
    Call(signer, to="+442079460109").start()
    with CaptureQueriesContext(connection) as captured:
        Call(signer, to="+442079460109").start()
    assert not any("flows_flowversion" in q["sql"] for q in captured.captured_queries)


def test_a_retried_first_webhook_reads_the_session_and_answers_the_same(signer):
    publish(sized_flow("retried", 10), "+442079460110")
    call = Call(signer, to="+442079460110").start()
    with CaptureQueriesContext(connection) as captured:
        again = signer.post("/ivr/voice", call.params(CallStatus="ringing"))
    assert again.content.decode() == call.last_response
    # on PostgreSQL the process knows the number: the insert finds the call and writes nothing
    retried = ["WITH", "SELECT"] if connection.vendor == "postgresql" else ["SELECT"]
    assert [q["sql"].split()[0] for q in captured.captured_queries] == retried
    assert CallSession.objects.filter(call_sid=call.sid).count() == 1
    assert CallStep.objects.filter(session__call_sid=call.sid).count() == 1


def texting(slug: str) -> dict:
    """A menu whose 1 sends a text, then a menu that waits again."""
    flow = two_menus(slug)
    flow["nodes"][0]["exits"]["1"] = "text"
    flow["nodes"].append(
        {"id": "text", "type": "sms", "config": {"body": "Your link."}, "exits": {"next": "again"}}
    )
    return flow


def test_an_answer_that_sends_a_text_writes_it_with_the_turn(signer):
    publish(texting("texting"), "+442079460113")
    call = Call(signer, to="+442079460113").start()
    with CaptureQueriesContext(connection) as captured:
        call.press("1")
    written = [
        q["sql"].split()[0] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]
    ]
    if connection.vendor == "postgresql":
        assert written == ["SELECT", "WITH"]
    else:
        assert written == ["SELECT", "UPDATE", "INSERT", "INSERT"]
    session = CallSession.objects.get(call_sid=call.sid)
    message = OutboundMessage.objects.get(session=session)
    step = CallStep.objects.get(session=session, node_id="text")
    assert (message.step_id, message.to, message.body) == (step.pk, call.caller, "Your link.")
    assert message.from_number == "+442079460113" and message.status == "queued"
    assert message.idempotency_key == f"step:{session.pk}:{step.index}:0"
    assert call.waits_for == "Gather" and "Press 2." in call.last_response


def texting_first(slug: str) -> dict:
    """A text before the first menu: the first webhook has an effect to write its own way."""
    flow = two_menus(slug)
    flow["nodes"].append(
        {"id": "hello", "type": "sms", "config": {"body": "Hello."}, "exits": {"next": "menu"}}
    )
    flow["start"] = "hello"
    return flow


@pytest.mark.parametrize("shape", [two_menus, texting_first])
@pytest.mark.parametrize("change", ["rebound", "published", "unbound"])
def test_a_known_number_follows_its_binding_as_it_is_now(signer, change, shape):
    """The process remembers a number's flow; a call to it inserts its row only if that is
    still so, and otherwise looks again: a rebound number reaches its new flow, a newly
    published version is the one a new call runs, an unbound number is unknown. So too
    when the first webhook writes the long way (its text), checking the binding first."""
    number = "+442079460115"
    first = publish(shape("before"), number)
    Call(signer, to=number).start()
    if change == "rebound":
        later = publish(shape("after"), number)
    elif change == "published":
        later = publish(shape("before"))
    else:
        PhoneNumber.objects.filter(number=number).delete()
        later = None
    call = Call(signer, to=number).start()
    if later is None:
        assert not CallSession.objects.filter(call_sid=call.sid).exists()
        assert "not in service" in call.last_response
        return
    session = CallSession.objects.get(call_sid=call.sid)
    assert (session.flow_id, session.flow_version_id) == (later.flow_id, later.pk)
    assert session.flow_version_id != first.pk
    again = Call(signer, to=number).start()  # known again, as it is now
    assert CallSession.objects.get(call_sid=again.sid).flow_version_id == later.pk
    texts = 1 if shape is texting_first else 0
    for sid in (call.sid, again.sid):
        assert OutboundMessage.objects.filter(session__call_sid=sid).count() == texts
        assert CallStep.objects.filter(session__call_sid=sid, node_id="menu").count() == 1


def test_a_known_number_whose_flow_is_gone_is_looked_up_again(signer):
    """What a process remembers of a number may have gone from the database (a flow
    deleted, its definition no longer cached): the call reaches what is bound now."""
    number = "+442079460116"
    publish(two_menus("gone"), number)
    Call(signer, to=number).start()
    CallSession.objects.all().delete()
    Flow.objects.filter(slug="gone").delete()
    definitions.clear()
    now = publish(texting("instead"), number)
    call = Call(signer, to=number).start()
    assert "Sorry" not in call.last_response and "Press 1." in call.last_response
    assert CallSession.objects.get(call_sid=call.sid).flow_version_id == now.pk


@pytest.mark.parametrize("status, closed", [("completed", "completed"), ("busy", "failed")])
def test_a_finished_flow_is_closed_by_its_status_callback_alone(signer, status, closed):
    publish(sized_flow("closing", 10), "+442079460111")
    call = Call(signer, to="+442079460111").start()
    call.press("1")
    call.press("2")  # the flow hangs up
    session = CallSession.objects.get(call_sid=call.sid)
    assert session.flow_finished and session.ended_at is None
    assert signer.post("/ivr/status", call.params(CallStatus=status)).status_code == 204
    session = CallSession.objects.get(call_sid=call.sid)
    assert (session.status, session.provider_status) == (closed, status)
    assert session.ended_at is not None and session.pending_since is None
    steps = list(CallStep.objects.filter(session=session).values_list("node_id", "hung_up"))
    ended_at = session.ended_at
    # A later final status: the call stays closed as it was, with its first final status.
    assert signer.post("/ivr/status", call.params(CallStatus="completed")).status_code == 204
    session = CallSession.objects.get(call_sid=call.sid)
    assert (session.ended_at, session.provider_status) == (ended_at, status)
    assert list(CallStep.objects.filter(session=session).values_list("node_id", "hung_up")) == steps


def test_a_caller_hanging_up_mid_flow_is_closed_the_long_way(signer):
    publish(sized_flow("mid-flow", 10), "+442079460112")
    call = Call(signer, to="+442079460112").start()
    assert not CallSession.objects.get(call_sid=call.sid).flow_finished
    call.hang_up()
    session = CallSession.objects.get(call_sid=call.sid)
    assert session.status == "completed" and session.flow_finished
    assert CallStep.objects.filter(session=session, hung_up=True).count() == 1
