"""Abandoned calls won back (`route.config.on_abandon`): the text a caller gets after
hanging up in the queue or while ringing, once per period, and the replies to its offer
(through the signed webhooks; the worker's part is in test_recovery_worker.py)."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.utils import timezone

from flows.spec import validate
from ivr_runtime.callbacks import recovery
from ivr_runtime.models import CallbackRequest, CallSession, OutboundMessage, RecoveryOffer
from ivr_runtime.reports.recovery import recovery_counts

from .conftest import flow_definition, publish
from .test_api import simulate

pytestmark = pytest.mark.django_db

NUMBER = "+442079460102"
CALLER = "+447700900123"
OTHER = "+447700900456"
QUEUE = {"queue": "support"}
Offer = RecoveryOffer.Status
_sids = count(1)
#: a Saturday evening in London: the line opens again on Monday at 09:00
SATURDAY_20 = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
HOURS = {
    "id": "hours",
    "type": "time_of_day",
    "config": {
        "timezone": "Europe/London",
        "schedule": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    },
    "exits": {"open": "agents", "closed": "agents"},
}


def route(on_abandon=None, target=QUEUE):
    config = {"target": target, "timeout": 20}
    if on_abandon is not None:
        config["on_abandon"] = on_abandon
    return {
        "id": "agents",
        "type": "route",
        "config": config,
        "exits": {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
    }


BYE = {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}}
SMS_FLOW = [
    {
        "id": "ask",
        "type": "menu",
        "config": {"prompt": "Hello from the text line.", "options": [{"key": "1"}]},
        "exits": {"1": "bye", "no_input": "bye", "no_match": "bye"},
    }
]
PROMPT = ["Hello from the text line."]


def line(on_abandon=None, *, hours=False, target=QUEUE, slug="support"):
    nodes = [route(on_abandon, target), BYE]
    return publish(flow_definition(slug, [HOURS, *nodes] if hours else nodes), NUMBER)


OFFER = {"sms": "Sorry we missed you.", "callback": True}


def text(signer, body, *, sender=CALLER, to=NUMBER, sid=None):
    """An incoming SMS, signed as Twilio signs it: the texts of the inline reply."""
    params = {
        "MessageSid": sid or f"SM{next(_sids):032x}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": to,
        "Body": body,
    }
    response = signer.post("/ivr/sms", params)
    assert response.status_code == 200, response.content
    return [m.text or "" for m in ET.fromstring(response.content).findall("Message")]


def abandon_in_queue(place_call, caller=CALLER):
    call = place_call(NUMBER, caller=caller)
    assert call.waits_for == "Enqueue"
    return call.queue_ends("hangup")


def recovery_texts(to=CALLER):
    return list(
        OutboundMessage.objects.filter(to=to, idempotency_key__startswith="step:")
        .order_by("pk")
        .values_list("body", flat=True)
    )


def answers(to=CALLER):
    return list(
        OutboundMessage.objects.filter(to=to, idempotency_key__startswith="recovery:")
        .order_by("pk")
        .values_list("body", flat=True)
    )


# --- the text -------------------------------------------------------------------------------
def test_hanging_up_in_the_queue_queues_the_text_with_the_offer(place_call):
    version = line({**OFFER, "sms": "Sorry we missed you at {{ call.to }}."})
    abandon_in_queue(place_call)
    [message] = OutboundMessage.objects.all()
    assert message.status == OutboundMessage.Status.QUEUED  # the outbox sends it
    assert (message.to, message.from_number) == (CALLER, NUMBER)
    assert message.body == f"Sorry we missed you at {NUMBER}.\n" + recovery.CALLBACK_OFFER
    offer = RecoveryOffer.objects.get()
    assert (offer.status, offer.callback, offer.message_id) == (Offer.OFFERED, True, message.pk)
    assert offer.flow_id == version.flow_id and offer.node_id == "agents"
    assert offer.target == QUEUE and offer.expires_at - offer.sent_at == timedelta(hours=24)
    assert CallSession.objects.get().steps.get(node_id="agents").hung_up


def test_the_status_callback_of_a_caller_gone_while_ringing_sends_it(place_call):
    line({"sms": "Sorry we missed you."}, target={"number": "+442079460999"})
    call = place_call(NUMBER)
    assert call.waits_for == "Dial"
    call.hang_up("completed")  # the caller hung up while the agent's phone rang
    assert recovery_texts() == ["Sorry we missed you."]
    assert RecoveryOffer.objects.get().status == Offer.TEXTED


def test_a_second_abandon_within_the_period_gets_nothing_and_after_it_again(place_call):
    line({**OFFER, "period_hours": 2})
    abandon_in_queue(place_call)
    abandon_in_queue(place_call)
    assert len(recovery_texts()) == 1 and RecoveryOffer.objects.count() == 1
    abandon_in_queue(place_call, caller=OTHER)  # another caller is texted all the same
    assert len(recovery_texts(OTHER)) == 1
    RecoveryOffer.objects.update(sent_at=timezone.now() - timedelta(hours=2, minutes=1))
    abandon_in_queue(place_call)
    assert len(recovery_texts()) == 2


def test_no_text_without_one_to_send_when_connected_or_when_the_queue_gives_up(place_call):
    line()
    abandon_in_queue(place_call)
    line({"sms": " ", "callback": False})  # nothing to say: nothing is sent
    abandon_in_queue(place_call)
    line(OFFER)
    place_call(NUMBER).queue_ends("bridged")
    place_call(NUMBER).queue_ends("leave")  # max_wait: the flow goes on, the caller is there
    assert OutboundMessage.objects.count() == 0 and RecoveryOffer.objects.count() == 0


def test_a_withheld_number_is_not_texted(place_call):
    line(OFFER)
    abandon_in_queue(place_call, caller="anonymous")
    assert OutboundMessage.objects.count() == 0 and RecoveryOffer.objects.count() == 0


def test_a_simulated_call_shows_the_text_and_sends_nothing(editor_api):
    line(OFFER)
    started = simulate(editor_api, {"event": {"type": "start"}}, slug="support")
    assert started["waiting_for"] == "queue"
    simulate(editor_api, {"session": started["session"], "event": {"type": "hangup"}}, "support")
    [message] = OutboundMessage.objects.all()
    assert message.status == OutboundMessage.Status.SIMULATED and message.simulated
    assert RecoveryOffer.objects.count() == 0
    assert recovery_counts(flow=message.session.flow)["texted"] == 0


# --- the replies ------------------------------------------------------------------------------
def offered(*, hours=True, sent_at=SATURDAY_20, **extra):
    """An offer sent at `sent_at` after a call to the line abandoned in the queue."""
    version = line(OFFER, hours=hours)
    session = CallSession.objects.create(
        call_sid=f"CA{next(_sids):032x}",
        flow=version.flow,
        flow_version=version,
        from_number=CALLER,
        to_number=NUMBER,
        status=CallSession.Status.COMPLETED,
    )
    return RecoveryOffer.objects.create(
        number=CALLER,
        from_number=NUMBER,
        flow=version.flow,
        session=session,
        node_id="agents",
        callback=True,
        target=QUEUE,
        status=Offer.OFFERED,
        sent_at=sent_at,
        expires_at=sent_at + timedelta(hours=24),
        **extra,
    )


def reply(body, *, sender=CALLER, sid="SM" + "1" * 32, now=SATURDAY_20 + timedelta(minutes=5)):
    return recovery.recovery_reply(sender=sender, to=NUMBER, body=body, message_sid=sid, now=now)


def test_yes_books_a_callback_at_the_next_opening_and_says_when():
    offer = offered()
    assert reply("1") is True
    callback = CallbackRequest.objects.get()
    assert (callback.number, callback.from_number) == (CALLER, NUMBER)
    assert callback.due_at == MONDAY_9 and callback.next_attempt_at == MONDAY_9
    assert callback.target == QUEUE and callback.session_id == offer.session_id
    assert callback.status == CallbackRequest.Status.PENDING
    offer.refresh_from_db()
    assert offer.status == Offer.BOOKED and offer.callback_request_id == callback.pk
    assert answers() == [
        "Thank you. We will call you back on Monday 30 November at 09:00, when we are open."
    ]
    [message] = OutboundMessage.objects.all()
    assert (
        message.status == OutboundMessage.Status.QUEUED and message.session_id == offer.session_id
    )


def test_yes_while_open_is_due_at_once():
    offered(hours=False)
    assert reply("Yes please!") is True
    callback = CallbackRequest.objects.get()
    assert callback.next_attempt_at is None  # the next sweep places it
    assert answers() == [recovery.BOOKED_NOW]


def test_twilio_retrying_the_reply_books_once_and_answers_once():
    offered()
    assert reply("YES") is True
    assert reply("YES") is True
    assert CallbackRequest.objects.count() == 1 and len(answers()) == 1


def test_no_declines_politely():
    offer = offered()
    assert reply("No thanks") is True
    offer.refresh_from_db()
    assert offer.status == Offer.DECLINED and CallbackRequest.objects.count() == 0
    assert answers() == [recovery.DECLINED]


def test_anything_else_is_asked_again_once_then_left_to_the_sms_channel():
    offer = offered()
    assert reply("what is this?", sid="SM" + "2" * 32) is True
    assert answers() == [recovery.ASK_AGAIN]
    assert reply("hello?", sid="SM" + "3" * 32) is False
    offer.refresh_from_db()
    assert offer.status == Offer.EXPIRED and len(answers()) == 1
    assert reply("1", sid="SM" + "4" * 32) is False  # the offer is over
    assert CallbackRequest.objects.count() == 0


@pytest.mark.parametrize(
    "body, said",
    [
        ("1", True),
        ("yes", True),
        ("Y", True),
        ("ok.", True),
        ("2", False),
        ("NO!", False),
        ("Nope, thanks", False),
        ("maybe", None),
        ("", None),
        ("12", None),
    ],
)
def test_what_a_reply_says(body, said):
    assert recovery.reading(body) is said


def test_a_reply_from_another_number_or_after_expiry_goes_to_the_sms_flow(signer):
    offer = offered(sent_at=timezone.now())
    publish(flow_definition("support", [route(OFFER), BYE, *SMS_FLOW], start="ask"), NUMBER)
    assert text(signer, "1", sender=OTHER) == PROMPT  # the text line's conversation starts
    conversation = CallSession.objects.get(channel="sms", from_number=OTHER)
    assert conversation.steps.filter(node_id="ask").exists()
    RecoveryOffer.objects.filter(pk=offer.pk).update(expires_at=timezone.now())
    assert text(signer, "1", sender=CALLER) == PROMPT
    offer.refresh_from_db()
    assert offer.status == Offer.EXPIRED and CallbackRequest.objects.count() == 0
    assert answers() == []


def test_a_reply_through_the_signed_webhook_is_answered_through_the_outbox(signer):
    offered(sent_at=timezone.now(), hours=False)
    assert text(signer, "1") == []  # the confirmation goes through the outbox
    assert answers() == [recovery.BOOKED_NOW] and CallbackRequest.objects.count() == 1
    assert not CallSession.objects.filter(channel="sms").exists()


def test_an_offer_without_a_callback_leaves_replies_to_the_sms_channel(signer):
    offer = offered(sent_at=timezone.now())
    RecoveryOffer.objects.filter(pk=offer.pk).update(callback=False, status=Offer.TEXTED)
    publish(flow_definition("support", [route(OFFER), BYE, *SMS_FLOW], start="ask"), NUMBER)
    assert text(signer, "1") == PROMPT
    assert CallSession.objects.filter(channel="sms").exists() and answers() == []


# --- the counts ---------------------------------------------------------------------------------
def test_recovery_counts_by_time_and_version():
    booked = offered()
    reply("1")
    declined = offered(sent_at=SATURDAY_20 + timedelta(hours=1))
    RecoveryOffer.objects.filter(pk=declined.pk).update(status=Offer.DECLINED)
    texted = offered(sent_at=SATURDAY_20 + timedelta(hours=2))
    RecoveryOffer.objects.filter(pk=texted.pk).update(callback=False, status=Offer.TEXTED)
    CallbackRequest.objects.update(status=CallbackRequest.Status.DONE)
    flow = booked.flow
    assert recovery_counts(flow=flow) == {
        "texted": 3,
        "sms_sent": 0,  # nothing was sent: no worker here
        "sms_delivered": 0,
        "callbacks_offered": 2,
        "callbacks_booked": 1,
        "callbacks_declined": 1,
        "callbacks_completed": 1,
    }
    later = recovery_counts(flow=flow, since=SATURDAY_20 + timedelta(minutes=30))
    assert (later["texted"], later["callbacks_booked"]) == (2, 0)
    early = recovery_counts(flow=flow, until=SATURDAY_20 + timedelta(minutes=30))
    assert (early["texted"], early["callbacks_booked"]) == (1, 1)
    # each offered() published the next version: the first is version 1
    assert recovery_counts(flow=flow, version=1)["texted"] == 1
    assert recovery_counts(flow=flow, version=9)["texted"] == 0


# --- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "on_abandon, path, words",
    [
        ({"sms": "Hi", "callback": "yes"}, "$.nodes[0].config.on_abandon.callback", "boolean"),
        ({"sms": "Hi", "period_hours": 0}, "$.nodes[0].config.on_abandon.period_hours", "0"),
        ({"sms": "Hi", "later": True}, "$.nodes[0].config.on_abandon.later", "Unknown key"),
        ({"sms": 12}, "$.nodes[0].config.on_abandon.sms", "string"),
        ({"sms": "{{ caller.number"}, "$.nodes[0].config.on_abandon.sms", ""),
    ],
)
def test_bad_on_abandon_config_is_refused_at_its_path(on_abandon, path, words):
    problems = validate(flow_definition("support", [route(on_abandon), BYE]))
    found = [p for p in problems if p.path == path and p.severity == "error"]
    assert found, [(p.path, p.message) for p in problems]
    assert words in found[0].message
