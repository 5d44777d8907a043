"""Flow tests (callflow-test/1) run through the real engine and services: the clock, the
caller, the vars and the HTTP answers they declare; nothing kept, nothing sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flows.models import Flow, FlowVersion
from ivr_runtime.flowtests.runner import run_tests
from ivr_runtime.models import CallSession, CallStep, OutboundMessage

from .conftest import ANSWERED_BY_MACHINE, flow_definition

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def restaurant() -> Flow:
    definition = json.loads((FIXTURES / "restaurant.json").read_text())
    return Flow.objects.create(slug="restaurant", name="Restaurant", definition=definition)


def crm_flow() -> Flow:
    definition = flow_definition(
        "crm",
        [
            {
                "id": "lookup",
                "type": "http",
                "config": {
                    "url": "https://crm.example.com/customers?phone={{ caller.number }}",
                    "save_as": "crm",
                },
                "exits": {"success": "by_tier", "failure": "sorry"},
            },
            {
                "id": "by_tier",
                "type": "branch",
                "config": {
                    "rules": [{"exit": "gold", "var": "vars.crm.tier", "op": "eq", "value": "gold"}]
                },
                "exits": {"gold": "gold", "else": "standard"},
            },
            {"id": "gold", "type": "hangup", "config": {"text": "Hello gold member."}, "exits": {}},
            {"id": "standard", "type": "hangup", "config": {"text": "Hello."}, "exits": {}},
            {"id": "sorry", "type": "hangup", "config": {"text": "Sorry."}, "exits": {}},
        ],
    )
    return Flow.objects.create(slug="crm", name="CRM", definition=definition)


def one(flow: Flow, test: dict[str, Any]) -> dict[str, Any]:
    return run_tests(flow, [test]).tests[0].as_dict()


AFTER_HOURS = {
    "name": "after hours gets the booking link",
    "at": "2026-12-01T23:00:00",
    "caller": "+447700900123",
    "steps": [{"expect_say": "closed right now"}],
    "expect": {
        "path": ["greeting", "hours", "after_hours_sms"],
        "sms": [{"to": "+447700900123", "contains": "book"}],
        "ends": "hangup",
    },
}


def test_a_passing_test_passes_and_says_what_the_call_did(restaurant):
    result = one(restaurant, AFTER_HOURS)
    assert result["failures"] == []
    assert result["passed"] is True
    assert result["path"] == ["greeting", "hours", "after_hours_sms", "closed_goodbye"]
    assert result["sms"][0]["to"] == "+447700900123"
    assert result["ends"] == "hangup"


def test_the_clock_is_the_tests_in_the_flows_time_zone(restaurant):
    lunch = {
        "name": "lunch time",
        "at": "2026-12-01T13:00:00",
        "steps": [{"expect_say": "to book a table press 1"}, {"press": "1"}],
        "expect": {"path": ["hours", "main_menu", "booking_sms"], "ends": "hangup"},
    }
    assert one(restaurant, lunch)["failures"] == []
    # 13:00 UTC is 13:00 in London in December; 13:00 in New York is 18:00 in London
    evening = {**lunch, "at": "2026-12-01T13:00:00-05:00"}
    assert one(restaurant, evening)["failures"] == []
    late = {**lunch, "at": "2026-12-01T16:00:00-05:00"}  # 21:00 in London: open
    assert one(restaurant, late)["failures"] == []
    closed = {**lunch, "at": "2026-12-01T15:00:00"}  # between lunch and dinner
    failures = one(restaurant, closed)["failures"]
    assert failures and "step 1 (expect_say" in failures[0]
    assert "closed right now" in failures[0]  # what the caller heard instead


def test_a_holiday_is_the_flows_holiday(restaurant):
    christmas = {
        "name": "christmas",
        "at": "2026-12-25T13:00:00",
        "expect": {"path": ["hours", "holiday_msg", "after_hours_sms"]},
    }
    assert one(restaurant, christmas)["failures"] == []


def test_each_unmet_expectation_is_named(restaurant):
    wrong = {
        "name": "wrong",
        "at": "2026-12-01T23:00:00",
        "expect": {
            "path": ["greeting", "main_menu"],
            "sms": [{"contains": "refund"}],
            "ends": "routed",
            "vars": {"choice": "1"},
        },
    }
    failures = one(restaurant, wrong)["failures"]
    assert len(failures) == 4
    assert "greeting > main_menu" in failures[0]
    assert "greeting > hours > after_hours_sms > closed_goodbye" in failures[0]
    assert "containing 'refund'" in failures[1] and "Book a table" in failures[1]
    assert "'routed' (routed to a person); it hung up" in failures[2]
    assert "var 'choice'" in failures[3] and "not set" in failures[3]


def test_nothing_a_test_does_is_kept_or_sent(restaurant):
    assert one(restaurant, AFTER_HOURS)["passed"]
    assert CallSession.objects.count() == 0
    assert CallStep.objects.count() == 0
    assert OutboundMessage.objects.count() == 0


def test_a_step_the_call_does_not_wait_for_fails_the_test(restaurant):
    test = {
        "name": "dial at the menu",
        "at": "2026-12-01T13:00:00",
        "steps": [{"dial": "no-answer"}, {"press": "1"}],
    }
    failures = one(restaurant, test)["failures"]
    assert failures == ["step 1 (dial 'no-answer'): the call is waiting for input, not for 'dial'"]


def test_a_step_after_the_call_ended_fails_the_test(restaurant):
    test = {"name": "too late", "at": "2026-12-01T23:00:00", "steps": [{"press": "1"}]}
    assert one(restaurant, test)["failures"] == ["step 1 (press '1'): the call had already ended"]


def test_routing_no_answer_and_the_caller_hanging_up(restaurant):
    test = {
        "name": "staff do not answer",
        "at": "2026-12-01T13:00:00",
        "steps": [{"press": "3"}, {"expect_say": "putting you through"}, {"dial": "no-answer"}],
        "expect": {"path": ["staff", "booking_sms", "booking_sent"], "ends": "hangup"},
    }
    assert one(restaurant, test)["failures"] == []
    hung_up = {
        "name": "caller hangs up at the menu",
        "at": "2026-12-01T13:00:00",
        "steps": [{"hangup": True}],
        "expect": {"ends": "abandoned", "no_sms": True},
    }
    result = one(restaurant, hung_up)
    assert result["failures"] == []
    assert result["outcome"] == "abandoned"


def test_http_answers_are_the_declared_ones_and_nothing_else_is_reached():
    flow = crm_flow()
    gold = {
        "name": "gold",
        "caller": "+447700900555",
        "http": [{"url": "https://crm.example.com/*", "json": {"tier": "gold"}}],
        "steps": [{"expect_say": "gold member"}],
        "expect": {"path": ["lookup", "by_tier", "gold"], "vars": {"crm": {"tier": "gold"}}},
    }
    result = one(flow, gold)
    assert result["failures"] == []
    assert result["http"] == [
        {
            "method": "GET",
            "url": "https://crm.example.com/customers?phone=%2B447700900555",
            "status": 200,
        }
    ]
    down = {
        "name": "crm down",
        "http": [{"url": "https://crm.example.com/*", "status": 503}],
        "expect": {"path": ["lookup", "sorry"]},
    }
    assert one(flow, down)["failures"] == []
    timing_out = {
        "name": "crm times out",
        "http": [{"url": "https://crm.example.com/*", "error": "timed out"}],
        "expect": {"path": ["lookup", "sorry"]},
    }
    assert one(flow, timing_out)["failures"] == []
    undeclared = {"name": "no answer declared", "expect": {"path": ["lookup", "sorry"]}}
    failures = one(flow, undeclared)["failures"]
    assert failures == [
        "HTTP GET https://crm.example.com/customers?phone=%2B447700900123: "
        "no answer declared for it in 'http'"
    ]
    other_method = {
        "name": "a POST answer does not answer a GET",
        "http": [{"url": "https://crm.example.com/*", "method": "POST", "json": {}}],
    }
    assert "no answer declared" in one(flow, other_method)["failures"][0]


def test_an_http_answer_with_many_wildcards_is_matched_at_once():
    """Each `*` is any run of characters, matched in linear time: a URL pattern with many
    of them cannot hold the worker that runs the tests (publishing, the API)."""
    flow = crm_flow()
    flow.definition["nodes"][0]["config"]["url"] = "https://crm.example.com/" + "a" * 300
    flow.save()
    many = "*a" * 40
    tests = [
        {"name": "no match", "http": [{"url": many + "*Z", "json": {}}]},
        {"name": "a match", "http": [{"url": "https://crm.example.com/" + many, "json": {}}]},
    ]
    missed, matched = (test.as_dict() for test in run_tests(flow, tests).tests)
    assert "no answer declared" in missed["failures"][0]
    assert matched["failures"] == [] and matched["http"][0]["status"] == 200


def test_a_test_runs_the_version_it_names_and_the_vars_it_gives():
    flow = crm_flow()
    first = FlowVersion.objects.create(flow=flow, number=1, definition=flow.definition)
    flow.published_version = first
    flow.save()
    flow.definition = flow_definition(
        "crm",
        [
            {
                "id": "hello",
                "type": "say",
                "config": {"text": "Hello {{ vars.name }}."},
                "exits": {"next": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
        ],
    )
    flow.save()
    draft = {
        "name": "the draft greets by name",
        "vars": {"name": "Ada"},
        "steps": [{"expect_say": "hello ada"}],
        "expect": {"path": ["hello", "bye"]},
    }
    assert one(flow, draft)["failures"] == []
    pinned = {
        "name": "version 1 looks the caller up",
        "version": 1,
        "http": [{"url": "*", "json": {}}],
        "expect": {"path": ["lookup", "by_tier", "standard"]},
    }
    assert one(flow, pinned)["failures"] == []
    missing = {"name": "no such version", "version": 7}
    assert one(flow, missing)["failures"] == ["flow 'crm' has no version 7"]


def reminder_flow() -> Flow:
    definition = flow_definition(
        "reminders",
        [
            {
                "id": "who",
                "type": "branch",
                "config": {"rules": [ANSWERED_BY_MACHINE]},
                "exits": {"machine": "message", "else": "hello"},
            },
            {"id": "message", "type": "hangup", "config": {"text": "Sorry we missed you."}},
            {
                "id": "hello",
                "type": "hangup",
                "config": {"text": "Hello {{ vars.name }}, a {{ call.direction }} call."},
            },
        ],
    )
    return Flow.objects.create(slug="reminders", name="Reminders", definition=definition)


def test_an_outbound_test_call_is_answered_by_a_person_or_a_machine():
    flow = reminder_flow()
    person = {
        "name": "a person answers",
        "direction": "outbound",
        "caller": "+447700900777",
        "vars": {"name": "Ada"},
        "steps": [{"expect_say": "hello ada, a outbound call"}],
        "expect": {"path": ["who", "hello"]},
    }
    assert one(flow, person)["failures"] == []
    machine = {**person, "name": "a machine answers", "answered_by": "machine_start"}
    machine["steps"] = [{"expect_say": "sorry we missed you"}]
    machine["expect"] = {"path": ["who", "message"]}
    assert one(flow, machine)["failures"] == []
    fax = {**person, "name": "not Twilio's", "answered_by": "a cat"}
    assert one(flow, fax)["failures"] == [
        "the call could not start: outbound.answered_by: 'a cat' is not one of Twilio's"
    ]
