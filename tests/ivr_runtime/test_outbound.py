"""Outbound calls: the API and `call_out` place them through Twilio's REST API (the fake),
the answer webhook runs the flow for the person called, status callbacks give the outcome,
the rate is capped, answering machines are detected."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ivr_runtime.models import CallSession, OutboundCall
from ivr_runtime.twilio import twilio_client
from ivr_runtime.voice import outbound
from tests.fakes.twilio_api import FakeTwilio

from .conftest import ANSWERED_BY_MACHINE, flow_definition, publish
from .twilio_driver import Signer

pytestmark = pytest.mark.django_db

OURS = "+442079460102"
OTHER_OURS = "+442079460103"
PERSON = "+447700900123"
PUBLIC = "https://ivr.example.com"


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.OUTBOUND_CALLS_PER_SECOND = 1000  # the rate-cap tests set their own
    yield fake
    fake.stop()


@pytest.fixture
def signer(client):
    """Twilio signs the public URLs it was given (PUBLIC_BASE_URL)."""
    return Signer(client, base=PUBLIC)


GREETING = {
    "id": "hello",
    "type": "say",
    "config": {
        "text": "Hello {{ vars.name }} on {{ caller.number }}, a {{ call.direction }} call."
    },
    "exits": {"next": "bye"},
}
BYE = {"id": "bye", "type": "hangup", "config": {}, "exits": {}}


@pytest.fixture
def reminders():
    version = publish(flow_definition("reminders", [GREETING, BYE]), OURS)
    publish(flow_definition("other", [BYE]), OTHER_OURS)
    return version


def place(api, body, *, slug="reminders", expect=201):
    response = api.post(f"/api/flows/{slug}/calls/", body, format="json")
    assert response.status_code == expect, response.content
    return response.json()


def answer(signer, call: dict, **extra: str):
    """Twilio fetching the answer URL it was given when the person called picks up."""
    params = {
        "CallSid": call["sid"],
        "AccountSid": "AC" + "0" * 32,
        "From": call["From"],
        "To": call["To"],
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        **extra,
    }
    return signer.post(call["Url"], params)


def created(twilio) -> dict:
    [request] = twilio.calls()
    [made] = twilio.created_calls()
    return {**request.form, "sid": made["sid"]}


def test_api_places_the_call_through_twilio_with_answer_url_and_status_callback(
    twilio, reminders, publisher_api
):
    body = place(publisher_api, {"to": PERSON, "vars": {"name": "Ann"}})
    call = created(twilio)
    row = OutboundCall.objects.get()
    assert body["sid"] == call["sid"] and body["status"] == "queued"
    assert call["To"] == PERSON and call["From"] == OURS  # from: the flow's number by default
    assert call["Url"] == f"{PUBLIC}/ivr/outbound/{row.pk}/voice"
    assert call["StatusCallback"] == f"{PUBLIC}/ivr/outbound/{row.pk}/status"
    assert "MachineDetection" not in call
    session = CallSession.objects.get(call_sid=call["sid"])
    assert (session.direction, session.from_number, session.to_number) == ("outbound", PERSON, OURS)
    assert session.flow_version_id == reminders.pk and session.variables == {"name": "Ann"}


def test_answer_webhook_runs_the_flow_for_the_person_called_with_vars(
    twilio, reminders, publisher_api, signer
):
    place(publisher_api, {"to": PERSON, "from": OURS, "vars": {"name": "Ann"}})
    call = created(twilio)
    response = answer(signer, call)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"Hello Ann on {PERSON}, a outbound call." in text
    assert "<Hangup" in text
    again = answer(signer, call)  # Twilio retrying the webhook: the same answer, once
    assert again.content.decode() == text
    assert CallSession.objects.get(call_sid=call["sid"]).steps.count() == 2
    unsigned = signer.post(call["Url"], {"CallSid": call["sid"]}, signature="bad")
    assert unsigned.status_code == 403


def test_an_inbound_call_is_inbound(twilio, reminders, signer):
    from .twilio_driver import Call

    call = Call(signer=signer, to=OURS).start()
    assert "a inbound call." in call.last_response


def test_the_answer_webhook_is_refused_for_another_calls_sid(
    twilio, reminders, publisher_api, signer
):
    place(publisher_api, {"to": PERSON})
    call = created(twilio)
    response = answer(signer, {**call, "sid": "CA" + "9" * 32})
    assert "cannot take your call" in response.content.decode()
    assert not CallSession.objects.filter(call_sid="CA" + "9" * 32).exists()


def test_the_answer_webhook_arriving_before_the_placing_committed_writes_the_session(
    twilio, reminders, signer
):
    row = OutboundCall.objects.create(
        flow=reminders.flow,
        to_number=PERSON,
        from_number=OURS,
        variables={"name": "Bo"},
        not_before="2026-01-01T00:00:00Z",
        status=OutboundCall.Status.DIALLING,
    )
    call = {
        "sid": "CA" + "5" * 32,
        "From": OURS,
        "To": PERSON,
        "Url": f"/ivr/outbound/{row.pk}/voice",
    }
    assert "Hello Bo" in answer(signer, call).content.decode()
    assert CallSession.objects.get(call_sid=call["sid"]).direction == "outbound"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("completed", "completed"), ("no-answer", "failed"), ("busy", "failed"), ("failed", "failed")],
)
def test_outbound_calls_are_listed_with_direction_and_outcome(
    twilio, reminders, publisher_api, viewer_api, signer, outcome, status
):
    place(publisher_api, {"to": PERSON})
    call = created(twilio)
    if outcome == "completed":
        answer(signer, call)
    params = {"CallSid": call["sid"], "CallStatus": outcome, "CallDuration": "7"}
    assert signer.post(call["StatusCallback"], params).status_code == 204
    [listed] = viewer_api.get("/api/calls/?flow=reminders").json()["results"]
    assert listed["sid"] == call["sid"] and listed["direction"] == "outbound"
    assert (listed["provider_status"], listed["status"]) == (outcome, status)
    assert listed["from"] == PERSON and listed["to"] == OURS


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"to": "12"}, "to", "not a possible phone number"),
        ({"to": "+44 12"}, "to", "not a possible phone number"),
        ({"to": PERSON, "from": "+15005550006"}, "from", "not one of our numbers"),
        ({"to": PERSON, "vars": {"bad name": 1}}, "vars", "not a variable name"),
    ],
)
def test_api_refuses_bad_requests_naming_the_field(
    twilio, reminders, publisher_api, body, field, says
):
    answer = place(publisher_api, body, expect=400)
    assert says in answer[field][0]
    assert twilio.calls() == [] and not OutboundCall.objects.exists()


def test_api_refuses_an_unpublished_flow_an_unknown_one_and_a_flow_with_no_number(
    twilio, reminders, publisher_api
):
    from flows.models import Flow

    Flow.objects.create(
        slug="draft-only", name="Draft", definition=flow_definition("draft-only", [BYE])
    )
    assert (
        "not published"
        in place(publisher_api, {"to": PERSON}, slug="draft-only", expect=409)["detail"]
    )
    assert place(publisher_api, {"to": PERSON}, slug="nope", expect=404)["detail"]
    publish(flow_definition("unbound", [BYE]))
    assert (
        "no number bound"
        in place(publisher_api, {"to": PERSON}, slug="unbound", expect=400)["from"][0]
    )
    # any number of ours will do as the caller id
    assert place(publisher_api, {"to": PERSON, "from": OTHER_OURS}, slug="unbound")["sid"]
    assert twilio.calls()[0].form["From"] == OTHER_OURS


def test_viewers_and_editors_cannot_place_calls(twilio, reminders, viewer_api, editor_api):
    for api in (viewer_api, editor_api):
        assert place(api, {"to": PERSON}, expect=403)["detail"]
    assert twilio.calls() == []


def test_without_a_twilio_account_the_call_is_refused(twilio, reminders, publisher_api, settings):
    settings.TWILIO_REST_ENABLED = False
    detail = place(publisher_api, {"to": PERSON}, expect=503)["detail"]
    assert "need a Twilio account" in detail
    assert twilio.calls() == [] and not OutboundCall.objects.exists()


def test_twilio_refusing_the_call_is_a_502(twilio, reminders, publisher_api):
    twilio.fail_next(400, code=21215, message="Geo permissions forbid the call")
    detail = place(publisher_api, {"to": PERSON}, expect=502)["detail"]
    assert "Geo permissions" in detail
    assert OutboundCall.objects.get().status == "failed" and not CallSession.objects.exists()


def test_a_transient_error_keeps_the_call_queued_for_the_dispatcher(
    twilio, reminders, publisher_api
):
    twilio.fail_next(503)
    body = place(publisher_api, {"to": PERSON})
    assert body == {**body, "sid": None, "status": "queued"}
    row = OutboundCall.objects.get()
    OutboundCall.objects.filter(pk=row.pk).update(not_before=row.created_at)  # its retry is due
    assert outbound.outbound_dispatch(budget=2) == 1
    assert OutboundCall.objects.get().status == "placed" and len(twilio.created_calls()) == 1


def test_a_queued_call_can_be_looked_up_until_it_is_placed(twilio, reminders, publisher_api):
    twilio.fail_next(503)
    body = place(publisher_api, {"to": PERSON})
    url = f"/api/flows/reminders/calls/{body['id']}/"
    queued = publisher_api.get(url).json()
    assert (queued["sid"], queued["status"], queued["attempts"]) == (None, "queued", 1)
    assert "fake failure" in queued["error"]
    row = OutboundCall.objects.get()
    OutboundCall.objects.filter(pk=row.pk).update(not_before=row.created_at)
    outbound.outbound_dispatch(budget=2)
    placed = publisher_api.get(url).json()
    assert placed["sid"] == twilio.created_calls()[0]["sid"] and placed["status"] == "queued"
    assert placed["placed_at"] and placed["error"] is None
    assert publisher_api.get(f"/api/flows/other/calls/{body['id']}/").status_code == 404


def test_a_worker_lost_mid_dial_is_looked_up_and_never_dials_twice(twilio, reminders):
    """The provider took the call, then the worker died before it wrote so: the next
    claim finds the call at the provider and does not place another."""
    twilio.fail_next(503)  # queued for the dispatcher
    call = outbound.outbound_request(flow_slug="reminders", to=PERSON)
    # the lost attempt: claimed (dialling), the call created at the provider, then nothing
    twilio_client.call_create(to=PERSON, from_=OURS, url=f"{PUBLIC}/ivr/outbound/{call.pk}/voice")
    OutboundCall.objects.filter(pk=call.pk).update(
        status=OutboundCall.Status.DIALLING,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert outbound.outbound_dispatch(budget=1) == 1
    row = OutboundCall.objects.get(pk=call.pk)
    assert row.status == "placed" and row.call_sid == twilio.created_calls()[0]["sid"]
    assert len(twilio.created_calls()) == 1
    assert twilio.lists(), "the provider's calls were looked up first"


# --- the command ------------------------------------------------------------------------------
def test_call_out_places_the_call_with_vars(twilio, reminders, signer, capsys):
    call_command(
        "call_out", "reminders", PERSON, "--from", OURS, "--var", "name=Cy", "--var", "x=a=b"
    )
    call = created(twilio)
    assert call["To"] == PERSON and call["From"] == OURS
    assert call["sid"] in capsys.readouterr().out
    assert CallSession.objects.get(call_sid=call["sid"]).variables == {"name": "Cy", "x": "a=b"}
    assert "Hello Cy" in answer(signer, call).content.decode()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nope", PERSON], "there is no flow 'nope'"),
        (["reminders", "12"], "to: '12' is not a possible phone number"),
        (["reminders", PERSON, "--from", "+15005550006"], "from: '+15005550006' is not one of our"),
        (["reminders", PERSON, "--var", "novalue"], "--var 'novalue': NAME=VALUE"),
    ],
)
def test_call_out_errors_name_the_problem(twilio, reminders, args, says):
    with pytest.raises(CommandError, match=None) as error:
        call_command("call_out", *args)
    assert says in str(error.value)
    assert twilio.calls() == []


def test_call_out_without_a_twilio_account(twilio, reminders, settings):
    settings.TWILIO_REST_ENABLED = False
    with pytest.raises(CommandError, match="need a Twilio account"):
        call_command("call_out", "reminders", PERSON)


# --- the rate cap -------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)  # the dispatchers' threads see the committed queue
def test_calls_requested_at_once_are_placed_no_faster_than_the_rate(
    twilio, reminders, publisher_api, settings
):
    settings.OUTBOUND_CALLS_PER_SECOND = 5  # one call each 0.2 s
    answers = [place(publisher_api, {"to": f"+4477009001{n:02d}"}) for n in range(5)]
    assert answers[0]["sid"] and answers[0]["status"] == "queued"
    assert [a["sid"] for a in answers[1:]] == [None] * 4  # beyond the rate: waiting their turn
    assert len(twilio.created_calls()) == 1
    # two dispatchers at once (two workers) share the one rate
    runs = [threading.Thread(target=outbound.outbound_dispatch, kwargs={"budget": 5}) for _ in "ab"]
    started = time.monotonic()
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    made = sorted(c["_at"] for c in twilio.created_calls())
    assert len(made) == 5 and OutboundCall.objects.filter(status="placed").count() == 5
    gaps = [(b - a).total_seconds() for a, b in zip(made, made[1:], strict=False)]
    # The fake saw them arrive no faster than the rate: over the five, at least four slots
    # apart; one by one, each sent when its slot came, so a request that took longer to
    # arrive shortens the gap after it by as much (a busy machine's scheduling: tens of ms),
    # while placing them without the cap would leave no gap at all.
    assert (made[-1] - made[0]).total_seconds() >= 4 * 0.2 - 0.02, gaps
    assert min(gaps) >= 0.2 - 0.06, gaps
    assert time.monotonic() - started < 3


# --- answering-machine detection ----------------------------------------------------------------
def test_machine_detection_is_asked_for_and_the_flow_branches_on_answered_by(
    twilio, publisher_api, signer
):
    nodes = [
        {
            "id": "who",
            "type": "branch",
            "config": {"rules": [ANSWERED_BY_MACHINE]},
            "exits": {"machine": "message", "else": "hello"},
        },
        {
            "id": "message",
            "type": "hangup",
            "config": {"text": "Sorry we missed you."},
            "exits": {},
        },
        {**GREETING, "config": {"text": "Hello, a person."}},
        BYE,
    ]
    publish(flow_definition("reminders", nodes), OURS)
    place(publisher_api, {"to": PERSON, "machine_detection": True})
    call = created(twilio)
    assert call["MachineDetection"] == "Enable"
    text = answer(signer, call, AnsweredBy="machine_start").content.decode()
    assert "Sorry we missed you." in text
    assert CallSession.objects.get(call_sid=call["sid"]).answered_by == "machine_start"
    twilio.reset()
    place(publisher_api, {"to": PERSON, "machine_detection": True})
    assert (
        "Hello, a person." in answer(signer, created(twilio), AnsweredBy="human").content.decode()
    )
