"""How calls end and what they keep: status callbacks in any order, CallDuration, the sweep
of calls whose status callback was lost, subflow versions pinned for the whole call, an
`sms` node with nowhere to send, and concurrent duplicates of an incoming text."""

import threading
import time
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ivr_runtime import engine, tasks
from ivr_runtime.models import Agent, CallSession, CallStep, OutboundMessage, Skill
from ivr_runtime.voice import call_end
from tests.waiting import wait_for

from .conftest import flow_definition, publish, two_menus
from .test_concurrency import in_threads
from .twilio_driver import Call, Signer

NUMBER = "+442079460140"
SENDER = "+447700900140"

pytestmark = pytest.mark.django_db


def session_of(call):
    return CallSession.objects.get(call_sid=call.sid)


def status(signer, call, call_status, **extra):
    response = signer.post("/ivr/status", call.params(CallStatus=call_status, **extra))
    assert response.status_code == 204, response.status_code
    return session_of(call)


def steps_of(session):
    return list(CallStep.objects.filter(session=session).values_list("node_id", "exit", "hung_up"))


def silent_since(call, minutes):
    """The call's last webhook (and its start) `minutes` ago."""
    at = timezone.now() - timedelta(minutes=minutes)
    CallSession.objects.filter(call_sid=call.sid).update(updated_at=at, started_at=at)


# --- status callbacks: the first final status stays --------------------------------------------
@pytest.mark.parametrize("later", ["in-progress", "ringing", "failed", "busy", "completed"])
@pytest.mark.parametrize("flow_finished", [True, False])
def test_a_late_or_out_of_order_callback_keeps_the_first_final_status(
    signer, place_call, later, flow_finished
):
    publish(two_menus("late"), NUMBER)
    call = place_call(NUMBER)
    if flow_finished:
        call.press("2")  # the flow hangs up: the status callback closes it in one UPDATE
    first = status(signer, call, "completed", CallDuration="42")
    assert (first.status, first.provider_status, first.duration) == ("completed", "completed", 42)
    steps = steps_of(first)

    again = status(signer, call, later, CallDuration="7")
    assert (again.status, again.provider_status, again.duration) == ("completed", "completed", 42)
    assert (again.ended_at, again.updated_at) == (first.ended_at, first.updated_at)
    assert steps_of(again) == steps


def test_a_late_callback_on_a_closed_call_writes_nothing(signer, place_call):
    publish(two_menus("quiet"), NUMBER)
    call = place_call(NUMBER)
    call.press("2")
    status(signer, call, "completed")
    with CaptureQueriesContext(connection) as captured:
        status(signer, call, "in-progress")
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE", "SELECT")] == []


def test_ringing_and_in_progress_only_record_the_provider_status_of_an_open_call(
    signer, place_call
):
    publish(two_menus("open"), NUMBER)
    call = place_call(NUMBER)
    session = status(signer, call, "in-progress")
    assert (session.status, session.provider_status, session.ended_at) == (
        "active",
        "in-progress",
        None,
    )
    call.press("1")  # the call goes on
    assert "Press 2." in call.said


@pytest.mark.parametrize("flow_finished", [True, False])
def test_the_call_duration_is_kept_from_the_final_status_callback(
    signer, place_call, flow_finished
):
    publish(two_menus("duration"), NUMBER)
    call = place_call(NUMBER)
    if flow_finished:
        call.press("2")
    assert status(signer, call, "ringing").duration is None
    session = status(signer, call, "completed", CallDuration="93")
    assert (session.status, session.duration) == ("completed", 93)
    assert session.ended_at is not None


def test_the_calls_api_shows_the_duration(signer, place_call, viewer_api):
    publish(two_menus("api-duration"), NUMBER)
    call = place_call(NUMBER)
    status(signer, call, "completed", CallDuration="61")
    assert viewer_api.get(f"/api/calls/{call.sid}/").json()["duration"] == 61
    assert viewer_api.get("/api/calls/").json()["results"][0]["duration"] == 61


def test_a_final_status_without_a_duration_or_a_garbled_one_keeps_none(signer, place_call):
    publish(two_menus("no-duration"), NUMBER)
    call = place_call(NUMBER)
    assert status(signer, call, "canceled", CallDuration="abc").duration is None
    assert status(signer, call, "completed", CallDuration="5").duration is None  # closed already


# --- the sweep: calls whose status callback never came -----------------------------------------
def route_flow(slug, target, **config):
    return flow_definition(
        slug,
        [
            {
                "id": "route",
                "type": "route",
                "config": {"target": target, **config},
                "exits": {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
        ],
    )


def test_a_call_whose_status_callback_was_lost_is_closed_by_the_sweep(signer, place_call, settings):
    settings.CALL_STALE_MINUTES = 240
    skill = Skill.objects.create(name="cards")
    agent = Agent.objects.create(name="Ada", number="+442071830001")
    agent.skills.add(skill)
    publish(route_flow("lost", {"skills": ["cards"]}), NUMBER)
    lost = place_call(NUMBER)
    assert lost.waits_for == "Dial"
    agent.refresh_from_db()
    assert agent.status == Agent.Status.BUSY
    live = place_call(NUMBER)  # no agent left: the flow ends, and its callback comes late
    silent_since(lost, 241)
    silent_since(live, 100)

    tasks.sweep_stale_calls()

    session = session_of(lost)
    assert (session.status, session.flow_finished) == ("completed", True)
    assert session.ended_at is not None and session.pending_since is None
    assert session.provider_status == "ringing"  # no final status came: none is made up
    assert "closed by the sweep: no webhook for 241 minutes" in session.errors[-1]
    step = CallStep.objects.get(session=session, node_id="route")
    assert step.hung_up and step.left_at is not None
    agent.refresh_from_db()
    assert (agent.status, agent.current_session) == (Agent.Status.AVAILABLE, None)
    assert session_of(live).ended_at is None  # silent for less than CALL_STALE_MINUTES

    # The provider's final status, should it come after all, is still recorded (once).
    closed = status(signer, lost, "completed", CallDuration="14500")
    assert (closed.provider_status, closed.duration, closed.ended_at) == (
        "completed",
        14500,
        session.ended_at,
    )
    assert status(signer, lost, "failed").provider_status == "completed"
    assert call_end.call_sweep() == 0


def test_the_sweep_gives_a_caller_in_a_queue_its_max_wait_on_top(signer, place_call, settings):
    settings.CALL_STALE_MINUTES = 60
    publish(route_flow("queued", {"queue": "support"}, max_wait=1800), NUMBER)
    waiting = place_call(NUMBER)
    assert waiting.waits_for == "Enqueue"
    silent_since(waiting, 61)
    assert call_end.call_sweep() == 0  # 30 minutes of max_wait are not over
    silent_since(waiting, 91)
    assert call_end.call_sweep() == 1
    session = session_of(waiting)
    assert session.status == "completed" and session.ended_at is not None
    assert CallStep.objects.get(session=session, node_id="route").hung_up


def test_the_sweep_leaves_text_conversations_and_closed_calls_alone(signer, place_call, settings):
    settings.CALL_STALE_MINUTES = 10
    publish(two_menus("left"), NUMBER)
    ended = place_call(NUMBER)
    ended.hang_up()
    silent_since(ended, 30)
    before = session_of(ended)
    sms = CallSession.objects.create(call_sid="SMSstale", channel="sms", state={})
    CallSession.objects.filter(pk=sms.pk).update(
        updated_at=timezone.now() - timedelta(hours=2),
        started_at=timezone.now() - timedelta(hours=2),
    )
    assert call_end.call_sweep() == 0
    after = session_of(ended)
    assert (after.ended_at, after.updated_at, after.errors) == (
        before.ended_at,
        before.updated_at,
        [],
    )
    assert CallSession.objects.get(pk=sms.pk).status == "active"


def test_one_sweep_closes_more_calls_than_one_query_reads(settings):
    settings.CALL_STALE_MINUTES = 10
    ended = engine.State(root="v0", flow="v0", ended=True).to_dict()
    count = call_end.SWEEP_BATCH * 2 + 50
    CallSession.objects.bulk_create(
        CallSession(call_sid=f"CA{i:032x}", state=ended, flow_finished=True) for i in range(count)
    )
    at = timezone.now() - timedelta(hours=1)  # all started in the same instant
    CallSession.objects.update(started_at=at, updated_at=at)
    assert call_end.call_sweep() == count
    assert not CallSession.objects.filter(status="active").exists()


def test_the_sweep_reads_only_active_calls_through_an_index(signer, settings):
    """Its query is served by the index on (status, started_at), never a scan of the table."""
    settings.CALL_STALE_MINUTES = 10
    now = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        call_end.call_sweep(now=now)
    [query] = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + query)
            plan = " ".join(str(row) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + query)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "callsession_status_started" in plan, plan


def test_the_beat_runs_the_sweep(settings):
    from callflow.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["call-sweep"]["task"] == "ivr_runtime.sweep_stale_calls"
    assert "ivr_runtime.sweep_stale_calls" in app.tasks


# --- subflows: the version published when the call started -------------------------------------
def child(text, slug="child"):
    return flow_definition(
        slug,
        [
            {"id": "hello", "type": "say", "config": {"text": text}, "exits": {"next": None}},
        ],
    )


def parent(slug="parent"):
    """A menu; 1 enters the child, then comes back to the menu; 2 hangs up."""
    return flow_definition(
        slug,
        [
            {
                "id": "menu",
                "type": "menu",
                "config": {"prompt": "Press 1.", "options": [{"key": "1"}, {"key": "2"}]},
                "exits": {"1": "sub", "2": "bye", "no_input": "bye", "no_match": "bye"},
            },
            {
                "id": "sub",
                "type": "subflow",
                "config": {"flow": "child"},
                "exits": {"return": "menu"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
        ],
    )


def test_a_call_keeps_the_subflow_version_published_when_it_started(signer, place_call):
    v1 = publish(child("Child one."))
    publish(parent(), NUMBER)
    before = place_call(NUMBER)  # started on child v1, not entered yet
    publish(child("Child two."))  # published mid-call
    after = place_call(NUMBER)

    before.press("1")
    assert before.heard[-2:] == ["Child one.", "Press 1."]
    after.press("1")
    assert after.heard[-2:] == ["Child two.", "Press 1."]

    publish(child("Child three."))
    before.press("1")  # entered again: still the version it started with
    assert before.heard[-2:] == ["Child one.", "Press 1."]
    assert session_of(before).state["subflows"] == {"child": v1.pk}
    steps = CallStep.objects.filter(session=session_of(before), node_id="hello")
    assert set(steps.values_list("flow_version", flat=True)) == {v1.pk}


def test_nested_subflows_are_pinned_too(signer, place_call):
    publish(child("Grandchild one.", slug="grandchild"))
    middle = flow_definition(
        "child",
        [
            {
                "id": "deeper",
                "type": "subflow",
                "config": {"flow": "grandchild"},
                "exits": {"return": None},
            }
        ],
    )
    publish(middle)
    publish(parent(), NUMBER)
    call = place_call(NUMBER)
    publish(child("Grandchild two.", slug="grandchild"))
    call.press("1")
    assert call.heard[-2:] == ["Grandchild one.", "Press 1."]


def test_a_flow_without_subflows_pins_nothing(signer):
    publish(two_menus("plain"), NUMBER)
    with CaptureQueriesContext(connection) as captured:
        call = Call(signer, to=NUMBER).start()
    assert session_of(call).state["subflows"] == {}
    assert not any("flows_flow" in q["sql"] and " IN " in q["sql"] for q in captured)


def test_a_subflow_first_published_during_the_call_is_pinned_when_first_entered(signer, place_call):
    publish(parent(), NUMBER)
    call = place_call(NUMBER)  # "child" is not published: nothing to pin yet
    first = publish(child("Child one."))
    call.press("1")
    assert call.heard[-2:] == ["Child one.", "Press 1."]
    publish(child("Child two."))
    call.press("1")
    assert call.heard[-2:] == ["Child one.", "Press 1."]
    assert session_of(call).state["subflows"] == {"child": first.pk}


# --- an sms node with nowhere to send ---------------------------------------------------------
def texting_flow(to):
    return flow_definition(
        "texting",
        [
            {
                "id": "text",
                "type": "sms",
                "config": {"body": "Your code is 1234.", "to": to},
                "exits": {"next": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
        ],
    )


def test_an_sms_whose_to_renders_empty_sends_nothing_and_goes_on(signer, place_call):
    publish(texting_flow("{{ vars.manager }}"), NUMBER)
    call = place_call(NUMBER)
    assert call.ended and call.heard == ["Goodbye."]
    assert not OutboundMessage.objects.exists()  # never texts the caller instead
    step = CallStep.objects.get(session__call_sid=call.sid, node_id="text")
    assert (step.exit, step.input) == ("next", "not sent: no number to text (`to` is empty)")
    assert session_of(call).errors == []


def test_an_sms_without_to_texts_the_caller(signer, place_call):
    definition = texting_flow(None)
    del definition["nodes"][0]["config"]["to"]
    publish(definition, NUMBER)
    call = place_call(NUMBER, caller=SENDER)
    assert list(OutboundMessage.objects.values_list("to", "body")) == [
        (SENDER, "Your code is 1234.")
    ]
    step = CallStep.objects.get(session__call_sid=call.sid, node_id="text")
    assert (step.exit, step.input) == ("next", SENDER)


# --- concurrent duplicates of an incoming text ------------------------------------------------
def text_form(sid, body):
    return {
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": SENDER,
        "To": NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def post_text(form):
    response = Signer(Client()).post("/ivr/sms", form)
    assert response.status_code == 200, response.content
    return response.content.decode()


def replies(xml):
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


def conversation(*nodes):
    publish(flow_definition("chat", list(nodes)), NUMBER)


MENU = {
    "id": "menu",
    "type": "menu",
    "config": {"prompt": "Reply 1 or 2.", "options": [{"key": "1"}, {"key": "2"}]},
    "exits": {"1": "again", "2": "bye", "no_input": "bye", "no_match": "bye"},
}
AGAIN = {
    "id": "again",
    "type": "menu",
    "config": {"prompt": "Once more: 1 or 2.", "options": [{"key": "1"}, {"key": "2"}]},
    "exits": {"1": "menu", "2": "bye", "no_input": "bye", "no_match": "bye"},
}
BYE = {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", ["first", "middle", "last"])
def test_concurrent_duplicates_of_a_text_all_get_the_stored_answer(round_):
    conversation(MENU, AGAIN, BYE)
    if round_ != "first":
        assert replies(post_text(text_form("SM" + "a" * 32, "hi"))) == ["Reply 1 or 2."]
    body = {"first": "hi", "middle": "1", "last": "2"}[round_]
    form = text_form("SM" + "b" * 32, body)

    answers = in_threads(6, lambda: post_text(form))

    expected = {"first": "Reply 1 or 2.", "middle": "Once more: 1 or 2.", "last": "Bye."}[round_]
    assert [replies(answer) for answer in answers] == [[expected]] * 6
    assert CallSession.objects.filter(channel="sms").count() == 1
    session = CallSession.objects.get(channel="sms")
    visits = list(CallStep.objects.filter(session=session).values_list("node_id", flat=True))
    expected_visits = {"first": ["menu"], "middle": ["menu", "again"], "last": ["menu", "bye"]}
    assert visits == expected_visits[round_]


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_of_a_text_out_for_a_lookup_waits_for_its_answer(record_server):
    conversation(
        {
            "id": "look",
            "type": "self_service",
            "config": {
                "mode": "lookup_say",
                "url": f"{record_server.url}/slow",
                "say": "Found it.",
            },
            "exits": {"done": "bye", "failed": "bye"},
        },
        BYE,
    )
    form = text_form("SM" + "c" * 32, "status?")
    answers = {}

    def first_text():
        try:
            answers["first"] = post_text(form)
        finally:
            connection.close()

    first = threading.Thread(target=first_text)
    first.start()
    wait_for(lambda: record_server.requests, interval=0.01, what="the first text's (1.5 s) lookup")
    try:
        answers["second"] = post_text(form)
    finally:
        first.join()
    assert replies(answers["first"]) == ["Found it.\nBye."]
    assert answers["second"] == answers["first"]
    assert len(record_server.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_first_text_replayed_after_the_conversation_went_on_advances_nothing_at_once():
    conversation(MENU, AGAIN, BYE)
    first = text_form("SM" + "d" * 32, "hi")
    assert replies(post_text(first)) == ["Reply 1 or 2."]
    assert replies(post_text(text_form("SM" + "e" * 32, "1"))) == ["Once more: 1 or 2."]
    started = time.monotonic()
    assert replies(post_text(first)) == []  # answered long ago: nothing to send again
    assert time.monotonic() - started < 1
    session = CallSession.objects.get(channel="sms")
    assert (session.current_node, session.seq) == ("again", 2)
    # A MessageSid seen from another sender is not theirs to replay.
    other = {**first, "From": "+447700900999"}
    assert replies(post_text(other)) == [
        "Sorry, we cannot answer your message right now. Please try again later."
    ]
