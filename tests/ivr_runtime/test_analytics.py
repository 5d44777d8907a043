# ruff: noqa: F811 (pytest fixtures imported from tests.worker are parameters here)
"""A flow's analytics (GET /api/flows/<slug>/stats/) from calls placed through the signed
webhooks: the KPIs, where callers gave up, by hour and by day in the flow's time zone,
per node, two versions side by side; bad parameters; roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from ivr_runtime.callbacks import callbacks
from ivr_runtime.models import CallbackRequest, CallSession, CallStep, OutboundMessage
from ivr_runtime.sms import outbox
from tests.fakes.twilio_api import FakeTwilio
from tests.worker import local_broker  # noqa: F401 (fixture)

from .conftest import flow_definition, publish
from .twilio_driver import Call, Signer

pytestmark = pytest.mark.django_db

NUMBER = "+442079460104"
PUBLIC = "https://ivr.example.com"
AGENT = "+442071838750"
KPI_KEYS = [
    "calls",
    "contained",
    "routed",
    "abandoned",
    "voicemails",
    "callbacks_offered",
    "callbacks_scheduled",
    "callbacks_completed",
    "sms_sent",
    "sms_delivered",
    "avg_seconds_to_agent",
]


def support_line(greeting: str = "Welcome.") -> dict:
    """1 an agent, 2 a link by text, 3 voicemail, 4 a callback, 5 the queue, 6 the hours."""
    return flow_definition(
        "support",
        [
            {"id": "hello", "type": "say", "config": {"text": greeting}, "exits": {"next": "menu"}},
            {
                "id": "menu",
                "type": "menu",
                "config": {
                    "prompt": "Press 1 to 5.",
                    "retries": 0,
                    "options": [{"key": str(k)} for k in range(1, 7)],
                },
                "exits": {
                    "1": "agent",
                    "2": "link",
                    "3": "vm",
                    "4": "cb",
                    "5": "q",
                    "6": "hours",
                    "no_input": "bye",
                    "no_match": "bye",
                },
            },
            {
                "id": "agent",
                "type": "route",
                "config": {"target": {"number": AGENT}, "timeout": 20},
                "exits": {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
            },
            {
                "id": "link",
                "type": "self_service",
                "config": {
                    "mode": "link_sms",
                    "url": "https://example.com/self",
                    "body": "Manage your card: https://example.com/self",
                    "say": "We have texted you a link.",
                },
                "exits": {"done": "bye", "failed": "bye"},
            },
            {
                "id": "vm",
                "type": "voicemail",
                "config": {"prompt": "Leave a message."},
                "exits": {"recorded": "bye", "empty": "bye"},
            },
            {
                "id": "cb",
                "type": "callback",
                "config": {"prompt": "Press 1 for a callback.", "confirm_number": False},
                "exits": {"scheduled": "bye", "declined": "bye"},
            },
            {
                "id": "q",
                "type": "route",
                "config": {"target": {"queue": "support"}, "max_wait": 60},
                "exits": {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
            },
            {
                "id": "hours",
                "type": "say",
                "config": {"text": "We are open from 9 to 5."},
                "exits": {"next": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
        ],
        timezone="Europe/London",
    )


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.OUTBOUND_CALLS_PER_SECOND = 1000
    yield fake
    fake.stop()


@pytest.fixture
def signer(client):
    """Twilio signs the public URLs it was given (PUBLIC_BASE_URL)."""
    return Signer(client, base=PUBLIC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def dated(call: Call, when: datetime, *, to_agent: int | None = None) -> Call:
    """Move a finished call to `when` (its start), its steps with it; `to_agent`: the
    seconds it took to reach its route node that connected."""
    session = CallSession.objects.get(call_sid=call.sid)
    delta = when - session.started_at
    CallSession.objects.filter(pk=session.pk).update(
        started_at=F("started_at") + delta, ended_at=F("ended_at") + delta
    )
    CallStep.objects.filter(session=session).update(
        at=F("at") + delta, left_at=F("left_at") + delta
    )
    if to_agent is not None:
        step = CallStep.objects.get(session=session, node_type="route", exit="connected")
        CallSession.objects.filter(pk=session.pk).update(
            started_at=step.at - timedelta(seconds=to_agent)
        )
    return call


def place(signer: Signer, caller: str = "+447700900123") -> Call:
    return Call(signer, to=NUMBER, caller=caller).start()


def routed(signer):
    call = place(signer).press("1").dial_ends("completed", duration=60)
    call.hang_up()
    return call


def queue_abandoned(signer):
    call = place(signer).press("5").queue_ends("hangup", queue_time=40)
    call.hang_up()
    return call


def menu_abandoned(signer):
    call = place(signer)
    call.hang_up()
    return call


def voicemail(signer):
    call = place(signer).press("3").record(12)
    call.hang_up()
    return call


def self_served(signer):
    """The caller hears the opening hours: nothing more was needed."""
    call = place(signer).press("6")
    call.hang_up()
    return call


def texted(signer, caller="+447700900124"):
    """A link by text instead (sms_fallback), the text sent and delivered."""
    call = place(signer, caller).press("2")
    call.hang_up()
    message = outbox.outbound_message_send(message_id=OutboundMessage.objects.get(to=caller).pk)
    response = signer.post(
        f"/ivr/messages/status?m={message.pk}",
        {"MessageSid": message.provider_sid, "MessageStatus": "delivered", "AccountSid": "AC1"},
    )
    assert response.status_code == 204
    return call


def callback_done(signer, caller="+447700900125"):
    """Scheduled on the call; placed, answered and completed through its own webhooks."""
    call = place(signer, caller).press("4").press("1")
    call.hang_up()
    request = CallbackRequest.objects.get(number=caller)
    placed = callbacks.callback_place(callback_id=request.pk, now=request.due_at)
    assert placed is not None and placed.provider_sid
    back = Call(signer, to=caller, caller=NUMBER, sid=placed.provider_sid)
    back.start(f"/ivr/callbacks/{request.pk}/voice")
    back.hang_up()
    response = signer.post(
        f"/ivr/callbacks/{request.pk}/status",
        {"CallSid": placed.provider_sid, "CallStatus": "completed", "From": NUMBER, "To": caller},
    )
    assert response.status_code == 204
    request.refresh_from_db()
    assert request.status == CallbackRequest.Status.DONE
    return call


@pytest.fixture
def two_versions(signer, twilio, local_broker, editor_api):
    """v1: routed, abandoned in the queue, abandoned at the menu, a voicemail; v2: a link
    texted and delivered, a callback done, another routed call, a self-served call. Plus a
    call before the period and a simulated one, neither counted."""
    publish(support_line(), NUMBER)
    dated(routed(signer), at("2026-06-29T10:00:00"))  # before the period
    dated(routed(signer), at("2026-07-01T08:30:00"), to_agent=42)  # 09:30 in London
    dated(queue_abandoned(signer), at("2026-07-01T12:10:00"))
    dated(menu_abandoned(signer), at("2026-06-30T23:30:00"))  # 00:30 on 1 July in London
    dated(voicemail(signer), at("2026-07-03T16:00:00"))
    publish(support_line("Welcome back."))
    dated(texted(signer), at("2026-07-01T08:45:00"))
    dated(callback_done(signer), at("2026-07-03T09:00:00"))
    dated(routed(signer), at("2026-07-03T16:20:00"), to_agent=18)
    dated(self_served(signer), at("2026-07-02T11:00:00"))
    response = editor_api.post(
        "/api/flows/support/simulate/", {"event": {"type": "start"}}, format="json"
    )
    assert response.status_code == 200


PERIOD = "since=2026-07-01&until=2026-07-03"


def test_kpis_from_calls_through_the_webhooks(viewer_api, two_versions):
    stats = viewer_api.get(f"/api/flows/support/stats/?{PERIOD}").json()
    assert list(stats["kpis"]) == KPI_KEYS
    assert stats["kpis"] == {
        "calls": 8,
        "contained": 2,
        "routed": 2,
        "abandoned": 2,
        "voicemails": 1,
        "callbacks_offered": 1,
        "callbacks_scheduled": 1,
        "callbacks_completed": 1,
        "sms_sent": 1,
        "sms_delivered": 1,
        "avg_seconds_to_agent": 30.0,
    }
    assert stats["calls"] == 8 and stats["timezone"] == "Europe/London"
    assert stats["rates"]["abandoned"] == 0.25 and stats["rates"]["contained"] == 0.25
    assert stats["abandoned_at"] == {"menu": 1, "q": 1}


def test_by_hour_and_by_day_in_the_flows_time_zone(viewer_api, two_versions):
    stats = viewer_api.get(f"/api/flows/support/stats/?{PERIOD}").json()
    assert [row["hour"] for row in stats["by_hour"]] == list(range(24))
    busy = {
        row["hour"]: (row["calls"], row["abandoned"]) for row in stats["by_hour"] if row["calls"]
    }
    assert busy == {0: (1, 1), 9: (2, 0), 10: (1, 0), 12: (1, 0), 13: (1, 1), 17: (2, 0)}
    assert stats["by_day"] == [
        {"date": "2026-07-01", "calls": 4, "abandoned": 2},
        {"date": "2026-07-02", "calls": 1, "abandoned": 0},
        {"date": "2026-07-03", "calls": 3, "abandoned": 0},
    ]


def test_per_node_traffic(viewer_api, two_versions):
    nodes = viewer_api.get(f"/api/flows/support/stats/?{PERIOD}").json()["nodes"]
    assert nodes["hello"] == {"entered": 8, "exits": {"next": 8}, "hung_up": 0}
    assert nodes["menu"] == {
        "entered": 8,
        "exits": {"1": 2, "2": 1, "3": 1, "4": 1, "5": 1, "6": 1},
        "hung_up": 1,
    }
    assert nodes["q"] == {"entered": 1, "exits": {}, "hung_up": 1}
    assert nodes["agent"] == {"entered": 2, "exits": {"connected": 2}, "hung_up": 0}
    assert nodes["cb"] == {"entered": 1, "exits": {"scheduled": 1}, "hung_up": 0}
    assert nodes["hours"] == {"entered": 1, "exits": {"next": 1}, "hung_up": 0}
    assert nodes["bye"]["entered"] == 6


def test_one_version_and_two_side_by_side(viewer_api, two_versions):
    v1 = viewer_api.get(f"/api/flows/support/stats/?{PERIOD}&version=1").json()
    assert v1["version"] == 1
    assert {k: v1["kpis"][k] for k in ("calls", "routed", "abandoned", "voicemails")} == {
        "calls": 4,
        "routed": 1,
        "abandoned": 2,
        "voicemails": 1,
    }
    both = viewer_api.get(f"/api/flows/support/stats/?{PERIOD}&versions=1,2").json()
    same = viewer_api.get(f"/api/flows/support/stats/?{PERIOD}&version=2&compare=1").json()
    assert both == same
    first, second = both["versions"]
    assert (first["version"], second["version"]) == (1, 2)
    assert first["kpis"] == v1["kpis"]
    assert second["kpis"] == {
        "calls": 4,
        "contained": 2,
        "routed": 1,
        "abandoned": 0,
        "voicemails": 0,
        "callbacks_offered": 1,
        "callbacks_scheduled": 1,
        "callbacks_completed": 1,
        "sms_sent": 1,
        "sms_delivered": 1,
        "avg_seconds_to_agent": 18.0,
    }
    assert both["delta"] == {
        "calls": 0,
        "contained": 2,
        "routed": 0,
        "abandoned": -2,
        "voicemails": -1,
        "callbacks_offered": 1,
        "callbacks_scheduled": 1,
        "callbacks_completed": 1,
        "sms_sent": 1,
        "sms_delivered": 1,
        "avg_seconds_to_agent": -24.0,
    }
    assert both["rates_delta"]["abandoned"] == -0.5  # v2 lost none of its callers, v1 half
    assert second["abandoned_at"] == {} and first["abandoned_at"] == {"menu": 1, "q": 1}
    # compare alone sets the published version (v2) beside the one named
    assert viewer_api.get(f"/api/flows/support/stats/?{PERIOD}&compare=1").json() == both


def test_simulated_calls_only_when_asked(viewer_api, two_versions):
    stats = viewer_api.get("/api/flows/support/stats/?simulated=1").json()
    assert stats["kpis"]["calls"] == 1 and stats["nodes"]["hello"]["entered"] == 1
    everything = viewer_api.get("/api/flows/support/stats/").json()
    # every real call, the callback's own call and the one before the period included
    assert everything["kpis"]["calls"] == CallSession.objects.filter(simulated=False).count()


@pytest.mark.parametrize(
    ("query", "param", "status"),
    [
        ("since=yesterday", "since", 400),
        ("until=2026-13-01", "until", 400),
        ("since=2026-07-03&until=2026-07-01", "until", 400),
        ("since=1990-01-01", "since", 400),
        ("version=abc", "version", 400),
        ("version=0", "version", 400),
        ("version=9", "version", 404),
        ("compare=9", "compare", 404),
        ("version=1&compare=1", "compare", 400),
        ("versions=1", "versions", 400),
        ("versions=1,1", "versions", 400),
        ("versions=1,9", "versions", 404),
        ("versions=1,2&version=1", "version", 400),
        ("simulated=perhaps", "simulated", 400),
        ("sinse=2026-07-01", "sinse", 400),
    ],
)
def test_bad_parameters_are_named(viewer_api, query, param, status):
    publish(support_line(), NUMBER)
    publish(support_line("Welcome back."))
    response = viewer_api.get(f"/api/flows/support/stats/?{query}")
    assert response.status_code == status, response.content
    body = response.json()
    if status == 400:
        assert param in body["fields"] and body["detail"].startswith(f"{param}: "), body
    else:
        assert body["detail"].startswith(f"{param}: flow 'support' has no version 9"), body


def test_compare_needs_a_version_when_nothing_is_published(viewer_api):
    from flows.models import Flow

    version = publish(support_line(), NUMBER)
    Flow.objects.filter(pk=version.flow_id).update(published_version=None)
    response = viewer_api.get("/api/flows/support/stats/?compare=1")
    assert response.status_code == 400 and "version" in response.json()["fields"]


def test_dates_and_times_bound_the_period(viewer_api, two_versions):
    def calls(query):
        return viewer_api.get(f"/api/flows/support/stats/?{query}").json()["kpis"]["calls"]

    # a date is the whole day in London; a time without an offset is London's too
    assert calls("since=2026-07-01&until=2026-07-01") == 4
    assert calls("since=2026-07-01T09:50:00&until=2026-07-01T13:11:00") == 1
    assert calls("since=2026-07-01T08:40:00%2B00:00&until=2026-07-01T08:50:00Z") == 1
    assert calls("since=2026-07-02&until=2026-07-02") == 1
    assert calls("since=2026-07-04&until=2026-07-31") == 0


def test_the_queries_do_not_grow_with_the_calls(signer, twilio, viewer_api):
    publish(support_line(), NUMBER)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_api.get("/api/flows/support/stats/").status_code == 200
        return len(captured)

    routed(signer)
    count()  # the first request also loads the user's permissions
    few = count()
    for _ in range(4):
        routed(signer)
        menu_abandoned(signer)
    assert count() == few <= 10


def test_readers_only(anon_api, viewer_api, db):
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    publish(support_line(), NUMBER)
    assert anon_api.get("/api/flows/support/stats/").status_code in (401, 403)
    nobody = APIClient()
    nobody.force_authenticate(User.objects.create_user("nobody"))
    assert nobody.get("/api/flows/support/stats/").status_code == 403
    assert viewer_api.get("/api/flows/support/stats/").status_code == 200
    assert viewer_api.get("/api/flows/nope/stats/").status_code == 404


def test_callers_won_back_by_text_count_as_offers_texts_and_callbacks(
    signer, twilio, local_broker, viewer_api
):
    """A caller who hangs up in the queue is texted a callback offer (route.on_abandon),
    which is delivered and answered yes: the offer, the text and the callback it booked
    are the call's."""
    definition = support_line()
    queue = next(node for node in definition["nodes"] if node["id"] == "q")
    queue["config"]["on_abandon"] = {"sms": "Sorry we missed you.", "callback": True}
    publish(definition, NUMBER)
    queue_abandoned(signer)
    [message] = OutboundMessage.objects.all()
    message = outbox.outbound_message_send(message_id=message.pk)
    signer.post(
        f"/ivr/messages/status?m={message.pk}",
        {"MessageSid": message.provider_sid, "MessageStatus": "delivered", "AccountSid": "AC1"},
    )
    reply = {"MessageSid": "SM" + "7" * 32, "AccountSid": "AC1", "Body": "1"}
    response = signer.post("/ivr/sms", {**reply, "From": "+447700900123", "To": NUMBER})
    assert response.status_code == 200 and CallbackRequest.objects.count() == 1
    kpis = viewer_api.get("/api/flows/support/stats/").json()["kpis"]
    assert {k: kpis[k] for k in KPI_KEYS[:9]} == {
        "calls": 1,
        "contained": 0,
        "routed": 0,
        "abandoned": 1,
        "voicemails": 0,
        "callbacks_offered": 1,
        "callbacks_scheduled": 1,
        "callbacks_completed": 0,
        "sms_sent": 1,
    }
    assert kpis["sms_delivered"] == 1 and kpis["avg_seconds_to_agent"] is None
