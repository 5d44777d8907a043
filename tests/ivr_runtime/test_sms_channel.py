"""The SMS channel: a flow as a text conversation on POST /ivr/sms (signed)."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from ivr_runtime.models import Agent, CallSession, CallStep, Customer, OutboundMessage, Skill
from ivr_runtime.sms import sms_channel

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db

NUMBER = "+442079460102"
SENDER = "+447700900123"
_sids = count(1)


def text(signer, body, *, sender=SENDER, to=NUMBER, sid=None):
    """Post an incoming SMS the way Twilio does; the texts of the reply."""
    params = {
        "MessageSid": sid or f"SM{next(_sids):032x}",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    response = signer.post("/ivr/sms", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


MENU = {
    "id": "menu",
    "type": "menu",
    "config": {
        "prompt": "What can we do for you?",
        "input": "dtmf",
        "retries": 1,
        "options": [
            {"key": "1", "label": "Bookings", "speech": ["book", "table"]},
            {"key": "2", "label": "Opening hours"},
        ],
    },
    "exits": {"1": "book", "2": "hours", "no_input": "bye", "no_match": "bye"},
}


def restaurant():
    publish(
        flow_definition(
            "diner",
            [
                {
                    "id": "hello",
                    "type": "say",
                    "config": {"text": "Welcome to the Diner."},
                    "exits": {"next": "menu"},
                },
                MENU,
                {
                    "id": "book",
                    "type": "sms",
                    "config": {"body": "Book here: https://example.com/book"},
                    "exits": {"next": "bye"},
                },
                {
                    "id": "hours",
                    "type": "say",
                    "config": {"text": "We open at noon."},
                    "exits": {"next": "staff"},
                },
                {
                    "id": "staff",
                    "type": "route",
                    "config": {"target": {"skills": ["diner"]}, "announce": "Connecting you."},
                    "exits": {"connected": "bye", "unavailable": "vm", "timeout": "bye"},
                },
                {
                    "id": "vm",
                    "type": "voicemail",
                    "config": {"prompt": "Leave a message after the tone."},
                    "exits": {"recorded": "bye", "empty": "bye2"},
                },
                {
                    "id": "bye",
                    "type": "hangup",
                    "config": {"text": "Thanks, goodbye."},
                    "exits": {},
                },
                {
                    "id": "bye2",
                    "type": "hangup",
                    "config": {"text": "Nobody can take a message by text. Goodbye."},
                    "exits": {},
                },
            ],
        ),
        NUMBER,
    )


def steps(session):
    return list(
        CallStep.objects.filter(session=session).order_by("index").values_list("node_id", "exit")
    )


def test_say_and_menu_become_a_text_that_waits_for_the_reply(signer):
    restaurant()
    [reply] = text(signer, "hi")
    assert (
        reply
        == "Welcome to the Diner.\nWhat can we do for you?\nReply 1 for Bookings, 2 for Opening hours."
    )
    session = CallSession.objects.get()
    assert (session.channel, session.from_number, session.to_number) == ("sms", SENDER, NUMBER)
    assert session.status == CallSession.Status.ACTIVE and session.current_node == "menu"


def test_reply_by_digit_runs_the_option_and_sms_nodes_answer_inline(signer):
    restaurant()
    text(signer, "hello")
    [reply] = text(signer, " 1 ")
    assert reply == "Book here: https://example.com/book\nThanks, goodbye."
    session = CallSession.objects.get()
    assert session.status == CallSession.Status.COMPLETED and session.ended_at is not None
    assert steps(session) == [("hello", "next"), ("menu", "1"), ("book", "next"), ("bye", "")]
    assert not OutboundMessage.objects.exists()  # answered in the reply, not through the outbox


@pytest.mark.parametrize("words", ["I'd like to book a table", "BOOKINGS please", "table"])
def test_reply_by_words_matches_the_options(signer, words):
    restaurant()
    text(signer, "hi")
    [reply] = text(signer, words)
    assert reply.startswith("Book here:")


def test_no_match_asks_again_then_takes_the_exit(signer):
    restaurant()
    text(signer, "hi")
    [again] = text(signer, "pizza?")
    assert again.startswith("Sorry, I didn't get that.\nWhat can we do for you?")
    [last] = text(signer, "9")
    assert last == "Thanks, goodbye."
    assert steps(CallSession.objects.get())[1] == ("menu", "no_match")


def test_route_is_unavailable_and_voicemail_empty_by_text(signer):
    restaurant()
    agent = Agent.objects.create(name="Ann", number="+442079460500")
    agent.skills.add(Skill.objects.create(name="diner"))
    text(signer, "hi")
    [reply] = text(signer, "2")
    assert reply == "We open at noon.\nNobody can take a message by text. Goodbye."
    assert "Connecting you" not in reply and "Leave a message" not in reply
    assert steps(CallSession.objects.get())[2:] == [
        ("hours", "next"),
        ("staff", "unavailable"),
        ("vm", "empty"),
        ("bye2", ""),
    ]
    agent.refresh_from_db()
    assert agent.status == Agent.Status.AVAILABLE  # nobody was reserved for a text


def test_one_session_per_sender_and_number(signer):
    restaurant()
    publish(
        flow_definition(
            "other",
            [
                {
                    "id": "hi",
                    "type": "say",
                    "config": {"text": "Other line."},
                    "exits": {"next": "menu"},
                },
                MENU,
                {"id": "book", "type": "hangup", "config": {"text": "Booked."}, "exits": {}},
                {"id": "hours", "type": "hangup", "config": {"text": "Noon."}, "exits": {}},
                {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
            ],
        ),
        "+442079460103",
    )
    text(signer, "hi")
    text(signer, "hi", sender="+447700900999")
    text(signer, "hi", to="+442079460103")
    assert CallSession.objects.filter(channel="sms", status="active").count() == 3
    assert text(signer, "1", to="+442079460103") == ["Booked."]
    assert text(signer, "2", sender="+447700900999") == [
        "We open at noon.\nNobody can take a message by text. Goodbye."
    ]


def test_twilio_retrying_a_message_gets_the_same_answer_and_nothing_advances(signer):
    restaurant()
    text(signer, "hi")
    first = text(signer, "1", sid="SM" + "e" * 32)
    again = text(signer, "1", sid="SM" + "e" * 32)
    assert first == again
    assert CallStep.objects.filter(node_id="book").count() == 1


def test_an_idle_conversation_expires_and_the_next_text_starts_again(signer, settings):
    settings.SMS_SESSION_IDLE_MINUTES = 30
    restaurant()
    text(signer, "hi")
    CallSession.objects.update(updated_at=timezone.now() - timedelta(minutes=31))
    [reply] = text(signer, "1")
    assert reply.startswith("Welcome to the Diner.")  # "1" did not choose bookings in a stale menu
    old, new = CallSession.objects.order_by("started_at")
    assert old.status == CallSession.Status.COMPLETED and steps(old)[-1] == ("menu", "")
    assert CallStep.objects.get(session=old, node_id="menu").hung_up
    assert new.status == CallSession.Status.ACTIVE


def test_the_sweep_ends_idle_conversations(signer, settings):
    restaurant()
    text(signer, "hi")
    text(signer, "hi", sender="+447700900999")
    CallSession.objects.filter(from_number=SENDER).update(
        updated_at=timezone.now() - timedelta(minutes=45)
    )
    assert sms_channel.sessions_expire() == 1
    assert CallSession.objects.get(from_number=SENDER).status == CallSession.Status.COMPLETED
    assert CallSession.objects.get(from_number="+447700900999").status == CallSession.Status.ACTIVE


def test_an_sms_to_another_number_goes_through_the_outbox(signer):
    publish(
        flow_definition(
            "notify",
            [
                {
                    "id": "tell",
                    "type": "sms",
                    "config": {"body": "New text from {{ caller.number }}", "to": "+447700900555"},
                    "exits": {"next": "bye"},
                },
                {
                    "id": "bye",
                    "type": "hangup",
                    "config": {"text": "We will be in touch."},
                    "exits": {},
                },
            ],
        ),
        NUMBER,
    )
    assert text(signer, "hello") == ["We will be in touch."]
    message = OutboundMessage.objects.get()
    assert (message.to, message.body, message.status) == (
        "+447700900555",
        f"New text from {SENDER}",
        "queued",
    )


def test_long_replies_are_split_into_messages_of_at_most_1600_characters(signer):
    long_text = " ".join(["word"] * 700)  # 3,499 characters
    publish(
        flow_definition(
            "long",
            [
                {
                    "id": "say",
                    "type": "say",
                    "config": {"text": long_text},
                    "exits": {"next": "bye"},
                },
                {"id": "bye", "type": "hangup", "config": {}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    replies = text(signer, "hi")
    assert len(replies) == 3 and all(len(r) <= 1600 for r in replies)
    assert " ".join(replies) == long_text


def test_unbound_number_gets_a_polite_reply_and_a_log_line(signer, caplog):
    assert text(signer, "hello?", to="+442079469999") == [
        "Sorry, this number does not take text messages."
    ]
    assert "+442079469999" in caplog.text and "no published flow" in caplog.text
    assert not CallSession.objects.exists()


def test_unsigned_or_malformed_texts_are_refused_never_a_5xx(signer):
    params = {"MessageSid": "SM" + "1" * 32, "From": SENDER, "To": NUMBER, "Body": "hi"}
    assert signer.post("/ivr/sms", params, signature="bad").status_code == 403
    assert signer.post("/ivr/sms", {**params, "MessageSid": "nope!"}).status_code == 400
    assert signer.post("/ivr/sms", {**params, "From": ""}).status_code == 400


def test_a_failing_flow_still_answers_with_messaging_twiml(signer):
    publish(
        flow_definition(
            "broken",
            [
                {
                    "id": "say",
                    "type": "say",
                    "config": {"text": "{{ vars.x | nosuchfilter }}"},
                    "exits": {"next": "bye"},
                },
                {"id": "bye", "type": "hangup", "config": {}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    [reply] = text(signer, "hi")
    assert reply.startswith("Sorry, something went wrong on our side.")


def test_lookups_are_made_outside_the_transaction_and_answered_by_text(signer, record_server):
    publish(
        flow_definition(
            "balance",
            [
                {
                    "id": "bal",
                    "type": "self_service",
                    "config": {
                        "mode": "lookup_say",
                        "url": f"{record_server.url}/balance",
                        "say": "Your balance is {{ nodes.bal.response.balance }} pounds.",
                    },
                    "exits": {"done": "bye", "failed": "bye"},
                },
                {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    assert text(signer, "balance?") == ["Your balance is 42.50 pounds.\nGoodbye."]
    assert [path for _, path, _ in record_server.requests] == ["/balance"]
    session = CallSession.objects.get()
    assert session.pending_since is None and session.status == CallSession.Status.COMPLETED


def test_a_turn_that_never_came_back_from_a_pin_check_counts_as_failed(signer):
    customer = Customer(name="Ada", phone=SENDER, account_number="12345678")
    customer.set_pin("1234")
    customer.save()
    publish(
        flow_definition(
            "secure",
            [
                {
                    "id": "auth",
                    "type": "authenticate",
                    "config": {"method": "pin", "max_attempts": 3},
                    "exits": {"success": "ok", "failure": "bye"},
                },
                {"id": "ok", "type": "hangup", "config": {"text": "Welcome back."}, "exits": {}},
                {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    text(signer, "hi")
    # The process checking a PIN sent earlier died: the conversation is stuck "pending".
    session = CallSession.objects.get()
    CallSession.objects.filter(pk=session.pk).update(
        state={**session.state, "pending": True},
        pending_since=timezone.now() - timedelta(minutes=1),
    )
    [reply] = text(signer, "1234")
    assert "Welcome back" not in reply  # this text answered nothing: the lost check failed
    assert CallSession.objects.get().pending_since is None
    assert text(signer, "1234") == ["Welcome back."]
