"""The runtime API: calls, statistics and the simulator (the designer's contract)."""

import pytest

from flows.models import Flow
from ivr_runtime.models import CallbackRequest, CallSession, CallStep, OutboundMessage

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db

NUMBER = "+442079460104"


def demo_flow(greeting="Welcome."):
    return flow_definition(
        "sim",
        [
            {"id": "hello", "type": "say", "config": {"text": greeting}, "exits": {"next": "menu"}},
            {
                "id": "menu",
                "type": "menu",
                "config": {
                    "prompt": "Press 1 for a link, 2 for an agent, 3 for voicemail.",
                    "input": "both",
                    "retries": 0,
                    "options": [{"key": "1", "speech": ["link"]}, {"key": "2"}, {"key": "3"}],
                },
                "exits": {
                    "1": "text",
                    "2": "agent",
                    "3": "vm",
                    "no_input": "bye",
                    "no_match": "bye",
                },
            },
            {
                "id": "text",
                "type": "sms",
                "config": {"body": "Your link: https://example.com/x"},
                "exits": {"next": "bye"},
            },
            {
                "id": "agent",
                "type": "route",
                "config": {"target": {"number": "+442071838750"}, "timeout": 20},
                "exits": {"connected": "bye", "unavailable": "cb", "timeout": "q"},
            },
            {
                "id": "q",
                "type": "route",
                "config": {"target": {"queue": "support"}},
                "exits": {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
            },
            {
                "id": "cb",
                "type": "callback",
                "config": {"prompt": "Press 1 for a callback.", "confirm_number": False},
                "exits": {"scheduled": "bye", "declined": "bye"},
            },
            {
                "id": "vm",
                "type": "voicemail",
                "config": {"prompt": "Leave a message."},
                "exits": {"recorded": "bye", "empty": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
        ],
    )


def simulate(api, body, slug="sim", expect=200):
    response = api.post(f"/api/flows/{slug}/simulate/", body, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def test_simulator_contract_with_sms_shown_not_sent(editor_api):
    publish(demo_flow())
    answer = simulate(editor_api, {"session": None, "event": {"type": "start"}})
    assert set(answer) == {
        "session",
        "twiml",
        "prompts",
        "waiting_for",
        "wait",
        "input",
        "call",
        "path",
        "current_node",
        "sms",
        "http",
        "ended",
    }
    assert answer["twiml"].startswith("<Response>") and answer["twiml"].endswith("</Response>")
    assert answer["prompts"] == ["Welcome.", "Press 1 for a link, 2 for an agent, 3 for voicemail."]
    assert answer["waiting_for"] == "input" and answer["input"] == {
        "dtmf": True,
        "speech": True,
        "num_digits": 1,
    }
    assert answer["path"] == [{"node": "hello", "exit": "next"}, {"node": "menu", "exit": None}]
    assert answer["current_node"] == "menu" and answer["sms"] == [] and answer["ended"] is False
    sid = answer["session"]
    answer = simulate(
        editor_api, {"session": sid, "event": {"type": "speech", "speech": "a link please"}}
    )
    assert answer["sms"] == [{"to": "+447700900123", "body": "Your link: https://example.com/x"}]
    assert answer["ended"] is True and answer["waiting_for"] is None and answer["input"] is None
    assert [p["node"] for p in answer["path"]] == ["hello", "menu", "text", "bye"]
    message = OutboundMessage.objects.get()
    assert message.simulated and message.status == OutboundMessage.Status.SIMULATED
    assert (
        CallSession.objects.get(call_sid=sid).simulated
        and CallStep.objects.filter(simulated=False).count() == 0
    )


def test_simulator_runs_the_draft_by_default_and_published_on_request(editor_api):
    publish(demo_flow("Published."))
    flow = Flow.objects.get(slug="sim")
    flow.definition = demo_flow("Draft.")
    flow.save()
    assert simulate(editor_api, {"event": {"type": "start"}})["prompts"][0] == "Draft."
    published = simulate(
        editor_api, {"source": "published", "from": "+15005550006", "event": {"type": "start"}}
    )
    assert published["prompts"][0] == "Published."
    assert CallSession.objects.get(call_sid=published["session"]).from_number == "+15005550006"


def test_simulator_dial_queue_callback_record_and_hangup(editor_api):
    publish(demo_flow())
    sid = simulate(editor_api, {"event": {"type": "start"}})["session"]
    answer = simulate(editor_api, {"session": sid, "event": {"type": "digits", "digits": "2"}})
    assert answer["waiting_for"] == "dial"
    answer = simulate(
        editor_api, {"session": sid, "event": {"type": "dial", "status": "no-answer"}}
    )
    assert answer["waiting_for"] == "queue" and answer["path"][-2] == {
        "node": "agent",
        "exit": "timeout",
    }
    answer = simulate(editor_api, {"session": sid, "event": {"type": "queue", "result": "bridged"}})
    assert answer["ended"] and answer["prompts"] == ["Goodbye."]

    sid = simulate(editor_api, {"event": {"type": "start"}})["session"]
    simulate(editor_api, {"session": sid, "event": {"type": "digits", "digits": "2"}})
    answer = simulate(editor_api, {"session": sid, "event": {"type": "dial", "status": "busy"}})
    assert answer["current_node"] == "cb" and answer["input"]["num_digits"] == 1
    simulate(editor_api, {"session": sid, "event": {"type": "digits", "digits": "1"}})
    assert CallbackRequest.objects.get().simulated

    sid = simulate(editor_api, {"event": {"type": "start"}})["session"]
    answer = simulate(editor_api, {"session": sid, "event": {"type": "digits", "digits": "3"}})
    assert answer["waiting_for"] == "record"
    answer = simulate(editor_api, {"session": sid, "event": {"type": "record", "duration": 0}})
    assert answer["path"][-2] == {"node": "vm", "exit": "empty"}

    sid = simulate(editor_api, {"event": {"type": "start"}})["session"]
    answer = simulate(editor_api, {"session": sid, "event": {"type": "hangup"}})
    assert answer["ended"] and answer["path"][-1] == {"node": "menu", "exit": None}
    assert CallStep.objects.get(session__call_sid=sid, node_id="menu").hung_up


def test_simulator_refuses_what_it_cannot_do(editor_api, viewer_api, anon_api):
    publish(demo_flow())
    simulate(viewer_api, {"event": {"type": "start"}}, expect=403)
    assert anon_api.post(
        "/api/flows/sim/simulate/", {"event": {"type": "start"}}, format="json"
    ).status_code in (401, 403)
    simulate(editor_api, {"event": {"type": "start"}}, slug="missing", expect=404)
    simulate(
        editor_api, {"session": "SIMnope", "event": {"type": "digits", "digits": "1"}}, expect=404
    )
    simulate(editor_api, {"event": {"type": "digits"}}, expect=400)
    simulate(editor_api, {"event": {"type": "teleport"}}, expect=400)
    sid = simulate(editor_api, {"event": {"type": "start"}})["session"]
    assert (
        "waiting for input"
        in simulate(
            editor_api, {"session": sid, "event": {"type": "dial", "status": "busy"}}, expect=400
        )["detail"]
    )
    unpublished = demo_flow()
    unpublished["slug"] = "draft-only"
    Flow.objects.create(slug="draft-only", name="Draft only", definition=unpublished)
    simulate(
        editor_api,
        {"source": "published", "event": {"type": "start"}},
        slug="draft-only",
        expect=400,
    )
    assert (
        simulate(editor_api, {"event": {"type": "start"}}, slug="draft-only")["waiting_for"]
        == "input"
    )


def test_simulated_http_is_real(editor_api, record_server):
    definition = flow_definition(
        "sim",
        [
            {
                "id": "h",
                "type": "http",
                "config": {"url": record_server.url + "/customer"},
                "exits": {"success": "ok", "failure": "bye"},
            },
            {
                "id": "ok",
                "type": "hangup",
                "config": {"text": "Tier {{ nodes.h.response.tier }}."},
                "exits": {},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Failed."}, "exits": {}},
        ],
    )
    publish(definition)
    answer = simulate(editor_api, {"event": {"type": "start"}})
    assert answer["prompts"] == ["Tier gold."]
    assert len(record_server.requests) == 1
    # what the request answered, so that the call can be kept as a flow test
    [made] = answer["http"]
    assert made == {**made, "method": "GET", "url": record_server.url + "/customer"}
    assert (made["status"], made["json"]["tier"], made["error"]) == (200, "gold", None)


def test_a_simulated_request_that_fails_says_how(editor_api, settings):
    settings.HTTP_NODE_ALLOWED_NETWORKS = []
    definition = flow_definition(
        "sim",
        [
            {
                "id": "h",
                "type": "http",
                "config": {"url": "http://127.0.0.1:9/customer"},
                "exits": {"success": "bye", "failure": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
        ],
    )
    publish(definition)
    [made] = simulate(editor_api, {"event": {"type": "start"}})["http"]
    assert (made["status"], made["json"], made["error"]) == (None, None, "blocked address")


def test_calls_list_detail_and_stats(place_call, viewer_api, editor_api):
    publish(demo_flow(), NUMBER)
    place_call(NUMBER).press("1")
    call = place_call(NUMBER)
    call.hang_up()
    place_call(NUMBER).press("9")
    simulate(editor_api, {"event": {"type": "start"}})  # excluded below

    listing = viewer_api.get("/api/calls/?flow=sim").json()
    assert len(listing["results"]) == 3 and listing["next"] is None
    first = listing["results"][0]
    assert {
        "sid",
        "flow",
        "version",
        "from",
        "to",
        "status",
        "started_at",
        "ended_at",
        "current_node",
    } <= set(first)
    assert first["flow"] == "sim" and first["version"] == 1 and first["from"] == "+447700900123"
    assert len(viewer_api.get("/api/calls/?status=completed").json()["results"]) == 1
    assert len(viewer_api.get("/api/calls/?simulated=1").json()["results"]) == 1

    detail = viewer_api.get(f"/api/calls/{call.sid}/").json()
    assert [(s["node"], s["type"], s["exit"]) for s in detail["steps"]] == [
        ("hello", "say", "next"),
        ("menu", "menu", None),
    ]
    assert detail["steps"][1]["hung_up"] is True
    assert viewer_api.get("/api/calls/CAnope/").status_code == 404

    stats = viewer_api.get("/api/flows/sim/stats/").json()
    assert stats["calls"] == 3
    assert stats["nodes"]["hello"] == {"entered": 3, "exits": {"next": 3}, "hung_up": 0}
    assert stats["nodes"]["menu"] == {"entered": 3, "exits": {"1": 1, "no_match": 1}, "hung_up": 1}
    assert stats["nodes"]["text"]["exits"] == {"next": 1}
    assert stats["nodes"]["vm"] == {"entered": 0, "exits": {}, "hung_up": 0}
    assert viewer_api.get("/api/flows/sim/stats/?version=1").json()["calls"] == 3
    assert viewer_api.get("/api/flows/sim/stats/?version=9").status_code == 404
    assert viewer_api.get("/api/flows/sim/stats/?since=2999-01-01T00:00:00Z").json()["calls"] == 0
    assert viewer_api.get("/api/flows/sim/stats/?since=yesterday").status_code == 400


def test_stats_use_aggregate_queries(place_call, viewer_api, django_assert_max_num_queries):
    publish(demo_flow(), NUMBER)
    for _ in range(5):
        place_call(NUMBER).press("1")
    with django_assert_max_num_queries(12):  # the analytics' statements, whatever the calls
        assert viewer_api.get("/api/flows/sim/stats/").json()["calls"] == 5


def test_calls_api_needs_a_role(anon_api, viewer_api, db):
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    assert anon_api.get("/api/calls/").status_code in (401, 403)
    nobody = APIClient()
    nobody.force_authenticate(User.objects.create_user("nobody"))
    assert nobody.get("/api/calls/").status_code == 403
    assert viewer_api.get("/api/calls/").status_code == 200
