# ruff: noqa: F811 (pytest fixtures imported from tests.worker are parameters here)
"""Abandoned calls won back, end to end with the real thing: signed webhooks, Redis, a
Celery worker and beat in their own processes, and the fake Twilio over HTTP."""

import pytest

from ivr_runtime.callbacks import callbacks, recovery
from ivr_runtime.models import CallbackRequest, OutboundMessage, RecoveryOffer
from ivr_runtime.reports.recovery import recovery_counts
from tests.worker import (  # noqa: F401 (fixtures)
    async_stack,
    database_restored_after,
    stack,
    wait_for,
)

from .conftest import flow_definition, publish
from .test_recovery import BYE, NUMBER, OTHER, abandon_in_queue, route, text

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("database_restored_after"),
]

CALLER = "+447700900123"
SORRY = "Sorry we missed you. Our team is busy today."


def support_line():
    """A queue with no opening hours (a callback may be placed at any time)."""
    return publish(
        flow_definition(
            "support", [route({"sms": SORRY, "callback": True, "period_hours": 24}), BYE]
        ),
        NUMBER,
    )


def texts_to(twilio, number):
    return [m["body"] for m in twilio.created_messages() if m["to"] == number]


def sent(body):
    return wait_for(
        lambda: (
            OutboundMessage.objects.filter(body=body, status=OutboundMessage.Status.SENT)
            .exclude(provider_sid="")
            .first()
        ),
        what=f"{body!r} sent",
    )


def test_abandoned_caller_is_texted_once_and_yes_is_called_back(stack, place_call, signer):
    version = support_line()
    abandon_in_queue(place_call)
    offer_text = f"{SORRY}\n{recovery.CALLBACK_OFFER}"
    message = sent(offer_text)
    [created] = stack.twilio.created_messages()
    assert (created["to"], created["from"], created["body"]) == (CALLER, NUMBER, offer_text)
    assert message.provider_sid == created["sid"]

    # Hanging up in the queue again the same day: no second text is even queued.
    abandon_in_queue(place_call)
    assert OutboundMessage.objects.count() == 1 and RecoveryOffer.objects.count() == 1

    assert text(signer, "1") == []  # answered through the outbox
    sent(recovery.BOOKED_NOW)
    assert texts_to(stack.twilio, CALLER) == [offer_text, recovery.BOOKED_NOW]
    callback = wait_for(
        lambda: CallbackRequest.objects.filter(status=CallbackRequest.Status.PLACED).first(),
        what="the callback placed by the worker",
    )
    [placed] = stack.twilio.created_calls()
    assert (placed["to"], placed["from"]) == (CALLER, NUMBER)
    assert placed["url"] == f"{stack.public_url}/ivr/callbacks/{callback.pk}/voice"
    assert callback.provider_sid == placed["sid"] and callback.attempts == 1
    assert RecoveryOffer.objects.get().callback_request_id == callback.pk

    # Twilio fetches the call's URL: the call introduces itself and queues for the team.
    answer = signer.post(
        f"/ivr/callbacks/{callback.pk}/voice",
        {"CallSid": placed["sid"], "From": NUMBER, "To": CALLER, "CallStatus": "in-progress"},
    ).content.decode()
    assert callbacks.INTRO in answer and ">support</Enqueue>" in answer

    counts = recovery_counts(flow=version.flow)
    assert counts["texted"] == counts["sms_sent"] == counts["callbacks_booked"] == 1


def test_no_is_answered_politely_and_nobody_is_called(stack, place_call, signer):
    support_line()
    abandon_in_queue(place_call, caller=OTHER)
    sent(f"{SORRY}\n{recovery.CALLBACK_OFFER}")
    assert text(signer, "no", sender=OTHER) == []
    sent(recovery.DECLINED)
    assert texts_to(stack.twilio, OTHER)[-1] == recovery.DECLINED
    assert RecoveryOffer.objects.get().status == RecoveryOffer.Status.DECLINED
    assert CallbackRequest.objects.count() == 0 and stack.twilio.created_calls() == []
