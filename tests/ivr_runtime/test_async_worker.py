# ruff: noqa: F811 (pytest fixtures imported from tests.worker are parameters here)
"""The outbox and callbacks with the real thing: Redis, a Celery worker and beat in their
own processes, the shared test database, and the fake Twilio over HTTP.

Faults: the broker unreachable while a call sends an SMS, Twilio failing, and a worker
killed (SIGKILL) while the provider holds its request.
"""

import time

import pytest

from ivr_runtime.models import CallbackRequest, OutboundMessage
from tests.worker import (  # noqa: F401 (fixtures)
    RedisProxy,
    async_stack,
    database_restored_after,
    stack,
    use_broker,
    wait_for,
)

from .conftest import flow_definition, publish
from .twilio_driver import TOKEN

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("database_restored_after"),
]

NUMBER = "+442079460102"
CALLER = "+447700900123"
Status = OutboundMessage.Status


def sms_flow(body="Your booking link: https://example.com/book", to=None):
    config = {"body": body, **({"to": to} if to else {})}
    publish(
        flow_definition(
            "texts",
            [
                {"id": "text", "type": "sms", "config": config, "exits": {"next": "bye"}},
                {
                    "id": "bye",
                    "type": "hangup",
                    "config": {"text": "We have sent you a text. Goodbye."},
                    "exits": {},
                },
            ],
        ),
        NUMBER,
    )


def message_in(*statuses, timeout=20.0):
    def check():
        message = OutboundMessage.objects.first()
        return message if message is not None and message.status in statuses else None

    return wait_for(check, timeout=timeout, what=f"a message in {statuses}")


#: what beat logs when a sweep falls due and the broker cannot be reached: the sweep it
#: could not send, or (never connected yet) the connection it keeps trying
BEAT_REFUSED = ("Couldn't apply scheduled task outbox-sweep", "beat: Connection error")


def beat_refused(stack, *, after: int) -> None:
    """Wait until beat, past offset `after` in its log, fails to hand the outbox sweep over."""
    wait_for(
        lambda: any(line in stack.beat.log()[after:] for line in BEAT_REFUSED),
        what="beat to fail to hand the outbox sweep over",
    )


def test_a_call_sends_its_sms_through_the_worker(stack, place_call):
    sms_flow()
    call = place_call(NUMBER)
    assert call.ended and "We have sent you a text" in call.said
    message = message_in(Status.SENT)
    [created] = stack.twilio.created_messages()
    assert (created["to"], created["from"], created["body"]) == (
        CALLER,
        NUMBER,
        "Your booking link: https://example.com/book",
    )
    assert message.provider_sid == created["sid"] and message.attempts == 1
    assert created["status_callback"] == f"{stack.public_url}/ivr/messages/status?m={message.pk}"
    assert message.enqueued_at is not None and message.sent_at is not None


def test_delivery_statuses_come_back_signed_to_the_status_webhook(stack, place_call):
    stack.twilio.deliver(["sent", "delivered"], token=TOKEN)
    sms_flow()
    place_call(NUMBER)
    message = message_in(Status.DELIVERED)
    assert message.provider_status == "delivered"
    # The fake records a callback's answer after it arrives, a moment after our commit.
    wait_for(lambda: len(stack.twilio.callbacks) == 2, what="both status callbacks answered")
    assert [code for _, _, code in stack.twilio.callbacks] == [204, 204]


def test_broker_down_the_caller_is_answered_at_once_and_the_sweep_sends_later(stack, place_call):
    sms_flow()
    stack.proxy.down()
    try:
        started = time.perf_counter()
        call = place_call(NUMBER)
        elapsed = time.perf_counter() - started
        assert call.ended and "We have sent you a text" in call.said
        assert elapsed < 1.0, f"the webhook took {elapsed:.2f}s with the broker down"
        message = OutboundMessage.objects.get()
        assert message.status == Status.QUEUED and message.enqueued_at is None
        # The relay comes round (beat, to hand over the outbox sweep) and cannot reach the broker.
        beat_refused(stack, after=len(stack.beat.log()))
        assert stack.twilio.messages() == []
        assert OutboundMessage.objects.get().enqueued_at is None
    finally:
        stack.proxy.up()
    message = message_in(Status.SENT, timeout=40)
    assert len(stack.twilio.created_messages()) == 1 and len(stack.twilio.messages()) == 1
    assert message.attempts == 1 and message.enqueued_at is not None


def test_a_broker_that_never_answers_does_not_hold_the_caller(stack, place_call, caplog):
    from callflow.celery import app

    sms_flow()
    web_side = RedisProxy().up()  # only this process's way to Redis hangs; the worker's does not
    options = dict(app.conf.broker_transport_options)
    app.conf.broker_transport_options = {**options, "socket_timeout": 3.0}
    use_broker(web_side.url)
    web_side.stall()
    try:
        started = time.perf_counter()
        call = place_call(NUMBER)
        elapsed = time.perf_counter() - started
        assert call.ended and "We have sent you a text" in call.said
        # The webhook never asks the broker: not even its socket timeout is waited out.
        assert elapsed < 1.0, f"the webhook took {elapsed:.2f}s with the broker stalled"
        assert "broker is unreachable" not in caplog.text
    finally:
        app.conf.broker_transport_options = options
        use_broker(stack.proxy.url)
        web_side.down()
    message = message_in(Status.SENT)  # handed over by the relay, on the worker's side
    assert len(stack.twilio.created_messages()) == 1 and message.attempts == 1


def test_twilio_500_twice_then_201_one_message_three_attempts(stack, place_call):
    stack.twilio.fail_next(500, times=2)
    sms_flow()
    place_call(NUMBER)
    message = message_in(Status.SENT)
    assert [r.status for r in stack.twilio.messages()] == [500, 500, 201]
    assert len(stack.twilio.created_messages()) == 1
    assert message.attempts == 3
    assert [a["outcome"] for a in message.attempt_log] == ["failed", "failed", "sent"]
    assert message.attempt_log[0]["retry_in"] < message.attempt_log[1]["retry_in"]  # backing off


def test_invalid_number_is_failed_at_once_with_the_reason(stack, place_call):
    stack.twilio.fail_next(
        400, code=21211, message="The 'To' number +15005550001 is not a valid phone number."
    )
    sms_flow(to="+15005550001")
    place_call(NUMBER)
    message = message_in(Status.FAILED)
    assert message.attempts == 1 and message.error_code == "21211"
    assert "21211" in message.last_error and "not a valid phone number" in message.last_error
    # As if never handed over, so the next sweep would take it were a failed message due;
    # a message queued after it only the sweep sends: once that one is sent, a sweep has
    # run over both, oldest first, and the worker took their sends in that order.
    OutboundMessage.objects.filter(pk=message.pk).update(enqueued_at=None)
    later = OutboundMessage.objects.create(
        to=CALLER, from_number=NUMBER, body="later", idempotency_key="after-the-failure"
    )
    wait_for(
        lambda: OutboundMessage.objects.get(pk=later.pk).status == Status.SENT,
        what="the sweep to send the later message",
    )
    assert [r.form["To"] for r in stack.twilio.messages()] == ["+15005550001", CALLER]
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.attempts == 1


@pytest.mark.parametrize(
    "accepted", [True, False], ids=["provider-took-it", "provider-never-saw-it"]
)
def test_worker_killed_mid_send_neither_lost_nor_sent_twice(stack, place_call, accepted):
    stack.twilio.hold_next(accept=accepted)
    sms_flow()
    place_call(NUMBER)
    assert stack.twilio.held.wait(15), "the worker never called the provider"
    stack.worker.kill()
    stack.twilio.release()
    assert OutboundMessage.objects.get().status == Status.SENDING
    stack.worker.start()
    message = message_in(Status.SENT, timeout=40)
    [created] = stack.twilio.created_messages()
    assert message.provider_sid == created["sid"]
    outcomes = [a["outcome"] for a in message.attempt_log]
    if accepted:
        assert len(stack.twilio.messages()) == 1, "sent again although the provider had it"
        assert outcomes == ["unknown", "found at the provider"]
    else:
        assert len(stack.twilio.messages()) == 2
        assert outcomes == ["unknown", "sent"]


def test_callback_is_placed_retried_on_no_answer_and_completed(stack, place_call, signer, settings):
    publish(
        flow_definition(
            "cb",
            [
                {
                    "id": "offer",
                    "type": "callback",
                    "config": {
                        "prompt": "Press 1 for a call back.",
                        "confirm_number": False,
                        "within_hours": 2,
                        "target": {"number": "+442079460999"},
                    },
                    "exits": {"scheduled": "bye", "declined": "bye"},
                },
                {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    call = place_call(NUMBER).press("1")
    assert call.ended
    callback = CallbackRequest.objects.get()
    wait_for(lambda: stack.twilio.created_calls(), what="the callback call")
    # The worker records the placed call just after Twilio's answer reached it.
    wait_for(
        lambda: CallbackRequest.objects.get().status == CallbackRequest.Status.PLACED,
        what="placed",
    )
    callback.refresh_from_db()
    assert callback.attempts == 1
    [placed] = stack.twilio.created_calls()
    assert (placed["to"], placed["from"]) == (CALLER, NUMBER)
    assert placed["url"] == f"{stack.public_url}/ivr/callbacks/{callback.pk}/voice"
    # Twilio: nobody answered.
    status_url = f"/ivr/callbacks/{callback.pk}/status"
    response = signer.post(
        status_url, {"CallSid": placed["sid"], "CallStatus": "no-answer", "To": CALLER}
    )
    assert response.status_code == 204
    callback.refresh_from_db()
    assert callback.status == CallbackRequest.Status.PENDING and callback.last_status == "no-answer"
    # The retry is due at once here (the real delay is CALLBACK_RETRY_MINUTES).
    CallbackRequest.objects.filter(pk=callback.pk).update(next_attempt_at=None)
    wait_for(lambda: len(stack.twilio.created_calls()) == 2, what="the second callback call")
    second = stack.twilio.created_calls()[-1]
    wait_for(
        lambda: CallbackRequest.objects.get().status == CallbackRequest.Status.PLACED,
        what="placed again",
    )
    response = signer.post(
        status_url, {"CallSid": second["sid"], "CallStatus": "completed", "To": CALLER}
    )
    assert response.status_code == 204
    callback.refresh_from_db()
    assert callback.status == CallbackRequest.Status.DONE and callback.attempts == 2
    assert callback.completed_at is not None
    assert [a["call_status"] for a in callback.attempt_log] == ["no-answer", "completed"]


def test_a_callback_call_is_answered_runs_the_flow_and_completes(stack, place_call):
    stack.twilio.answer_calls("no-answer", token=TOKEN)
    publish(
        flow_definition(
            "cb2",
            [
                {
                    "id": "offer",
                    "type": "callback",
                    "config": {"prompt": "Press 1.", "confirm_number": False},
                    "exits": {"scheduled": "bye", "declined": "bye"},
                },
                {
                    "id": "bye",
                    "type": "hangup",
                    "config": {"text": "Thanks for waiting."},
                    "exits": {},
                },
            ],
        ),
        NUMBER,
    )
    place_call(NUMBER).press("1")
    callback = wait_for(
        lambda: CallbackRequest.objects.filter(last_status="no-answer").first(),
        what="the first call to go unanswered",
    )
    assert callback.status == CallbackRequest.Status.PENDING and callback.attempts == 1
    stack.twilio.answer_calls("completed", token=TOKEN)
    CallbackRequest.objects.filter(pk=callback.pk).update(next_attempt_at=None)
    callback = wait_for(
        lambda: CallbackRequest.objects.filter(status=CallbackRequest.Status.DONE).first(),
        what="the callback to be done",
    )
    assert callback.attempts == 2 and callback.completed_at is not None
    # Twilio fetched the call's URL: without a target, the flow itself ran for the person called back.
    [twiml] = stack.twilio.answers
    assert "Press 1." in twiml
    assert all(code in (200, 204) for _, _, code in stack.twilio.callbacks)


def test_the_beat_starts_a_calls_recording_after_its_answer(stack, place_call):
    from ivr_runtime.models import CallControl

    publish(
        flow_definition(
            "recorded",
            [
                {
                    "id": "record",
                    "type": "record_call",
                    "config": {"action": "start", "channels": "dual"},
                    "exits": {"next": "menu"},
                },
                {
                    "id": "menu",
                    "type": "menu",
                    "config": {"prompt": "Press 1.", "options": [{"key": "1"}]},
                    "exits": {"1": "bye", "no_input": "bye", "no_match": "bye"},
                },
                {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    call = place_call(NUMBER)
    assert call.waits_for == "Gather"
    control = wait_for(
        lambda: CallControl.objects.filter(status=CallControl.Status.DONE).first(),
        what="the recording started by the worker",
    )
    [recording] = stack.twilio.recordings
    assert recording["call_sid"] == call.sid and recording["channels"] == 2
    assert recording["form"]["RecordingStatusCallback"] == (
        f"{stack.public_url}/ivr/recordings/status"
    )
    assert control.attempts == 1
