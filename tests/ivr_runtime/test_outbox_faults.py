# ruff: noqa: F811 (pytest fixtures imported from tests.worker are parameters here)
"""The outbox when the provider's answers are lost or unreadable: an attempt whose outcome
is unknown is retried (looking first) until the provider says whether it has the message,
and ends sent once: never failed, never sent twice. A message the provider reports as
delivered is recorded as delivered, even over a failure we concluded ourselves. Without a
Twilio account nothing reaches the provider."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ivr_runtime.models import OutboundMessage
from ivr_runtime.sms import outbox
from ivr_runtime.twilio import twilio_client
from tests.fakes.twilio_api import FakeTwilio
from tests.worker import local_broker  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status
NUMBER = "+442079460102"
CALLER = "+447700900123"
LIST_FAULTS = [500, 503, 404, "not-json", "drop"]


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_HTTP_TIMEOUT = 1
    settings.PUBLIC_BASE_URL = ""
    settings.SMS_RETRY_BASE_DELAY = 10
    settings.SMS_RETRY_MAX_DELAY = 60
    settings.SMS_MAX_ATTEMPTS = 3
    settings.SMS_SEND_LEASE_SECONDS = 60
    yield fake
    fake.release()
    fake.stop()


def queued(body="Hello", **extra) -> OutboundMessage:
    n = OutboundMessage.objects.count()
    return OutboundMessage.objects.create(
        to=CALLER, from_number=NUMBER, body=body, idempotency_key=f"faults-{n}", **extra
    )


def send(message) -> OutboundMessage:
    return outbox.outbound_message_send(message_id=message.pk)


def due(message) -> None:
    """Let the next attempt run now (a retry's delay, or the lease of a lost worker, is over)."""
    OutboundMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=None, lease_until=timezone.now() - timedelta(seconds=1)
    )


def read_timeout_after_the_provider_took_it(twilio, settings) -> OutboundMessage:
    settings.TWILIO_HTTP_TIMEOUT = 0.5
    twilio.hold_next(accept=True)
    message = send(queued())
    twilio.release()
    assert message.status == Status.QUEUED and message.attempt_log[-1]["outcome"] == "unknown"
    return message


def worker_lost_after_the_provider_took_it(twilio, settings) -> OutboundMessage:
    """The provider has the message; the worker that sent it died before recording it.

    The row is written before the send, as the outbox does: the provider's clock (to the
    second) is then never before the row's, whichever second boundary falls between them."""
    message = queued(
        status=Status.SENDING,
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
        attempt_log=[{"n": 1, "at": timezone.now().isoformat(), "outcome": "started"}],
    )
    twilio_client.sms_send(to=CALLER, from_=NUMBER, body="Hello")
    return message


CAUSES = {
    "read-timeout": read_timeout_after_the_provider_took_it,
    "worker-lost": worker_lost_after_the_provider_took_it,
}


@pytest.mark.parametrize("fault", LIST_FAULTS, ids=str)
@pytest.mark.parametrize("cause", CAUSES)
def test_a_lookup_that_fails_once_is_retried_and_the_message_ends_sent_once(
    twilio, settings, local_broker, cause, fault
):
    message = CAUSES[cause](twilio, settings)
    [created] = twilio.created_messages()
    due(message)
    twilio.fail_list_next(fault)
    message = send(message)
    assert message.status == Status.QUEUED, message.last_error
    assert message.next_attempt_at is not None
    last = message.attempt_log[-1]
    assert (last["outcome"], last["step"]) == ("unknown", "lookup")
    assert last["error"].startswith("lookup failed: ")
    due(message)
    message = send(message)
    assert (message.status, message.provider_sid) == (Status.SENT, created["sid"])
    assert message.attempt_log[-1]["outcome"] == "found at the provider"
    assert len(twilio.messages()) == 1, "sent again although the provider had it"
    assert len(twilio.lists()) == 2


@pytest.mark.parametrize("cause", CAUSES)
def test_a_provider_clock_behind_ours_does_not_hide_the_message(twilio, settings, cause):
    twilio.clock_behind = 5
    message = CAUSES[cause](twilio, settings)
    [created] = twilio.created_messages()
    due(message)
    message = send(message)
    assert (message.status, message.provider_sid) == (Status.SENT, created["sid"])
    assert len(twilio.messages()) == 1


def test_the_same_text_another_message_sent_is_not_taken_for_this_ones(twilio, settings):
    """Two calls that each text the caller the same link: the second's worker was lost
    before it sent anything, the first's was sent meanwhile."""
    lost = queued(
        status=Status.SENDING,
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
        attempt_log=[{"n": 1, "at": timezone.now().isoformat(), "outcome": "started"}],
    )
    other = send(queued())
    assert other.status == Status.SENT
    lost = send(lost)
    assert lost.status == Status.SENT and lost.provider_sid != other.provider_sid
    assert lost.attempt_log[-1]["outcome"] == "sent" and len(twilio.messages()) == 2


def test_a_lookup_failing_many_times_never_fails_the_message(twilio, settings, local_broker):
    message = worker_lost_after_the_provider_took_it(twilio, settings)
    twilio.fail_list_next(500, times=settings.SMS_MAX_ATTEMPTS + 2)
    for _ in range(settings.SMS_MAX_ATTEMPTS + 2):
        due(message)
        message = send(message)
        assert message.status == Status.QUEUED
    assert message.attempt_log[-1]["retry_in"] == 60  # the backoff is capped, the tries are not
    due(message)
    assert send(message).status == Status.SENT and len(twilio.messages()) == 1


def test_failed_lookups_do_not_use_up_the_send_attempts(twilio, settings, local_broker):
    """The provider never had it: once a lookup can say so, it is sent."""
    message = queued(
        status=Status.SENDING,
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
        attempt_log=[{"n": 1, "at": timezone.now().isoformat(), "outcome": "started"}],
    )
    twilio.fail_list_next("drop", times=settings.SMS_MAX_ATTEMPTS)
    for _ in range(settings.SMS_MAX_ATTEMPTS):
        due(message)
        assert send(message).status == Status.QUEUED
    due(message)
    message = send(message)
    assert message.status == Status.SENT and len(twilio.messages()) == 1
    assert message.attempt_log[-1]["outcome"] == "sent"


def test_an_ambiguous_last_attempt_is_looked_up_not_failed(twilio, settings, local_broker):
    settings.SMS_MAX_ATTEMPTS = 1
    message = read_timeout_after_the_provider_took_it(twilio, settings)
    due(message)
    message = send(message)
    [created] = twilio.created_messages()
    assert (message.status, message.provider_sid) == (Status.SENT, created["sid"])
    assert len(twilio.messages()) == 1


def test_a_message_never_at_the_provider_after_the_last_attempt_is_failed(
    twilio, settings, local_broker
):
    settings.SMS_MAX_ATTEMPTS = 1
    settings.TWILIO_HTTP_TIMEOUT = 0.5
    twilio.hold_next(accept=False)  # the request is dropped: the provider never had it
    message = send(queued())
    twilio.release()
    assert message.status == Status.QUEUED
    due(message)
    message = send(message)
    assert message.status == Status.FAILED and len(twilio.messages()) == 1
    assert message.last_error.startswith("gave up after 1 attempts, none found at the provider")


def test_an_unreadable_answer_to_a_send_is_reconciled(twilio, settings, local_broker):
    """A 201 that is not JSON: the provider answered, so it may have taken the message."""
    twilio.garble_next()
    message = send(queued())
    assert message.status == Status.QUEUED, message.last_error
    assert message.attempt_log[-1]["outcome"] == "unknown"
    assert message.attempt_log[-1]["error"].startswith("send failed: unreadable answer")
    due(message)
    message = send(message)
    [created] = twilio.created_messages()
    assert (message.status, message.provider_sid) == (Status.SENT, created["sid"])
    assert len(twilio.messages()) == 1


def test_a_message_found_delivered_is_recorded_delivered(twilio, settings, local_broker):
    """Delivered while nothing could be recorded (the worker or the database away)."""
    message = worker_lost_after_the_provider_took_it(twilio, settings)
    [created] = twilio.created_messages()
    twilio.set_status(created["sid"], "delivered")
    message = send(message)
    assert (message.status, message.provider_status) == (Status.DELIVERED, "delivered")
    assert len(twilio.messages()) == 1


def status_callback(signer, message_id, **form):
    form = {"AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", **form}
    return signer.post(f"/ivr/messages/status?m={message_id}", form)


@pytest.mark.parametrize("provider_says", ["delivered", "sent"])
def test_the_providers_word_overrides_a_failure_we_concluded(signer, provider_says):
    message = queued(
        status=Status.FAILED,
        attempts=3,
        last_error="gave up after 3 attempts: the workers sending it were lost",
    )
    sid = "SM" + "c" * 32
    response = status_callback(signer, message.pk, MessageSid=sid, MessageStatus=provider_says)
    assert response.status_code == 204
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == (Status(provider_says), sid)


def test_a_failure_the_provider_reported_stays_failed(signer):
    message = queued(status=Status.FAILED, provider_status="failed", provider_sid="SM" + "d" * 32)
    status_callback(signer, message.pk, MessageSid=message.provider_sid, MessageStatus="sent")
    message.refresh_from_db()
    assert (message.status, message.provider_status) == (Status.FAILED, "sent")


# --- no Twilio account -----------------------------------------------------------------------
def test_without_an_account_nothing_reaches_the_provider(twilio, settings, local_broker):
    settings.TWILIO_REST_ENABLED = False
    settings.TWILIO_ACCOUNT_SID = ""
    message = send(queued())
    assert (message.status, message.error_code, message.attempts) == (
        Status.FAILED,
        outbox.NOT_CONFIGURED,
        0,
    )
    assert message.last_error == (
        "not sent: no Twilio account configured (TWILIO_ACCOUNT_SID unset)"
    )
    assert message.attempt_log[-1]["outcome"] == "not sent"
    assert send(message).status == Status.FAILED  # a duplicate task changes nothing
    for request in (
        lambda: twilio_client.sms_send(to=CALLER, from_=NUMBER, body="x"),
        lambda: twilio_client.call_create(to=CALLER, from_=NUMBER, url="https://e.com/x"),
        lambda: twilio_client.sms_sent_since(
            to=CALLER, from_=NUMBER, body="x", since=timezone.now()
        ),
    ):
        with pytest.raises(twilio_client.NotConfigured) as raised:
            request()
        assert not raised.value.transient
    assert twilio.requests == []


def test_a_message_kept_unsent_is_sent_once_an_account_is_configured(
    twilio, settings, local_broker
):
    settings.TWILIO_REST_ENABLED = False
    message = send(queued())
    settings.TWILIO_REST_ENABLED = True
    OutboundMessage.objects.filter(pk=message.pk).update(status=Status.QUEUED)  # "send again"
    message = send(message)
    assert (message.status, message.attempts) == (Status.SENT, 1)
    assert [a["outcome"] for a in message.attempt_log] == ["not sent", "sent"]
