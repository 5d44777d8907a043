"""The simulator's keypad, speech box and outbound calls, in a real browser against the real
runtime: keys collect into one answer as Twilio's <Gather> collects them."""

from __future__ import annotations

import pytest

from flows.services import flow_create
from ivr_runtime.models import CallSession, Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def say(node_id, text, next_id=None):
    kind = "say" if next_id else "hangup"
    config = {"text": text}
    return {
        "id": node_id,
        "type": kind,
        "config": config,
        "exits": {"next": next_id} if next_id else {},
    }


def asks(node_id, prompt, then, **config):
    return {
        "id": node_id,
        "type": "input",
        "config": {"prompt": prompt, "retries": 0, **config},
        "exits": {"valid": then, "invalid": "wrong", "no_input": "nothing"},
    }


def keys_flow():
    return {
        "format": "callflow/1",
        "slug": "sim-keys",
        "name": "Simulator keys",
        "start": "menu",
        "nodes": [
            {
                "id": "menu",
                "type": "menu",
                "config": {
                    "prompt": "Press 1 for your account, 2 for your PIN, 3 to tell us why.",
                    "retries": 0,
                    "options": [{"key": "1"}, {"key": "2"}, {"key": "3"}],
                },
                "exits": {
                    "1": "account",
                    "2": "pin",
                    "3": "reason",
                    "no_input": "nothing",
                    "no_match": "wrong",
                },
            },
            asks(
                "account",
                "Key in your account number, then press hash.",
                "account_said",
                min_digits=6,
                max_digits=10,
                save_as="account",
            ),
            say("account_said", "Account {{ vars.account }}.", "bye"),
            asks("pin", "Key in your 4-digit PIN.", "pin_said", min_digits=4, max_digits=4),
            say("pin_said", "PIN of {{ nodes.pin.value | length }} digits.", "bye"),
            asks("reason", "Tell us why you are calling.", "reason_said", input="speech"),
            say("reason_said", "You said {{ nodes.reason.value }}.", "bye"),
            say("wrong", "That is not valid."),
            say("nothing", "We heard nothing."),
            say("bye", "Goodbye."),
        ],
    }


def open_simulator(sessions, slug):
    s = sessions()
    s.login("pia", f"/designer/flows/{slug}/")
    s.page.wait_for_selector('[data-node-id="menu"], [data-node-id="who"]')
    s.page.click("[data-tab=simulator]")
    return s, s.page, s.page.locator("[aria-label=Transcript]")


def keypad(page, keys):
    for key in keys:
        page.click(f"[data-key='{key}']")


def test_an_account_number_is_keyed_in_whole_and_sent_by_hash_or_send(sessions, publisher_user):
    flow_create(definition=keys_flow(), user=publisher_user)
    s, page, transcript = open_simulator(sessions, "sim-keys")
    page.click("[data-sim-start]")
    transcript.locator("text=Press 1 for your account").wait_for()
    assert page.locator("[data-sim-speech]").count() == 0  # the menu takes keys only
    keypad(page, "1")  # a one-key menu: sent at once, as Twilio does with numDigits=1
    transcript.locator("text=Key in your account number, then press hash.").wait_for()
    assert transcript.locator("li", has_text="Pressed 1").count() == 1
    assert "sent by # or by Send" in page.locator("[data-sim-hint]").inner_text()
    assert page.locator("[data-sim-speech]").count() == 0

    lines = transcript.locator("li").count()
    keypad(page, "1234567")
    entry = page.locator("[data-sim-entry]")
    assert entry.input_value() == "1234567"
    page.click("[data-sim-backspace]")
    assert entry.input_value() == "123456"
    s.shot("entry")
    assert transcript.locator("li").count() == lines  # nothing sent while keys are collected
    keypad(page, "#")
    transcript.locator("text=Account 123456.").wait_for()
    assert transcript.locator("li", has_text="Pressed 123456").count() == 1

    page.click("[data-sim-start]")
    transcript.locator("text=Press 1 for your account").wait_for()
    keypad(page, "1")
    transcript.locator("text=Key in your account number").wait_for()
    page.fill("[data-sim-entry]", "98765x43")  # typed on the keyboard; the x is dropped
    assert page.locator("[data-sim-entry]").input_value() == "9876543"
    page.click("[data-sim-clear]")
    assert page.locator("[data-sim-entry]").input_value() == ""
    page.locator("[data-sim-entry]").press_sequentially("98765432")
    page.click("[data-sim-send]")
    transcript.locator("text=Account 98765432.").wait_for()
    transcript.locator("text=The call ended.").wait_for()
    s.shot("sent")
    assert s.console.unexpected() == []


def test_a_fixed_length_pin_is_sent_when_complete(sessions, publisher_user):
    flow_create(definition=keys_flow(), user=publisher_user)
    s, page, transcript = open_simulator(sessions, "sim-keys")
    page.click("[data-sim-start]")
    transcript.locator("text=Press 1 for your account").wait_for()
    keypad(page, "2")
    transcript.locator("text=Key in your 4-digit PIN.").wait_for()
    assert "as soon as 4 keys are in" in page.locator("[data-sim-hint]").inner_text()
    keypad(page, "482")
    assert page.locator("[data-sim-entry]").input_value() == "482"
    keypad(page, "9")
    transcript.locator("text=PIN of 4 digits.").wait_for()
    assert transcript.locator("li", has_text="Pressed 4829").count() == 1
    assert s.console.unexpected() == []


def test_the_speech_box_is_offered_only_where_speech_is_heard(sessions, publisher_user):
    flow_create(definition=keys_flow(), user=publisher_user)
    s, page, transcript = open_simulator(sessions, "sim-keys")
    page.click("[data-sim-start]")
    transcript.locator("text=Press 1 for your account").wait_for()
    assert page.locator("[data-sim-speech]").count() == 0
    assert page.locator("[data-key='1']").is_visible()
    keypad(page, "3")
    transcript.locator("text=Tell us why you are calling.").wait_for()
    assert page.locator("[data-sim-speech]").is_visible()
    assert page.locator("[data-key]").count() == 0 and page.locator("[data-sim-entry]").count() == 0
    assert "no keys here" in page.locator("[data-sim-hint]").inner_text()
    s.shot("speech")
    page.fill("[aria-label=Speech]", "a lost card")
    page.click("[data-sim-speech] button[type=submit]")
    transcript.locator("text=You said a lost card.").wait_for()

    page.click("[data-sim-start]")  # silence is still an answer
    transcript.locator("text=Press 1 for your account").wait_for()
    page.click("[data-sim-silence]")
    transcript.locator("text=We heard nothing.").wait_for()
    assert s.console.unexpected() == []


def test_an_account_number_and_pin_authenticate_the_caller(sessions, publisher_user):
    ada = Customer(name="Ada Lovelace", account_number="12345678")
    ada.set_pin("4321")
    ada.save()
    definition = {
        "format": "callflow/1",
        "slug": "sim-auth",
        "name": "Simulator authenticate",
        "start": "menu",
        "nodes": [
            {
                "id": "menu",
                "type": "authenticate",
                "config": {
                    "method": "account_pin",
                    "prompt": "Your account number, then hash.",
                    "pin_prompt": "Your four digit PIN.",
                    "pin_digits": 4,
                },
                "exits": {"success": "hello", "failure": "bye"},
            },
            say("hello", "Hello {{ customer.name }}."),
            say("bye", "Sorry."),
        ],
    }
    flow_create(definition=definition, user=publisher_user)
    s, page, transcript = open_simulator(sessions, "sim-auth")
    page.click("[data-sim-start]")
    transcript.locator("text=Your account number, then hash.").wait_for()
    keypad(page, "12345678#")
    transcript.locator("text=Your four digit PIN.").wait_for()
    assert "as soon as 4 keys are in" in page.locator("[data-sim-hint]").inner_text()
    keypad(page, "4321")  # no # needed: the PIN's length is known
    transcript.locator("text=Hello Ada Lovelace.").wait_for()
    assert transcript.locator("li", has_text="Pressed 12345678").count() == 1
    assert s.console.unexpected() == []


def outbound_flow():
    return {
        "format": "callflow/1",
        "slug": "sim-out",
        "name": "Simulator outbound",
        "start": "who",
        "nodes": [
            {
                "id": "who",
                "type": "branch",
                "config": {
                    "rules": [
                        {
                            "exit": "machine",
                            "var": "call.answered_by",
                            "op": "starts_with",
                            "value": "machine",
                        }
                    ]
                },
                "exits": {"machine": "voicemail_message", "else": "person"},
            },
            say("voicemail_message", "Message for {{ caller.number }}: {{ vars.reason }}."),
            say("person", "Hello {{ caller.number }}, this is a {{ call.direction }} call."),
        ],
    }


def test_a_simulated_outbound_call_answered_by_a_machine(sessions, publisher_user):
    flow_create(definition=outbound_flow(), user=publisher_user)
    s, page, transcript = open_simulator(sessions, "sim-out")
    page.select_option("[data-sim-direction]", "outbound")
    page.fill("[data-sim-number]", "07700 900456")
    page.fill("[data-sim-vars]", "reason=your parcel\nnot a var")
    page.click("[data-sim-start]")
    problems = page.locator("[data-sim-problem]")
    problems.first.wait_for()
    assert "not in international (E.164) form" in problems.nth(0).inner_text()
    assert "Line 2" in problems.nth(1).inner_text()
    s.shot("refused")
    assert not CallSession.objects.exists()

    page.fill("[data-sim-number]", "+447700900456")
    page.fill("[data-sim-vars]", "reason=your parcel")
    page.select_option("[data-sim-answered-by]", "machine_start")
    page.click("[data-sim-start]")
    transcript.locator("text=Message for +447700900456: your parcel.").wait_for()
    assert (
        "Outbound call to +447700900456, answered by an answering machine"
        in transcript.inner_text()
    )
    assert "cf-sim-visited" in page.locator('[data-node-id="voicemail_message"]').get_attribute(
        "class"
    )
    assert "cf-sim-visited" not in page.locator('[data-node-id="person"]').get_attribute("class")
    s.shot("machine")
    call = CallSession.objects.get()
    assert (call.simulated, call.direction, call.answered_by) == (True, "outbound", "machine_start")

    page.select_option("[data-sim-answered-by]", "human")
    page.click("[data-sim-start]")
    transcript.locator("text=Hello +447700900456, this is a outbound call.").wait_for()

    page.select_option("[data-sim-direction]", "inbound")  # the caller's number is checked too
    page.fill("[data-sim-number]", "12345")
    page.click("[data-sim-start]")
    assert "12345 is not in international (E.164) form" in problems.first.inner_text()
    assert CallSession.objects.count() == 2
    assert s.console.unexpected() == []


def test_a_handed_over_call_is_answered_by_how_it_comes_back(sessions, publisher_user):
    definition = {
        "format": "callflow/1",
        "slug": "sim-handover",
        "name": "Simulator hand-over",
        "start": "pay",
        "nodes": [
            {
                "id": "pay",
                "type": "redirect",
                "config": {"url": "https://pay.example.com/twiml"},
                "exits": {"return": "back", "failed": "sorry"},
            },
            say("back", "Welcome back."),
            say("sorry", "The payment line is unavailable."),
        ],
    }
    flow_create(definition=definition, user=publisher_user)
    s = sessions()
    s.login("pia", "/designer/flows/sim-handover/")
    page = s.page
    page.wait_for_selector('[data-node-id="pay"]')
    page.click("[data-tab=simulator]")
    page.click("[data-sim-start]")
    page.wait_for_selector("[data-sim-answer=return]")
    assert page.locator("[data-sim-answer]").all_inner_texts() == [
        "Sent back",
        "Kept too long",
        "Not reached",
    ]
    hint = page.locator("[data-sim-hint]").inner_text()
    assert hint == "Handed to https://pay.example.com/twiml. How does the call come back?"
    assert page.locator("[data-key]").count() == 0
    s.shot("handover")
    page.click("[data-sim-answer=unreachable]")
    page.locator("[aria-label=Transcript]").locator(
        "text=The payment line is unavailable."
    ).wait_for()
    assert s.console.unexpected() == []
