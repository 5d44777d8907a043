"""Every node type and every exit, through whole signed calls that follow the TwiML."""

import http.client
import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from ivr_runtime.models import (
    Agent,
    CallbackRequest,
    CallSession,
    CallStep,
    Customer,
    OutboundMessage,
    Recording,
    Skill,
)

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db

NUMBER = "+442079460102"
CALLER = "+447700900123"


def bye(node_id, text=None):
    return {"id": node_id, "type": "hangup", "config": {"text": text or node_id}, "exits": {}}


def path(call):
    return list(CallStep.objects.filter(session__call_sid=call.sid).values_list("node_id", "exit"))


def one(node, *others, **extra):
    publish(flow_definition("nodes", [node, *others], **extra), NUMBER)


# --- say ---------------------------------------------------------------------------------------
def test_say_plays_audio_and_loops(place_call):
    one(
        {
            "id": "s",
            "type": "say",
            "config": {"text": "Hi", "audio_url": "https://example.com/a.mp3", "loop": 2},
            "exits": {"next": "end"},
        },
        bye("end"),
    )
    call = place_call(NUMBER)
    assert call.heard == ["Hi", "[play https://example.com/a.mp3]", "end"]
    assert 'loop="2"' in call.last_response


# --- time_of_day -----------------------------------------------------------------------------
HOURS = {
    "id": "hours",
    "type": "time_of_day",
    "config": {
        "timezone": "Europe/London",
        "schedule": {"mon": [["09:00", "17:30"]], "sat": [["10:00", "13:00"]]},
        "holidays": ["2026-12-25"],
        "closures": [{"from": "2026-08-03", "to": "2026-08-07"}],
        "country": "GB",
    },
    "exits": {"open": "open", "closed": "closed", "holiday": "holiday"},
}


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), "open"),  # Monday 10:00 London
        (datetime(2026, 11, 23, 17, 30, tzinfo=UTC), "closed"),  # closing time
        (datetime(2026, 7, 6, 8, 30, tzinfo=UTC), "open"),  # 09:30 BST
        (datetime(2026, 8, 3, 9, 0, tzinfo=UTC), "closed"),  # a closure
        (datetime(2026, 12, 25, 11, 0, tzinfo=UTC), "holiday"),  # listed holiday
        (datetime(2026, 5, 25, 10, 0, tzinfo=UTC), "holiday"),  # GB spring bank holiday (a Monday)
        (datetime(2026, 11, 29, 11, 0, tzinfo=UTC), "closed"),  # Sunday
    ],
)
def test_time_of_day_exits(place_call, moment, expected):
    one(HOURS, bye("open"), bye("closed"), bye("holiday"))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        call = place_call(NUMBER)
    assert call.heard == [expected]


def test_unconnected_holiday_exit_is_closed(place_call):
    hours = {**HOURS, "exits": {"open": "open", "closed": "closed", "holiday": None}}
    one(hours, bye("open"), bye("closed"))
    with mock.patch(
        "django.utils.timezone.now", return_value=datetime(2026, 12, 25, 11, tzinfo=UTC)
    ):
        call = place_call(NUMBER)
    assert call.heard == ["closed"]
    assert path(call)[0] == ("hours", "holiday")


# --- authenticate -------------------------------------------------------------------------------
@pytest.fixture
def customers(db):
    ada = Customer(name="Ada Lovelace", phone=CALLER, account_number="12345678", tier="gold")
    ada.set_pin("4321")
    ada.save()
    bob = Customer(name="Bob Byte", phone="+447700900999", account_number="87654321", tier="silver")
    bob.set_pin("1111")
    bob.save()
    return ada, bob


def auth_flow(method, **config):
    return (
        {
            "id": "auth",
            "type": "authenticate",
            "config": {"method": method, "max_attempts": 2, **config},
            "exits": {"success": "ok", "failure": "no"},
        },
        bye("ok", "Hello {{ customer.first_name }}, tier {{ customer.tier }}."),
        bye("no"),
    )


def test_authenticate_by_caller_id(place_call, customers):
    one(*auth_flow("caller_id"))
    assert place_call(NUMBER).heard == ["Hello Ada, tier gold."]
    assert place_call(NUMBER, caller="+447700900555").heard == ["no"]
    assert place_call(NUMBER, caller="anonymous").heard == ["no"]


def test_authenticate_account_and_pin(place_call, customers):
    one(*auth_flow("account_pin", digits=8, pin_digits=4))
    call = place_call(NUMBER, caller="+15005550006")
    assert call.waiting.get("numDigits") == "8"
    call.press("87654321")
    assert call.waiting.get("numDigits") == "4"
    call.press("1111")
    assert call.heard[-1] == "Hello Bob, tier silver."
    session = CallSession.objects.get(call_sid=call.sid)
    assert session.state["customer"]["account"] == "87654321"
    # The PIN is kept nowhere: not as a number of its own (a timestamp's microseconds may
    # happen to contain its digits).
    kept = str(session.state) + str(list(CallStep.objects.values()))
    assert not re.search(r"(?<!\d)1111(?!\d)", kept)


def test_authenticate_wrong_pin_retries_then_fails(place_call, customers):
    one(*auth_flow("account_pin"))
    call = place_call(NUMBER).press("12345678").press("0000")
    assert "does not match" in call.heard[-2]
    call.press("12345678").press("9999")
    assert call.heard[-1] == "no"
    assert path(call)[0][1] == "failure"


def test_authenticate_pin_against_caller_id(place_call, customers):
    one(*auth_flow("pin"))
    assert place_call(NUMBER).press("4321").heard[-1] == "Hello Ada, tier gold."
    call = place_call(NUMBER).silence()
    assert call.waits_for == "Gather"
    call.press("abc")
    assert call.heard[-1] == "no"


# --- route ---------------------------------------------------------------------------------
def route_flow(target, **config):
    return (
        {
            "id": "route",
            "type": "route",
            "config": {
                "target": target,
                "timeout": 20,
                "max_wait": 60,
                "announce": "Connecting you.",
                **config,
            },
            "exits": {"connected": "connected", "unavailable": "unavailable", "timeout": "timeout"},
        },
        bye("connected"),
        bye("unavailable"),
        bye("timeout"),
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("completed", "connected"),
        ("busy", "unavailable"),
        ("failed", "unavailable"),
        ("canceled", "unavailable"),
    ],
)
def test_route_to_number(place_call, status, expected):
    one(*route_flow({"number": "+442071838750"}))
    call = place_call(NUMBER)
    assert call.waits_for == "Dial" and call.waiting.get("timeout") == "20"
    assert call.waiting.find("Number").text == "+442071838750"
    assert call.heard == ["Connecting you."]
    call.dial_ends(status, duration=30)
    assert call.heard[-1] == expected


def test_route_no_answer_is_timeout_only_after_ringing_out(place_call):
    one(*route_flow({"sip": "sip:desk@example.com"}))
    start = datetime(2026, 11, 23, 10, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=start):
        call = place_call(NUMBER)
    assert call.waiting.find("Sip").text == "sip:desk@example.com"
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=20)):
        call.dial_ends("no-answer")
    assert call.heard[-1] == "timeout"
    with mock.patch("django.utils.timezone.now", return_value=start):
        call = place_call(NUMBER)
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=3)):
        call.dial_ends("no-answer")
    assert call.heard[-1] == "unavailable"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("bridged", "connected"),
        ("leave", "timeout"),
        ("queue-full", "unavailable"),
        ("error", "unavailable"),
    ],
)
def test_route_to_queue(place_call, result, expected):
    one(*route_flow({"queue": "support"}))
    call = place_call(NUMBER)
    assert call.waits_for == "Enqueue" and call.waiting.text == "support"
    assert "<Play>" in call.queue_wait(10)
    assert "<Leave />" in call.queue_wait(61)
    call.queue_ends(result)
    assert call.heard[-1] == expected


def test_route_queue_hangup_marks_the_step(place_call):
    one(*route_flow({"queue": "support"}))
    call = place_call(NUMBER).queue_ends("hangup")
    assert call.ended
    step = CallStep.objects.get(session__call_sid=call.sid, node_id="route")
    assert step.hung_up


@pytest.fixture
def agents(db):
    cards, fraud = Skill.objects.create(name="cards"), Skill.objects.create(name="fraud")
    long_idle = Agent.objects.create(
        name="Long idle",
        number="+442071830001",
        last_call_ended_at=timezone.now() - timedelta(hours=2),
    )
    recent = Agent.objects.create(
        name="Recent", number="+442071830002", last_call_ended_at=timezone.now()
    )
    cards_only = Agent.objects.create(name="Cards only", number="+442071830003")
    for agent in (long_idle, recent):
        agent.skills.add(cards, fraud)
    cards_only.skills.add(cards)
    return long_idle, recent, cards_only


def test_route_by_skills_dials_the_longest_idle_agent_and_releases_them(place_call, agents):
    long_idle, recent, _ = agents
    one(*route_flow({"skills": ["cards", "fraud"]}))
    call = place_call(NUMBER)
    assert call.waiting.find("Number").text == long_idle.number
    long_idle.refresh_from_db()
    assert long_idle.status == Agent.Status.BUSY
    second = place_call(NUMBER, caller="+447700900222")
    assert second.waiting.find("Number").text == recent.number
    third = place_call(NUMBER, caller="+447700900333")
    assert third.heard[-1] == "unavailable"
    call.dial_ends("completed", 60)
    long_idle.refresh_from_db()
    assert long_idle.status == Agent.Status.AVAILABLE and long_idle.last_call_ended_at is not None
    second.hang_up()
    recent.refresh_from_db()
    assert recent.status == Agent.Status.AVAILABLE


# --- sms, self_service -----------------------------------------------------------------------
def test_sms_writes_an_outbox_row_with_the_step(place_call):
    one(
        {
            "id": "text",
            "type": "sms",
            "config": {"body": "Book at https://example.com/book?from={{ caller.number }}"},
            "exits": {"next": "end"},
        },
        bye("end"),
    )
    call = place_call(NUMBER)
    message = OutboundMessage.objects.get()
    assert (message.to, message.from_number, message.status) == (
        CALLER,
        NUMBER,
        OutboundMessage.Status.QUEUED,
    )
    assert message.body == f"Book at https://example.com/book?from={CALLER}"
    assert message.step.node_id == "text" and message.session.call_sid == call.sid


def test_sms_is_written_by_the_call_and_sent_by_the_task_the_relay_hands_it_to(
    place_call, settings
):
    from ivr_runtime.sms import outbox
    from tests.fakes.twilio_api import FakeTwilio

    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from callflow.celery import app

    app.conf.task_always_eager = True
    try:
        one(
            {"id": "text", "type": "sms", "config": {"body": "Hello"}, "exits": {"next": "end"}},
            bye("end"),
        )
        place_call(NUMBER)
        assert OutboundMessage.objects.get().status == OutboundMessage.Status.QUEUED
        assert fake.messages() == []  # nothing is sent from the webhook
        assert outbox.outbox_sweep() == 1
        message = OutboundMessage.objects.get()
        assert message.status == OutboundMessage.Status.SENT and message.provider_sid.startswith(
            "SM"
        )
        assert [r.form["Body"] for r in fake.messages()] == ["Hello"]
    finally:
        app.conf.task_always_eager = False
        fake.stop()


def test_self_service_link_sms(place_call):
    one(
        {
            "id": "link",
            "type": "self_service",
            "config": {
                "mode": "link_sms",
                "url": "https://example.com/self",
                "body": "Manage your card:",
                "say": "We have texted you a link.",
            },
            "exits": {"done": "done", "failed": "failed"},
        },
        bye("done"),
        bye("failed"),
    )
    assert place_call(NUMBER).heard == ["We have texted you a link.", "done"]
    assert OutboundMessage.objects.get().body == "Manage your card: https://example.com/self"
    assert place_call(NUMBER, caller="anonymous").heard == ["failed"]


def test_self_service_lookup_say(place_call, record_server):
    one(
        {
            "id": "balance",
            "type": "self_service",
            "config": {
                "mode": "lookup_say",
                "url": record_server.url + "/balance?caller={{ caller.number }}",
                "say": "Your balance is {{ nodes.balance.response.balance }} pounds.",
            },
            "exits": {"done": "done", "failed": "failed"},
        },
        bye("done"),
        bye("failed"),
    )
    assert place_call(NUMBER).heard == ["Your balance is 42.50 pounds.", "done"]
    assert (
        record_server.requests[0][1] == "/balance?caller=%2B447700900123"
        or "caller=" in record_server.requests[0][1]
    )


def test_self_service_lookup_failure(place_call, record_server):
    one(
        {
            "id": "balance",
            "type": "self_service",
            "config": {"mode": "lookup_say", "url": record_server.url + "/error", "say": "never"},
            "exits": {"done": "done", "failed": "failed"},
        },
        bye("done"),
        bye("failed"),
    )
    assert place_call(NUMBER).heard == ["failed"]


# --- http --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/customer", "success gold"),
        ("/error", "failure "),
        ("/notjson", "failure "),
        ("/slow", "failure "),
    ],
)
def test_http_node(place_call, record_server, route, expected):
    one(
        {
            "id": "lookup",
            "type": "http",
            "config": {
                "url": record_server.url + route,
                "method": "POST",
                "body": {"caller": "{{ caller.number }}"},
                "timeout": 0.5,
                "save_as": "crm",
            },
            "exits": {"success": "success", "failure": "failure"},
        },
        bye("success", "success {{ vars.crm.tier }}"),
        bye("failure", "failure {{ nodes.lookup.response.tier }}"),
    )
    assert place_call(NUMBER).heard == [expected.strip()]


def test_http_is_not_called_inside_a_transaction(place_call, record_server):
    from django.db import connection

    seen = []
    real = http.client.HTTPConnection.request

    def spy(*args, **kwargs):
        seen.append(connection.in_atomic_block and len(connection.atomic_blocks))
        return real(*args, **kwargs)

    one(
        {
            "id": "lookup",
            "type": "http",
            "config": {"url": record_server.url + "/customer"},
            "exits": {"success": "success", "failure": "failure"},
        },
        bye("success"),
        bye("failure"),
    )
    with mock.patch.object(http.client.HTTPConnection, "request", spy):
        place_call(NUMBER)
    # pytest-django's test transaction is the only atomic block open during the request
    assert seen == [1]


# --- callback ---------------------------------------------------------------------------------
def callback_flow(**config):
    return (
        {
            "id": "cb",
            "type": "callback",
            "config": {
                "prompt": "Press 1 for a call back, 2 for voicemail.",
                "within_hours": 2,
                **config,
            },
            "exits": {"scheduled": "scheduled", "declined": "declined"},
        },
        bye("scheduled"),
        bye("declined"),
    )


def test_callback_confirm_own_number(place_call):
    one(*callback_flow())
    call = place_call(NUMBER).press("1")
    assert "7 7 0 0 9 0 0 1 2 3" in call.heard[-1]
    before = timezone.now()
    call.press("1")
    assert call.heard[-1] == "scheduled"
    request = CallbackRequest.objects.get()
    assert request.number == CALLER
    assert timedelta(hours=1, minutes=59) < request.due_at - before <= timedelta(hours=2, seconds=5)


def test_callback_enter_another_number(place_call):
    one(*callback_flow())
    call = place_call(NUMBER).press("1").press("2")
    assert call.waiting.get("finishOnKey") == "#"
    call.press("12")  # not a number
    assert "not a number we can call" in call.heard[-2]
    call.press("02071838750")
    assert call.heard[-1] == "scheduled"
    assert CallbackRequest.objects.get().number == "+442071838750"


def test_callback_declined_and_without_confirmation(place_call):
    one(*callback_flow())
    assert place_call(NUMBER).press("2").heard[-1] == "declined"
    assert place_call(NUMBER).silence().heard[-1] == "declined"
    CallSession.objects.all().delete()
    one(*callback_flow(confirm_number=False))
    assert place_call(NUMBER).press("1").heard[-1] == "scheduled"


# --- voicemail --------------------------------------------------------------------------------
def voicemail_flow():
    return (
        {
            "id": "vm",
            "type": "voicemail",
            "config": {"prompt": "Leave a message.", "max_length": 60},
            "exits": {"recorded": "recorded", "empty": "empty"},
        },
        bye("recorded", "Got {{ nodes.vm.duration }} seconds."),
        bye("empty"),
    )


def test_voicemail_recorded(place_call):
    one(*voicemail_flow())
    call = place_call(NUMBER)
    assert call.waits_for == "Record" and call.waiting.get("maxLength") == "60"
    call.record(12)
    assert call.heard[-1] == "Got 12 seconds."
    recording = Recording.objects.get()
    assert recording.duration == 12 and recording.url.startswith("https://api.twilio.com/")


def test_voicemail_empty(place_call):
    one(*voicemail_flow())
    assert place_call(NUMBER).record_nothing().heard[-1] == "empty"
    assert place_call(NUMBER).record(0).heard[-1] == "empty"
    assert not Recording.objects.exists()


# --- branch and set ------------------------------------------------------------------------------
def test_set_then_branch(place_call):
    one(
        {
            "id": "remember",
            "type": "set",
            "config": {"vars": {"tier": "gold", "n": "{{ 3 + 4 }}"}},
            "exits": {"next": "by"},
        },
        {
            "id": "by",
            "type": "branch",
            "config": {
                "rules": [
                    {"exit": "big", "var": "vars.n", "op": "gt", "value": 10},
                    {"exit": "gold", "var": "vars.tier", "op": "eq", "value": "GOLD"},
                ]
            },
            "exits": {"big": "big", "gold": "gold", "else": "other"},
        },
        bye("big"),
        bye("gold", "gold {{ vars.n }}"),
        bye("other"),
    )
    call = place_call(NUMBER)
    assert call.heard == ["gold 7"]
    assert path(call) == [("remember", "next"), ("by", "gold"), ("gold", "")]


def test_branch_else(place_call):
    one(
        {
            "id": "by",
            "type": "branch",
            "config": {"rules": [{"exit": "known", "var": "customer.name", "op": "not_empty"}]},
            "exits": {"known": "known", "else": "other"},
        },
        bye("known"),
        bye("other"),
    )
    assert place_call(NUMBER).heard == ["other"]


# --- subflow -------------------------------------------------------------------------------------
def test_subflow_enters_and_returns(place_call):
    publish(
        flow_definition(
            "shared-menu",
            [
                {
                    "id": "ask",
                    "type": "menu",
                    "config": {"prompt": "Press 1.", "options": [{"key": "1"}]},
                    "exits": {"1": "noted", "no_input": None, "no_match": None},
                },
                {
                    "id": "noted",
                    "type": "set",
                    "config": {"vars": {"chosen": "{{ nodes.ask.digits }}"}},
                    "exits": {"next": None},
                },
            ],
        )
    )
    one(
        {"id": "hello", "type": "say", "config": {"text": "Hello."}, "exits": {"next": "sub"}},
        {
            "id": "sub",
            "type": "subflow",
            "config": {"flow": "shared-menu"},
            "exits": {"return": "end"},
        },
        bye("end", "You chose {{ vars.chosen }}."),
    )
    call = place_call(NUMBER)
    assert call.heard == ["Hello.", "Press 1."]
    call.press("1")
    assert call.heard[-1] == "You chose 1."
    assert path(call) == [
        ("hello", "next"),
        ("sub", "return"),
        ("ask", "1"),
        ("noted", "next"),
        ("end", ""),
    ]
    flows = set(CallStep.objects.values_list("flow__slug", flat=True))
    assert flows == {"nodes", "shared-menu"}


def test_subflow_not_published_runs_the_fallback(place_call):
    one(
        {"id": "sub", "type": "subflow", "config": {"flow": "missing"}, "exits": {"return": "end"}},
        bye("end"),
        bye("sorry", "Fallback node."),
        fallback={"node": "sorry"},
    )
    call = place_call(NUMBER)
    assert call.heard == ["Sorry, something went wrong on our side.", "Fallback node."]
