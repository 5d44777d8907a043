"""The call history API, over calls placed through the signed webhooks: the list and its
filters, one call in detail, the CSV, a customer's timeline."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from ivr_runtime.models import CallSession, Customer, OutboundMessage

from .conftest import publish
from .history_flows import CALLER, NUMBER, OTHER, place_history, support_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(db):
    customer = Customer(name="Ann Example", phone=CALLER, account_number="1001", tier="gold")
    customer.set_pin("1234")
    customer.save()
    return customer


@pytest.fixture
def calls(ann, signer, record_server):
    """Five calls, one per outcome: sid by outcome."""
    return place_history(signer, record_server.url)


def listed(api, query: str = "") -> list[dict]:
    response = api.get(f"/api/calls/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_each_call_lists_with_its_outcome(calls, viewer_api):
    rows = listed(viewer_api)
    assert [(row["sid"], row["outcome"]) for row in rows] == [
        (calls["callback"], "callback"),
        (calls["voicemail"], "voicemail"),
        (calls["abandoned"], "abandoned"),
        (calls["self_served"], "self_served"),
        (calls["routed"], "routed"),
    ]
    abandoned = rows[2]
    assert abandoned["outcome_node"] == "queue" and abandoned["customer"] is None
    assert rows[0]["customer"] == {
        "id": Customer.objects.get().pk,
        "name": "Ann Example",
        "account": "1001",
        "phone": CALLER,
        "tier": "gold",
    }
    for outcome, sid in calls.items():
        assert [row["sid"] for row in listed(viewer_api, f"?outcome={outcome}")] == [sid]


@pytest.mark.parametrize(
    "search",
    [CALLER, "07700 900123", "07700900123", "+44 7700 900123", "0044 7700 900 123", "ann", "1001"],
)
def test_search_finds_a_number_in_any_format_and_the_customer(calls, viewer_api, search):
    found = {row["sid"] for row in listed(viewer_api, f"?search={search}")}
    assert found == set(calls.values()) - {calls["abandoned"]}


def test_search_by_the_other_number_and_by_sid(calls, viewer_api):
    assert [r["sid"] for r in listed(viewer_api, "?search=07700900999")] == [calls["abandoned"]]
    assert [r["sid"] for r in listed(viewer_api, f"?search={calls['routed']}")] == [calls["routed"]]
    assert listed(viewer_api, "?search=nobody") == []


def test_filters_by_flow_version_direction_period_and_simulation(calls, viewer_api):
    assert len(listed(viewer_api, "?flow=support&version=1&direction=inbound")) == 5
    assert listed(viewer_api, "?direction=outbound") == []
    assert listed(viewer_api, "?since=2999-01-01") == []
    assert len(listed(viewer_api, "?until=2999-01-01T00:00:00Z&since=2000-01-01")) == 5
    assert listed(viewer_api, "?simulated=true") == []
    publish(support_line())  # version 2: no call on it yet
    assert listed(viewer_api, "?flow=support&version=2") == []


def test_pages_follow_each_other_without_gaps(calls, viewer_api):
    seen, url = [], "/api/calls/?limit=2"
    while url:
        page = viewer_api.get(url).json()
        assert len(page["results"]) <= 2
        seen += [row["sid"] for row in page["results"]]
        url = page["next"]
    assert seen == [row["sid"] for row in listed(viewer_api)]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("outcome=won", "outcome"),
        ("direction=sideways", "direction"),
        ("flow=nope", "flow"),
        ("flow=Not%20a%20slug", "flow"),
        ("version=2", "version"),
        ("flow=support&version=9", "version"),
        ("version=zero", "version"),
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("since=2026-12-02&until=2026-12-01", "until"),
        ("simulated=maybe", "simulated"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("cursor=%%%", "cursor"),
        ("status=lost", "status"),
        ("search=" + "1" * 101, "search"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(calls, viewer_api, query, name):
    response = viewer_api.get(f"/api/calls/?{query}")
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == [name]


def test_the_csv_export_is_the_filtered_list(calls, viewer_api):
    for url in ("/api/calls/?format=csv&search=ann", "/api/calls/export.csv?search=ann"):
        response = viewer_api.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [row["sid"] for row in rows] == [
            calls[o] for o in ("callback", "voicemail", "self_served", "routed")
        ]
        routed = rows[-1]
        assert routed["outcome"] == "routed" and routed["from"] == CALLER
        assert (routed["customer"], routed["account"], routed["flow"]) == (
            "Ann Example",
            "1001",
            "support",
        )
    assert viewer_api.get("/api/calls/export.csv?outcome=won").status_code == 400


def test_a_formula_in_the_csv_is_quoted(calls, viewer_api):
    Customer.objects.update(name="=HYPERLINK(1)")
    text = b"".join(viewer_api.get("/api/calls/export.csv").streaming_content).decode()
    assert "'=HYPERLINK(1)" in text and f",{CALLER}," in text


def test_a_routed_call_in_detail(calls, viewer_api):
    detail = viewer_api.get(f"/api/calls/{calls['routed']}/").json()
    assert detail["outcome"] == "routed" and detail["customer"]["name"] == "Ann Example"
    steps = {step["node"]: step for step in detail["steps"]}
    assert [s["node"] for s in detail["steps"]] == ["who", "crm", "hello", "main", "agent", "bye"]
    assert steps["hello"]["heard"] == "Hello Ann, you are gold."
    assert steps["main"]["heard"].startswith("Press 1 for an agent")
    assert (steps["main"]["entered"], steps["main"]["exit"]) == ("1", "1")
    assert steps["agent"]["exit"] == "connected"
    assert steps["crm"]["label"] == "CRM lookup"
    [request] = detail["http_requests"]
    assert request["url"].endswith("/customer?phone=%2B447700900123")
    assert (request["method"], request["status"], request["ok"], request["node"]) == (
        "GET",
        200,
        True,
        "crm",
    )
    assert request["duration_ms"] >= 0 and request["at"]
    assert steps["crm"]["http"] == [request] and steps["main"]["http"] == []


def test_a_voicemail_in_detail_has_its_transcription(calls, viewer_api):
    detail = viewer_api.get(f"/api/calls/{calls['voicemail']}/").json()
    [recording] = detail["recordings"]
    assert recording["url"].startswith("https://api.twilio.com/")
    assert (recording["duration"], recording["node"], recording["kind"]) == (
        14,
        "message",
        "voicemail",
    )
    assert (recording["transcription"], recording["transcription_status"]) == (
        "My card was declined.",
        "completed",
    )


def test_a_callback_in_detail(calls, viewer_api):
    detail = viewer_api.get(f"/api/calls/{calls['callback']}/").json()
    [callback] = detail["callbacks"]
    assert (callback["number"], callback["status"], callback["node"]) == (
        CALLER,
        "pending",
        "offer",
    )


def test_messages_in_detail_carry_their_delivery_status(ann, place_call, viewer_api, signer):
    publish(support_line(), NUMBER)
    call = place_call(NUMBER).press("6")
    call.hang_up()
    message = OutboundMessage.objects.get()
    OutboundMessage.objects.filter(pk=message.pk).update(
        status="delivered", provider_status="delivered", provider_sid="SM" + "4" * 32
    )
    [shown] = viewer_api.get(f"/api/calls/{call.sid}/").json()["messages"]
    assert (shown["to"], shown["status"]) == (CALLER, "delivered")
    assert shown["body"].startswith("Book here:")


def test_an_unknown_call_is_a_404(viewer_api):
    assert viewer_api.get("/api/calls/CAnope/").status_code == 404


# --- the timeline ---------------------------------------------------------------------------
def test_a_customers_timeline_across_channels(calls, ann, viewer_api):
    by_id = viewer_api.get(f"/api/timeline/?customer={ann.pk}").json()
    by_number = viewer_api.get("/api/timeline/?number=07700%20900123").json()
    assert by_id["items"] == by_number["items"]
    assert by_number["customer"]["id"] == ann.pk and by_number["number"] == CALLER
    kinds = [(item["kind"], item["sid"]) for item in by_id["items"]]
    assert ("callback", calls["callback"]) in kinds and ("voicemail", calls["voicemail"]) in kinds
    assert [sid for kind, sid in kinds if kind == "call"] == [
        calls[o] for o in ("callback", "voicemail", "self_served", "routed")
    ]
    moments = [item["at"] for item in by_id["items"]]
    assert moments == sorted(moments, reverse=True)
    voicemail = next(item for item in by_id["items"] if item["kind"] == "voicemail")
    assert voicemail["transcription"] == "My card was declined."


def test_an_sms_conversation_is_in_the_timeline(ann, signer, viewer_api):
    publish(support_line(), NUMBER)
    form = {
        "MessageSid": "SM" + "5" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": CALLER,
        "To": NUMBER,
        "Body": "hello",
    }
    assert signer.post("/ivr/sms", form).status_code == 200
    [item] = viewer_api.get(f"/api/timeline/?customer={ann.pk}").json()["items"]
    assert item["kind"] == "sms" and item["to"] == NUMBER
    session = CallSession.objects.get(channel="sms")
    assert session.outcome == "in_progress"


def test_the_timeline_of_a_number_nobody_owns(calls, viewer_api):
    answer = viewer_api.get(f"/api/timeline/?number={OTHER}").json()
    assert answer["customer"] is None
    assert [(i["kind"], i["sid"]) for i in answer["items"]] == [("call", calls["abandoned"])]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("", "number"),
        ("number=hello", "number"),
        ("customer=999", "customer"),
        ("customer=x", "customer"),
    ],
)
def test_a_bad_timeline_parameter_is_a_400_naming_it(viewer_api, query, name):
    response = viewer_api.get(f"/api/timeline/?{query}")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [name]


# --- roles ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["/api/calls/", "/api/calls/export.csv", "/api/timeline/?number=%2B447700900123"]
)
def test_the_history_needs_a_role(calls, anon_api, viewer_api, url):
    assert anon_api.get(url).status_code in (401, 403)
    nobody = APIClient()
    nobody.force_authenticate(User.objects.create_user("nobody"))
    assert nobody.get(url).status_code == 403
    assert viewer_api.get(url).status_code == 200


def test_a_call_in_detail_needs_a_role(calls, anon_api, viewer_api):
    url = f"/api/calls/{calls['routed']}/"
    assert anon_api.get(url).status_code in (401, 403)
    assert viewer_api.get(url).status_code == 200
