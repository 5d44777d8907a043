# ruff: noqa: F811 (pytest fixtures imported from tests.worker are parameters here)
"""Callbacks: placing the call within opening hours, the call's own flow, outcomes, retries."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from ivr_runtime.callbacks import callbacks
from ivr_runtime.models import CallbackRequest, CallSession, DialSlot
from ivr_runtime.voice import dialler
from tests.fakes.twilio_api import FakeTwilio
from tests.worker import local_broker, published  # noqa: F401 (fixtures)

from .conftest import flow_definition, publish
from .twilio_driver import Call, Signer

pytestmark = pytest.mark.django_db

Status = CallbackRequest.Status
NUMBER = "+442079460102"
CUSTOMER = "+447700900123"
AGENT = "+442079460999"
HOURS = {
    "id": "hours",
    "type": "time_of_day",
    "config": {
        "timezone": "Europe/London",
        "schedule": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]},
    },
    "exits": {"open": "hello", "closed": "hello"},
}
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SATURDAY_20 = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.PUBLIC_BASE_URL = "https://ivr.example.com"
    settings.CALLBACK_MAX_ATTEMPTS = 3
    settings.CALLBACK_RETRY_MINUTES = 15
    settings.OUTBOUND_CALLS_PER_SECOND = 1000  # the rate's own test sets it
    yield fake
    fake.stop()


@pytest.fixture
def signer(client):
    """Twilio signs the public URLs it was given (PUBLIC_BASE_URL)."""
    return Signer(client, base="https://ivr.example.com")


def flow(*, target=None, with_hours=True):
    nodes = [
        {
            "id": "hello",
            "type": "say",
            "config": {"text": "Welcome to the bank."},
            "exits": {"next": "bye"},
        },
        {"id": "bye", "type": "hangup", "config": {}, "exits": {}},
    ]
    version = publish(flow_definition("bank", [HOURS, *nodes] if with_hours else nodes), NUMBER)
    session = CallSession.objects.create(
        call_sid="CA" + "1" * 32,
        flow=version.flow,
        flow_version=version,
        from_number=CUSTOMER,
        to_number=NUMBER,
    )
    return CallbackRequest.objects.create(
        number=CUSTOMER,
        due_at=MONDAY_10 + timedelta(hours=2),
        target=target,
        node_id="offer",
        session=session,
        flow=version.flow,
    )


def place(callback, now):
    return callbacks.callback_place(callback_id=callback.pk, now=now)


# --- opening hours -----------------------------------------------------------------------------
def test_the_first_time_of_day_node_from_start_gives_the_hours():
    definition = flow_definition(
        "f",
        [
            {"id": "a", "type": "say", "config": {"text": "x"}, "exits": {"next": "b"}},
            {"id": "c", "type": "time_of_day", "config": {"schedule": {}}, "exits": {}},
            {
                "id": "b",
                "type": "time_of_day",
                "config": {"schedule": {"mon": [["08:00", "09:00"]]}},
                "exits": {"open": "c"},
            },
        ],
    )
    assert callbacks.hours_node(definition)["schedule"] == {"mon": [["08:00", "09:00"]]}
    assert callbacks.hours_node(definition)["timezone"] == "Europe/London"  # the flow's
    assert callbacks.hours_node(flow_definition("g", [definition["nodes"][0]])) is None


def test_next_opening():
    config = {"timezone": "Europe/London", **HOURS["config"]}
    assert callbacks.next_opening(config, MONDAY_10) == MONDAY_10
    assert callbacks.next_opening(config, SATURDAY_20) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert callbacks.next_opening({"schedule": {}}, MONDAY_10) is None
    assert callbacks.next_opening(None, SATURDAY_20) == SATURDAY_20  # no hours: any time


def test_closed_waits_for_the_next_opening_without_calling(twilio):
    callback = place(flow(), SATURDAY_20)
    assert callback.status == Status.PENDING and callback.attempts == 0
    assert callback.next_attempt_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert twilio.requests == []


# --- placing ---------------------------------------------------------------------------------
def test_open_places_the_call_from_the_number_the_caller_called(twilio):
    callback = place(flow(target={"number": AGENT}), MONDAY_10)
    assert callback.status == Status.PLACED and callback.attempts == 1
    [request] = twilio.calls()
    assert request.form["To"] == CUSTOMER and request.form["From"] == NUMBER
    assert request.form["Url"] == f"https://ivr.example.com/ivr/callbacks/{callback.pk}/voice"
    assert (
        request.form["StatusCallback"]
        == f"https://ivr.example.com/ivr/callbacks/{callback.pk}/status"
    )
    assert request.form["StatusCallbackEvent"] == "completed"
    assert callback.provider_sid == twilio.created_calls()[0]["sid"]
    assert (
        place(callback, MONDAY_10).attempts == 1 and len(twilio.calls()) == 1
    )  # a duplicate task does nothing


def test_callbacks_share_the_outbound_call_rate(twilio, settings):
    """With the rate used up (outbound calls took the slot), the callback waits for the
    next slot; that attempt does not count."""
    settings.OUTBOUND_CALLS_PER_SECOND = 0.1  # one call each 10 s
    assert dialler.slot_take() is None  # an outbound call just took the slot
    callback = place(flow(target={"number": AGENT}, with_hours=False), MONDAY_10)
    assert callback.status == Status.PENDING and callback.attempts == 0
    assert twilio.calls() == []
    assert 9 <= (callback.next_attempt_at - timezone.now()).total_seconds() <= 10
    assert callback.attempt_log[-1]["outcome"] == "deferred"
    DialSlot.objects.update(next_at=timezone.now())  # its slot has come
    callback = place(callback, callback.next_attempt_at)
    assert callback.status == Status.PLACED and callback.attempts == 1
    assert len(twilio.calls()) == 1


def test_provider_errors_transient_retry_permanent_fail(twilio):
    twilio.fail_next(503)
    callback = place(flow(), MONDAY_10)
    assert callback.status == Status.PENDING and callback.next_attempt_at == MONDAY_10 + timedelta(
        minutes=15
    )
    twilio.fail_next(400, code=21215, message="Geo permission")
    callback = place(callback, MONDAY_10 + timedelta(minutes=15))
    assert (
        callback.status == Status.FAILED
        and "21215" in callback.last_error
        and callback.attempts == 2
    )


def test_without_public_base_url_nothing_is_placed(twilio, settings):
    settings.PUBLIC_BASE_URL = ""
    callback = place(flow(), MONDAY_10)
    assert callback.status == Status.PENDING and "PUBLIC_BASE_URL" in callback.last_error
    assert twilio.requests == []


def test_a_stale_dialling_claim_is_reconciled_with_the_provider(twilio):
    callback = flow(with_hours=False)
    started = timezone.now()
    place(callback, started)  # the call is created...
    CallbackRequest.objects.filter(pk=callback.pk).update(  # ...but the worker died first
        status=Status.DIALLING,
        provider_sid="",
        lease_until=timezone.now() - timedelta(seconds=1),
        attempt_log=[{"n": 1, "at": started.isoformat(), "outcome": "started"}],
    )
    callback = place(callback, timezone.now())
    assert (
        callback.status == Status.PLACED
        and callback.provider_sid == twilio.created_calls()[0]["sid"]
    )
    assert len(twilio.calls()) == 1 and callback.attempts == 1


def test_the_sweep_hands_over_due_and_stale_callbacks(local_broker):
    due = flow()
    later = CallbackRequest.objects.create(
        number=CUSTOMER,
        due_at=MONDAY_10,
        flow=due.flow,
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )
    stale = CallbackRequest.objects.create(
        number=CUSTOMER,
        due_at=MONDAY_10,
        flow=due.flow,
        status=Status.DIALLING,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    CallbackRequest.objects.create(
        number=CUSTOMER, due_at=MONDAY_10, flow=due.flow, status=Status.PLACED
    )
    CallbackRequest.objects.create(number=CUSTOMER, due_at=MONDAY_10, flow=due.flow, simulated=True)
    assert callbacks.callback_sweep() == 2
    assert sorted(a[0] for a, _ in published(local_broker, "ivr_runtime.place_callback")) == [
        due.pk,
        stale.pk,
    ]
    assert later.pk


# --- the call --------------------------------------------------------------------------------------
def answer(signer, callback):
    """Twilio fetching the call's URL once the person called back picks up."""
    return Call(signer, to=CUSTOMER, caller=NUMBER, sid="CA" + "c" * 32).start(
        f"/ivr/callbacks/{callback.pk}/voice"
    )


def status(signer, callback, call_status, sid="CA" + "c" * 32):
    return signer.post(
        f"/ivr/callbacks/{callback.pk}/status",
        {"CallSid": sid, "CallStatus": call_status, "From": NUMBER, "To": CUSTOMER},
    )


def test_the_call_introduces_itself_and_connects_the_target(signer, twilio):
    callback = place(flow(target={"number": AGENT}), MONDAY_10)
    CallbackRequest.objects.filter(pk=callback.pk).update(provider_sid="CA" + "c" * 32)
    call = answer(signer, callback)
    assert call.heard == [callbacks.INTRO] and call.waits_for == "Dial"
    assert call.waiting.find("Number").text == AGENT
    call.dial_ends("completed", duration=60)
    assert call.ended
    assert status(signer, callback, "completed").status_code == 204
    callback.refresh_from_db()
    assert callback.status == Status.DONE and callback.completed_at is not None
    session = CallSession.objects.get(call_sid="CA" + "c" * 32)
    assert session.from_number == CUSTOMER and session.status == CallSession.Status.COMPLETED


def test_answered_but_nobody_to_connect_is_tried_again(signer, twilio):
    callback = place(flow(target={"number": AGENT}), MONDAY_10)
    CallbackRequest.objects.filter(pk=callback.pk).update(provider_sid="CA" + "c" * 32)
    call = answer(signer, callback).dial_ends("busy")
    assert call.heard[-1] == callbacks.SORRY and call.ended
    status(signer, callback, "completed")
    callback.refresh_from_db()
    assert (callback.status, callback.last_status) == (Status.PENDING, "not-connected")


def test_without_a_target_the_call_runs_the_flow(signer, twilio):
    callback = place(flow(with_hours=False), MONDAY_10)
    call = answer(signer, callback)
    assert call.heard == ["Welcome to the bank."] and call.ended


@pytest.mark.parametrize("call_status", ["no-answer", "busy", "failed", "canceled"])
def test_unanswered_calls_are_retried_then_given_up(signer, twilio, call_status):
    callback = place(flow(), MONDAY_10)
    sid = callback.provider_sid
    assert status(signer, callback, call_status, sid=sid).status_code == 204
    callback.refresh_from_db()
    assert callback.status == Status.PENDING and callback.last_status == call_status
    CallbackRequest.objects.filter(pk=callback.pk).update(attempts=3, status=Status.PLACED)
    status(signer, callback, call_status, sid=sid)
    callback.refresh_from_db()
    assert (
        callback.status == Status.FAILED
        and callback.last_error == f"no answer after 3 calls (last: {call_status})"
    )


def test_unknown_callbacks_get_a_polite_answer_and_a_log_line(signer, caplog, twilio):
    with caplog.at_level(logging.WARNING):
        call = Call(signer, to=CUSTOMER, caller=NUMBER).start("/ivr/callbacks/999999/voice")
        assert call.ended and call.heard and "Sorry" in call.heard[0]
        assert status(signer, CallbackRequest(pk=999999), "completed").status_code == 204
    assert "unknown callback 999999" in caplog.text


def test_a_status_for_another_call_sid_is_ignored(signer, twilio):
    callback = place(flow(), MONDAY_10)
    status(signer, callback, "completed", sid="CA" + "d" * 32)
    callback.refresh_from_db()
    assert callback.status == Status.PLACED


def test_callback_webhooks_must_be_signed(signer):
    form = {"CallSid": "CA" + "c" * 32, "CallStatus": "completed"}
    assert signer.post("/ivr/callbacks/1/status", form, signature="x").status_code == 403
    assert signer.post("/ivr/callbacks/1/voice", form, signature="x").status_code == 403
