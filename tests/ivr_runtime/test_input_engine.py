"""The `input` node in the pure engine: a table of events against exits, values and exact
TwiML (no database: pytest-django would refuse any query here)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.nodes.input import read_keys
from flows.nodes.patterns import UnsafePattern, compile_pattern
from flows.nodes.runtime import Event, Gather, Say
from ivr_runtime import engine
from ivr_runtime.twilio import twiml

from .test_engine import CALL, NOW, definition, drive, hangup

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def flow(**config):
    node = {
        "id": "ask",
        "type": "input",
        "config": {"prompt": "Your order number?", **config},
        "exits": {"valid": "ok", "invalid": "bad", "no_input": "quiet"},
    }
    ok = hangup("ok", "Got {{ nodes.ask.value }} / {{ vars.order }}.")
    return definition([node, ok, hangup("bad"), hangup("quiet")], language="en-GB")


def keys(d: str) -> Event:
    return Event(kind="input", digits=d)


def words(s: str) -> Event:
    return Event(kind="input", speech=s, confidence=0.9)


SILENCE = Event(kind="input")

CASES = [
    # name, config, events, exit, last words
    ("keys within bounds", {"max_digits": 8, "save_as": "order"}, [keys("1234")], "valid",
     "Got 1234 / 1234."),
    ("finish key posted is dropped", {"save_as": "order"}, [keys("42#")], "valid", "Got 42 / 42."),
    ("too few then right", {"min_digits": 4, "max_digits": 6, "save_as": "order"},
     [keys("12"), keys("123456")], "valid", "Got 123456 / 123456."),
    ("too many, every retry", {"max_digits": 4, "retries": 1}, [keys("12345"), keys("99999")],
     "invalid", "bad"),
    ("star is no digit without a pattern", {"retries": 0}, [keys("12*4")], "invalid", "bad"),
    ("a pattern may allow a star", {"pattern": "[0-9]+\\*[0-9]", "save_as": "order"},
     [keys("12*4")], "valid", "Got 12*4 / 12*4."),
    ("pattern refuses", {"pattern": "^9[0-9]{3}$", "retries": 0}, [keys("1234")], "invalid", "bad"),
    ("pattern matches the whole value", {"pattern": "12", "retries": 0}, [keys("123")],
     "invalid", "bad"),
    ("letters are no keys", {"retries": 0}, [keys("12ab")], "invalid", "bad"),
    ("silence after the retries", {"retries": 2}, [SILENCE, SILENCE, SILENCE], "no_input",
     "quiet"),
    ("silence then keys", {"retries": 1, "save_as": "order"}, [SILENCE, keys("7")], "valid",
     "Got 7 / 7."),
    ("keys ignored by a speech node", {"input": "speech", "retries": 0}, [keys("12")],
     "no_input", "quiet"),
    ("speech", {"input": "speech", "save_as": "order"}, [words("  a broken   boiler ")],
     "valid", "Got a broken boiler / a broken boiler."),
    ("spoken digits are digits", {"input": "both", "save_as": "order"}, [words("1 2 3 4.")],
     "valid", "Got 1234 / 1234."),
    ("spoken digits keep the bounds", {"input": "both", "min_digits": 6, "retries": 0},
     [words("1234")], "invalid", "bad"),
    ("speech against a pattern", {"input": "speech", "pattern": "[A-Z]{2}[0-9]{4}",
     "retries": 0}, [words("AB12")], "invalid", "bad"),
    ("words where keys were asked", {"retries": 0}, [words("one two")], "invalid", "bad"),
    ("far too long speech", {"input": "speech", "retries": 0}, [words("la " * 80)], "invalid",
     "bad"),
    ("confirm with 1", {"confirm": True, "save_as": "order"}, [keys("1234"), keys("1")],
     "valid", "Got 1234 / 1234."),
    ("confirm refused, entered again", {"confirm": True, "save_as": "order"},
     [keys("1234"), keys("2"), keys("5678"), keys("1")], "valid", "Got 5678 / 5678."),
    ("confirm refused after the retries", {"confirm": True, "retries": 1},
     [keys("1234"), keys("9"), keys("1234"), keys("3")], "invalid", "bad"),
    ("confirm silence after the retries", {"confirm": True, "retries": 0}, [keys("12"), SILENCE],
     "no_input", "quiet"),
    ("confirm by speech", {"input": "speech", "confirm": True, "save_as": "order"},
     [words("late delivery"), words("Yes, please.")], "valid",
     "Got late delivery / late delivery."),
    ("confirm refused by speech", {"input": "both", "confirm": True, "retries": 0},
     [words("12"), words("no")], "invalid", "bad"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "config", "events", "exit", "last"), CASES, ids=[c[0] for c in CASES]
)
def test_input_table(name, config, events, exit, last):
    result = drive(flow(**config), events)
    target = {"valid": "ok", "invalid": "bad", "no_input": "quiet"}[exit]
    assert result.path[-2:] == [("ask", exit), (target, None)]
    assert result.said[-1] == last
    assert result.state.ended
    if exit != "valid":
        assert result.state.nodes["ask"]["value"] == ""
        assert "order" not in result.state.vars


def test_the_step_keeps_what_was_entered():
    valid = drive(flow(), [keys("1234")]).outcomes[-1].steps
    assert [(s.node, s.exit, s.input) for s in valid][:1] == [("ask", "valid", "1234")]
    invalid = drive(flow(retries=0), [keys("12ab")]).outcomes[-1].steps
    assert (invalid[0].exit, invalid[0].input) == ("invalid", "12ab")


def gathers(result):
    return [c for c in result.commands if isinstance(c, Gather)]


# --- golden commands and TwiML ---------------------------------------------------------------
GOLDEN = [
    # config, events before the last Gather, that Gather, its TwiML
    (
        {"min_digits": 4, "max_digits": 4},
        [],
        Gather(seq=1, input="dtmf", prompts=(Say("Your order number?", "en-GB"),), num_digits=4,
               timeout=5, finish_on_key="#", language="en-GB"),
        '<Gather action="/ivr/continue?seq=1" actionOnEmptyResult="true" finishOnKey="#" '
        'input="dtmf" method="POST" numDigits="4" timeout="5"><Say language="en-GB">Your order '
        "number?</Say></Gather>",
    ),
    (
        {"min_digits": 6, "max_digits": 10, "finish_on_key": "*", "timeout": 9},
        [],
        Gather(seq=1, input="dtmf", prompts=(Say("Your order number?", "en-GB"),), timeout=9,
               finish_on_key="*", language="en-GB"),
        '<Gather action="/ivr/continue?seq=1" actionOnEmptyResult="true" finishOnKey="*" '
        'input="dtmf" method="POST" timeout="9"><Say language="en-GB">Your order number?</Say>'
        "</Gather>",
    ),
    (
        {"finish_on_key": ""},
        [],
        Gather(seq=1, input="dtmf", prompts=(Say("Your order number?", "en-GB"),),
               finish_on_key="", language="en-GB"),
        '<Gather action="/ivr/continue?seq=1" actionOnEmptyResult="true" finishOnKey="" '
        'input="dtmf" method="POST" timeout="5"><Say language="en-GB">Your order number?</Say>'
        "</Gather>",
    ),
    (
        {"input": "speech", "hints": ["boiler", "radiator"], "language": "cy-GB",
         "voice": "Polly.Gwyneth"},
        [],
        Gather(seq=1, input="speech",
               prompts=(Say("Your order number?", "cy-GB", "Polly.Gwyneth"),),
               hints="boiler, radiator", language="cy-GB"),
        '<Gather action="/ivr/continue?seq=1" actionOnEmptyResult="true" hints="boiler, radiator" '
        'input="speech" language="cy-GB" method="POST" speechTimeout="auto" timeout="5">'
        '<Say language="cy-GB" voice="Polly.Gwyneth">Your order number?</Say></Gather>',
    ),
    (
        {"input": "both", "invalid_prompt": "That is no order number."},
        [keys("")],
        Gather(seq=2, input="both",
               prompts=(Say("That is no order number.", "en-GB"), Say("Your order number?", "en-GB")),
               finish_on_key="#", language="en-GB"),
        '<Gather action="/ivr/continue?seq=2" actionOnEmptyResult="true" finishOnKey="#" '
        'input="dtmf speech" language="en-GB" method="POST" speechTimeout="auto" timeout="5">'
        '<Say language="en-GB">That is no order number.</Say><Say language="en-GB">Your order '
        "number?</Say></Gather>",
    ),
    (
        {"max_digits": 3},
        [keys("1234")],
        Gather(seq=2, input="dtmf",
               prompts=(Say(
                   "Sorry, that is not valid.", "en-GB"), Say("Your order number?", "en-GB")),
               finish_on_key="#", language="en-GB"),
        '<Gather action="/ivr/continue?seq=2" actionOnEmptyResult="true" finishOnKey="#" '
        'input="dtmf" method="POST" timeout="5"><Say language="en-GB">Sorry, that is not valid.'
        '</Say><Say language="en-GB">Your order number?</Say></Gather>',
    ),
    (
        {"confirm": True},
        [keys("1234#")],
        Gather(seq=2, input="dtmf",
               prompts=(Say("You entered 1 2 3 4.", "en-GB"),
                        Say("Press 1 if that is right, or any other key to enter it again.",
                            "en-GB")),
               num_digits=1, language="en-GB"),
        '<Gather action="/ivr/continue?seq=2" actionOnEmptyResult="true" input="dtmf" '
        'method="POST" numDigits="1" timeout="5"><Say language="en-GB">You entered 1 2 3 4.</Say>'
        '<Say language="en-GB">Press 1 if that is right, or any other key to enter it again.'
        "</Say></Gather>",
    ),
    (
        {"confirm": True, "input": "speech"},
        [words("a lost parcel")],
        Gather(seq=2, input="both",
               prompts=(Say("You said a lost parcel.", "en-GB"),
                        Say("Press 1 if that is right, or any other key to enter it again.",
                            "en-GB")),
               num_digits=1, hints="yes, no", language="en-GB"),
        '<Gather action="/ivr/continue?seq=2" actionOnEmptyResult="true" hints="yes, no" '
        'input="dtmf speech" language="en-GB" method="POST" numDigits="1" speechTimeout="auto" '
        'timeout="5"><Say language="en-GB">You said a lost parcel.</Say><Say language="en-GB">'
        "Press 1 if that is right, or any other key to enter it again.</Say></Gather>",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("config", "events", "gather", "xml"), GOLDEN)
def test_golden_gather_and_twiml(config, events, gather, xml):
    result = drive(flow(**config), events)
    assert result.state.waiting == "input"
    assert gathers(result)[-1] == gather
    assert twiml.to_xml([gather], declaration=False) == f"<Response>{xml}</Response>"


def test_a_confirmation_entered_again_asks_afresh():
    result = drive(flow(confirm=True), [keys("1234"), keys("2")])
    again = gathers(result)[-1]
    assert [p.text for p in again.prompts] == ["Your order number?"]
    assert again.finish_on_key == "#" and again.num_digits is None


def test_the_flow_language_is_the_default_and_the_node_overrides_it():
    english = gathers(drive(flow(input="speech"), []))[-1]
    welsh = gathers(drive(flow(input="speech", language="cy-GB"), []))[-1]
    assert (english.language, welsh.language) == ("en-GB", "cy-GB")


def test_over_sms_the_read_back_asks_for_a_reply():
    node = flow(confirm=True)
    state = engine.State.new(node.key)
    sms = replace(CALL, channel="sms")
    for event in [Event(kind="start"), keys("1234")]:
        outcome = engine.advance(definitions={node.key: node}, state=state, event=event, now=NOW,
                                 call=sms)  # fmt: skip
        state = outcome.state
    [ask] = [c for c in outcome.commands if isinstance(c, Gather)]
    assert [p.text for p in ask.prompts] == [
        "You entered 1234.",
        "Reply YES or 1 if that is right, or anything else to enter it again.",
    ]


@pytest.mark.parametrize(
    ("value", "spoken"), [("1234", "1 2 3 4"), ("12*#", "1 2 star hash"), ("", "")]
)
def test_keys_are_read_back_one_by_one(value, spoken):
    assert read_keys(value) == spoken


@pytest.mark.parametrize(
    "pattern",
    [
        "^[0-9]{6,10}$",
        "[A-Z]{2}[0-9]{6}",
        "(\\d{3}-){2}\\d{4}",
        "(mon|tue|wed)",
        "^(\\d{4} ?){4}$",  # a card number, spaced or not: a repeat inside a repeat
        "(?i)(yes|no)",
        "(?P<area>\\d{3})\\d+",
    ],
)
def test_plain_patterns_compile(pattern):
    assert compile_pattern(pattern).fullmatch
    assert compile_pattern(pattern) is compile_pattern(pattern)  # compiled once


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(", "not a valid regular expression: missing ): ("),
        ("[0-9", "not a valid regular expression: missing ]: [0-9"),
        ("(?=7)\\d+", "lookaheads ((?=...), (?!...)) are not supported"),
        ("(?<!0)\\d", "lookbehinds ((?<=...), (?<!...)) are not supported"),
        ("(\\d)\\1", "backreferences (\\1) are not supported"),
        ("a{2000}", "a repeat count is at most 1000"),
        ("a" * 201, "the pattern is longer than 200 characters"),
    ],
)
def test_patterns_the_node_cannot_use_are_refused_saying_why(pattern, why):
    with pytest.raises(UnsafePattern) as refused:
        compile_pattern(pattern)
    assert str(refused.value) == why


@pytest.mark.parametrize(
    "pattern", ["(a+)+b", "(\\d*)*x", "(a|ab)*c", "\\d*\\d*\\d*\\d*\\d*x", "(a?){30}a{30}"]
)
def test_patterns_that_backtrack_without_end_in_re_are_matched_in_linear_time(pattern):
    """What would hold a webhook for minutes under Python's re answers at once."""
    value = "a" * 100 + "1" * 99 + "!"  # MAX_VALUE characters, matching none of them
    assert compile_pattern(pattern).fullmatch(value) is None


def test_a_refused_pattern_at_run_time_is_the_fallback():
    # validation refuses it on save; a definition that slipped through fails safely
    result = drive(flow(pattern="(?=1)\\d+"), [keys("1234")])
    assert result.said[-2:] == [engine.SORRY, engine.GOODBYE]
