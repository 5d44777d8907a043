# ruff: noqa: F811 (pytest fixtures imported from tests.worker are parameters here)
"""The outbox in one process: claims, retries, reconciliation, sweeps, delivery statuses,
against the fake Twilio over HTTP (the worker tests run the same code in a real worker)."""

import logging
import socket
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from ivr_runtime.models import CallSession, CallStep, OutboundMessage
from ivr_runtime.sms import outbox
from tests.fakes.twilio_api import FakeTwilio
from tests.worker import local_broker, published, use_broker  # noqa: F401 (fixtures)

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status
NUMBER = "+442079460102"
CALLER = "+447700900123"
SEND = "ivr_runtime.send_outbound_message"


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_HTTP_TIMEOUT = 1
    settings.PUBLIC_BASE_URL = "https://ivr.example.com"
    settings.SMS_RETRY_BASE_DELAY = 10
    settings.SMS_RETRY_MAX_DELAY = 60
    settings.SMS_MAX_ATTEMPTS = 3
    settings.SMS_SEND_LEASE_SECONDS = 60
    yield fake
    fake.stop()


def queued(body="Hello", to=CALLER, **extra) -> OutboundMessage:
    n = OutboundMessage.objects.count()
    return OutboundMessage.objects.create(
        to=to, from_number=NUMBER, body=body, idempotency_key=f"k{n}", **extra
    )


def send(message):
    return outbox.outbound_message_send(message_id=message.pk)


def test_sent_once_with_a_status_callback_carrying_the_row(twilio, local_broker):
    message = send(queued())
    assert message.status == Status.SENT and message.attempts == 1
    [request] = twilio.messages()
    assert request.form == {
        "To": CALLER,
        "From": NUMBER,
        "Body": "Hello",
        "StatusCallback": f"https://ivr.example.com/ivr/messages/status?m={message.pk}",
    }
    assert (
        send(message).attempts == 1 and len(twilio.messages()) == 1
    )  # a duplicate task does nothing


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_errors_go_back_to_the_queue_with_backoff(twilio, status, local_broker):
    twilio.fail_next(status, times=2)
    message = send(queued())
    assert message.status == Status.QUEUED and message.attempts == 1
    assert 9 <= (message.next_attempt_at - timezone.now()).total_seconds() <= 10
    assert [args for args, _ in published(local_broker, SEND)] == [
        (message.pk,)
    ]  # handed over again, delayed
    assert send(message).attempts == 1  # not due yet: an early duplicate does nothing
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    message = send(message)
    assert message.status == Status.QUEUED and message.attempt_log[-1]["retry_in"] == 20  # doubled
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    message = send(message)
    assert message.status == Status.SENT and message.attempts == 3
    assert [a["outcome"] for a in message.attempt_log] == ["failed", "failed", "sent"]


def test_transient_errors_give_up_after_the_last_attempt(twilio, local_broker):
    twilio.fail_next(500, times=5)
    message = queued()
    for _ in range(3):
        OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
        message = send(message)
    assert message.status == Status.FAILED and message.attempts == 3
    assert message.last_error.startswith("gave up after 3 attempts")


def test_an_invalid_number_fails_at_once(twilio, local_broker):
    twilio.fail_next(
        400, code=21211, message="The 'To' number +15005550001 is not a valid phone number."
    )
    message = send(queued(to="+15005550001"))
    assert (
        message.status == Status.FAILED and message.attempts == 1 and message.error_code == "21211"
    )
    assert message.last_error.startswith("21211: ")
    assert message.last_error.endswith("The 'To' number +15005550001 is not a valid phone number.")
    assert published(local_broker, SEND) == []


def test_a_read_timeout_is_reconciled_before_sending_again(twilio, settings, local_broker):
    settings.TWILIO_HTTP_TIMEOUT = 0.5
    twilio.hold_next(accept=True)  # the provider takes it but never answers in time
    message = send(queued())
    twilio.release()
    assert message.status == Status.QUEUED and message.attempt_log[0]["outcome"] == "unknown"
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
    message = send(message)
    [created] = twilio.created_messages()
    assert message.status == Status.SENT and message.provider_sid == created["sid"]
    assert len(twilio.messages()) == 1  # looked up, not sent again
    assert message.attempt_log[-1]["outcome"] == "found at the provider"


def test_a_stale_sending_row_whose_message_never_left_is_sent(twilio, local_broker):
    message = queued(
        status=Status.SENDING,
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
        attempt_log=[{"n": 1, "at": timezone.now().isoformat(), "outcome": "started"}],
    )
    message = send(message)
    assert message.status == Status.SENT and len(twilio.messages()) == 1
    assert [a["outcome"] for a in message.attempt_log] == ["unknown", "sent"]
    assert message.attempt_log[0]["error"] == "the worker was lost"


def test_a_message_whose_workers_keep_dying_is_given_up_not_sent(twilio, local_broker):
    lost = {"n": 3, "at": timezone.now().isoformat(), "outcome": "started"}
    message = queued(
        status=Status.SENDING,
        attempts=3,
        lease_until=timezone.now() - timedelta(seconds=1),
        attempt_log=[{"n": 1, "outcome": "unknown"}, {"n": 2, "outcome": "unknown"}, lost],
    )
    message = send(message)
    assert message.status == Status.FAILED and message.attempts == 4
    assert message.last_error == "gave up after 3 attempts: the workers sending it were lost"
    assert twilio.messages() == [] and len(twilio.requests) == 1  # looked it up, sent nothing


def test_a_sending_row_within_its_lease_is_left_to_its_worker(twilio, local_broker):
    message = send(
        queued(
            status=Status.SENDING, attempts=1, lease_until=timezone.now() + timedelta(seconds=30)
        )
    )
    assert message.status == Status.SENDING and twilio.requests == []


def test_reconciling_when_the_provider_cannot_be_asked_tries_again_later(twilio, local_broker):
    message = queued(
        status=Status.SENDING,
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
        attempt_log=[{"n": 1, "at": timezone.now().isoformat(), "outcome": "started"}],
    )
    twilio.stop()
    message = send(message)
    assert message.status == Status.QUEUED and message.attempt_log[-1]["outcome"] == "unknown"
    assert "lookup failed" in message.attempt_log[-1]["error"]


def test_bodies_over_1600_characters_are_cut_with_an_ellipsis(twilio, local_broker):
    message = send(queued(body="x" * 2000))
    [request] = twilio.messages()
    assert len(request.form["Body"]) == 1600 and request.form["Body"].endswith("…")
    assert message.body == "x" * 2000  # the row keeps what the flow wrote
    assert message.attempt_log[0]["note"] == "body cut from 2000 to 1600 characters"


def test_simulated_messages_are_never_sent(twilio, local_broker):
    message = send(queued(simulated=True, status=Status.SIMULATED))
    assert message.status == Status.SIMULATED and twilio.requests == []


# --- handing over and sweeping ---------------------------------------------------------------------
def test_publishing_to_an_unreachable_broker_is_fast_and_leaves_the_row_queued(
    caplog, local_broker
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound and never listening: connections are refused
        use_broker(f"redis://127.0.0.1:{sock.getsockname()[1]}/14")
        outbox.message_publish(queued(body="first").pk)  # the first publish loads the transport
        message = queued()
        started = time.perf_counter()
        with caplog.at_level(logging.WARNING, logger="ivr_runtime.sms.outbox"):
            assert outbox.message_publish(message.pk) is False
        assert time.perf_counter() - started < 0.5
    assert f"SMS {message.pk} waits for the sweep: the broker is unreachable" in caplog.text
    message.refresh_from_db()
    assert message.status == Status.QUEUED and message.enqueued_at is None


def test_the_row_is_written_with_the_step_and_the_webhook_leaves_the_broker_alone(
    place_call, django_capture_on_commit_callbacks, local_broker
):
    publish(
        flow_definition(
            "texts",
            [
                {"id": "text", "type": "sms", "config": {"body": "Hi"}, "exits": {"next": "bye"}},
                {"id": "bye", "type": "hangup", "config": {}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call = place_call(NUMBER)
    message = OutboundMessage.objects.get()
    assert message.step == CallStep.objects.get(session__call_sid=call.sid, node_id="text")
    assert callbacks == [] and published(local_broker, SEND) == []
    assert message.status == Status.QUEUED and message.enqueued_at is None
    # The relay hands it over at once and marks it.
    assert outbox.outbox_sweep() == 1
    assert [args for args, _ in published(local_broker, SEND)] == [(message.pk,)]
    message.refresh_from_db()
    assert message.enqueued_at is not None
    assert outbox.outbox_sweep() == 0  # handed over: left alone for the grace period


def test_the_relay_marks_what_it_handed_over_in_one_statement(
    django_assert_num_queries, local_broker
):
    messages = [queued() for _ in range(5)]
    outbox.outbox_sweep()  # the first publish loads the transport
    OutboundMessage.objects.update(enqueued_at=None)
    with django_assert_num_queries(2):  # the due messages, then the mark
        assert outbox.outbox_sweep() == 5
    assert all(m.enqueued_at for m in OutboundMessage.objects.all())
    # each one handed over by both sweeps
    assert sorted(args[0] for args, _ in published(local_broker, SEND)) == sorted(
        [m.pk for m in messages] * 2
    )


def test_the_sweep_hands_over_what_is_due_and_nothing_else(settings, local_broker):
    settings.SMS_HANDOVER_GRACE_SECONDS = 20
    now = timezone.now()
    never = queued()
    recently = queued(enqueued_at=now - timedelta(seconds=5))
    long_ago = queued(enqueued_at=now - timedelta(seconds=60))
    not_due = queued(next_attempt_at=now + timedelta(seconds=30))
    stale = queued(status=Status.SENDING, lease_until=now - timedelta(seconds=1))
    queued(status=Status.SENDING, lease_until=now + timedelta(seconds=30))
    queued(status=Status.SENT)
    queued(status=Status.FAILED)
    queued(status=Status.SIMULATED, simulated=True)
    assert outbox.outbox_sweep(now=now) == 3
    assert sorted(args[0] for args, _ in published(local_broker, SEND)) == sorted(
        [never.pk, long_ago.pk, stale.pk]
    )
    assert recently.pk and not_due.pk


def test_the_sweep_stops_at_the_first_broker_failure(local_broker):
    queued()
    queued()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        use_broker(f"redis://127.0.0.1:{sock.getsockname()[1]}/14")
        assert outbox.outbox_sweep() == 0


# --- delivery statuses -----------------------------------------------------------------------------
def status(signer, message_id=None, **form):
    from django.conf import settings

    path = "/ivr/messages/status" + (f"?m={message_id}" if message_id else "")
    form = {"AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", **form}
    return signer.post(path, form, base=settings.PUBLIC_BASE_URL or None)


def test_delivery_statuses_move_forward_only(signer, twilio, local_broker):
    message = send(queued())
    sid = message.provider_sid
    assert status(signer, message.pk, MessageSid=sid, MessageStatus="delivered").status_code == 204
    assert (
        status(signer, message.pk, MessageSid=sid, MessageStatus="sent").status_code == 204
    )  # late, out of order
    message.refresh_from_db()
    assert (message.status, message.provider_status) == (Status.DELIVERED, "sent")


def test_undelivered_keeps_the_error_code(signer, twilio, local_broker):
    message = send(queued())
    status(signer, MessageSid=message.provider_sid, MessageStatus="undelivered", ErrorCode="30003")
    message.refresh_from_db()
    assert (message.status, message.error_code, message.last_error) == (
        Status.UNDELIVERED,
        "30003",
        "undelivered: error 30003",
    )


def test_a_status_before_the_worker_recorded_the_sid_finds_the_row_by_id(signer):
    message = queued(
        status=Status.SENDING, attempts=1, lease_until=timezone.now() + timedelta(seconds=30)
    )
    status(signer, message.pk, MessageSid="SM" + "a" * 32, MessageStatus="sent")
    message.refresh_from_db()
    assert (message.status, message.provider_sid, message.lease_until) == (
        Status.SENT,
        "SM" + "a" * 32,
        None,
    )


def test_unknown_message_sids_are_logged_and_ignored(signer, caplog, twilio, local_broker):
    message = send(queued())
    with caplog.at_level(logging.WARNING, logger="ivr_runtime.sms.messaging"):
        assert (
            status(signer, MessageSid="SM" + "9" * 32, MessageStatus="delivered").status_code == 204
        )
        # an id that does not belong to that sid is not trusted either
        assert (
            status(
                signer, message.pk, MessageSid="SM" + "8" * 32, MessageStatus="failed"
            ).status_code
            == 204
        )
    assert caplog.text.count("for unknown message") == 2
    message.refresh_from_db()
    assert message.status == Status.SENT


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"MessageSid": "SM1"},
        {"MessageStatus": "sent"},
        {"MessageSid": "<script>", "MessageStatus": "sent"},
        {"MessageSid": "SM" + "1" * 32, "MessageStatus": "d€livered"},
    ],
)
def test_malformed_status_callbacks_are_400_never_500(signer, form):
    assert status(signer, **form).status_code == 400


def test_status_callbacks_must_be_signed(signer):
    form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    assert signer.post("/ivr/messages/status", form, signature="forged").status_code == 403


# --- bad numbers in flows ------------------------------------------------------------------------------
def test_a_flow_whose_sms_to_is_not_a_number_sends_nothing_and_carries_on(place_call):
    publish(
        flow_definition(
            "texts",
            [
                {
                    "id": "set",
                    "type": "set",
                    "config": {"vars": {"to": "+44 not a number"}},
                    "exits": {"next": "text"},
                },
                {
                    "id": "text",
                    "type": "sms",
                    "config": {"body": "Hi", "to": "{{ vars.to }}"},
                    "exits": {"next": "bye"},
                },
                {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    call = place_call(NUMBER)
    assert call.ended and call.heard == ["Goodbye."]
    assert not OutboundMessage.objects.exists()
    step = CallStep.objects.get(session__call_sid=call.sid, node_id="text")
    assert (step.exit, step.input) == ("next", "not sent: '+44 not a number' is not a phone number")
    assert CallSession.objects.get(call_sid=call.sid).errors == []


def test_a_commit_that_fails_hands_nothing_over(local_broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        message = queued()
        transaction.on_commit(lambda: outbox.message_publish(message.pk))
        raise RuntimeError("the step could not be saved")
    assert published(local_broker, SEND) == [] and not OutboundMessage.objects.exists()
