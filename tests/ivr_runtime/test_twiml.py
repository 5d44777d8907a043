"""The TwiML renderer: a table of commands against the exact XML."""

import pytest

from flows.nodes.runtime import Dial, Enqueue, Gather, Hangup, Pause, Play, Record, Redirect, Say
from ivr_runtime.twilio import twiml

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'

TABLE = [
    ([], "<Response />"),
    ([Say("Hello")], "<Response><Say>Hello</Say></Response>"),
    (
        [Say("Hi & <bye>", language="en-GB", voice="Polly.Amy", loop=2)],
        '<Response><Say language="en-GB" loop="2" voice="Polly.Amy">Hi &amp; &lt;bye&gt;</Say></Response>',
    ),
    (
        [Play("https://a.example/x.mp3", loop=3), Pause(2)],
        '<Response><Play loop="3">https://a.example/x.mp3</Play><Pause length="2" /></Response>',
    ),
    (
        [Gather(seq=4, input="dtmf", prompts=(Say("Press 1"),), num_digits=1, timeout=5)],
        '<Response><Gather action="/ivr/continue?seq=4" actionOnEmptyResult="true" input="dtmf" method="POST" '
        'numDigits="1" timeout="5"><Say>Press 1</Say></Gather></Response>',
    ),
    (
        [
            Gather(
                seq=1,
                input="both",
                prompts=(Say("Say it"), Play("https://a.example/b.mp3")),
                timeout=7,
                hints="sales, support",
                language="en-GB",
            )
        ],
        '<Response><Gather action="/ivr/continue?seq=1" actionOnEmptyResult="true" hints="sales, support" '
        'input="dtmf speech" language="en-GB" method="POST" speechTimeout="auto" timeout="7"><Say>Say it</Say>'
        "<Play>https://a.example/b.mp3</Play></Gather></Response>",
    ),
    (
        [Gather(seq=2, input="speech", timeout=5, finish_on_key="#")],
        '<Response><Gather action="/ivr/continue?seq=2" actionOnEmptyResult="true" finishOnKey="#" input="speech" '
        'method="POST" speechTimeout="auto" timeout="5" /></Response>',
    ),
    (
        [Dial(seq=3, number="+442071838750", timeout=20, caller_id="+442079460001")],
        '<Response><Dial action="/ivr/continue?seq=3" callerId="+442079460001" method="POST" timeout="20">'
        "<Number>+442071838750</Number></Dial></Response>",
    ),
    (
        [Dial(seq=3, sip="sip:desk@example.com")],
        '<Response><Dial action="/ivr/continue?seq=3" method="POST" timeout="30"><Sip>sip:desk@example.com</Sip></Dial></Response>',
    ),
    (
        [Dial(seq=3, client="reception", timeout=25)],
        '<Response><Dial action="/ivr/continue?seq=3" method="POST" timeout="25"><Client>reception</Client></Dial></Response>',
    ),
    (
        [Enqueue(seq=5, queue="support", max_wait=120)],
        '<Response><Enqueue action="/ivr/continue?seq=5" method="POST" waitUrl="/ivr/queue-wait?max_wait=120" '
        'waitUrlMethod="POST">support</Enqueue></Response>',
    ),
    (
        [Enqueue(seq=5, queue="vip", max_wait=60, hold_music="https://m.example/a b.mp3")],
        '<Response><Enqueue action="/ivr/continue?seq=5" method="POST" '
        'waitUrl="/ivr/queue-wait?max_wait=60&amp;music=https%3A%2F%2Fm.example%2Fa+b.mp3" waitUrlMethod="POST">vip</Enqueue></Response>',
    ),
    (
        [Record(seq=6, max_length=60, finish_on_key="*", transcribe=True), Redirect(seq=6)],
        '<Response><Record action="/ivr/continue?seq=6" finishOnKey="*" maxLength="60" method="POST" playBeep="true" '
        'transcribe="true" transcribeCallback="/ivr/recordings/transcription" />'
        '<Redirect method="POST">/ivr/continue?seq=6</Redirect></Response>',
    ),
    (
        [Redirect(seq=9, replay=True)],
        '<Response><Redirect method="POST">/ivr/continue?seq=9&amp;replay=1</Redirect></Response>',
    ),
    ([Say("Bye"), Hangup()], "<Response><Say>Bye</Say><Hangup /></Response>"),
]


@pytest.mark.parametrize(("commands", "xml"), TABLE)
def test_render(commands, xml):
    assert twiml.to_xml(commands) == HEAD + xml
    assert twiml.to_xml(commands, declaration=False) == xml


@pytest.mark.parametrize(
    ("queue_time", "max_wait", "music", "xml"),
    [
        (0, 60, None, f"<Response><Play>{twiml.DEFAULT_HOLD_MUSIC}</Play></Response>"),
        (
            30,
            60,
            "https://m.example/a.mp3",
            "<Response><Play>https://m.example/a.mp3</Play></Response>",
        ),
        (60, 60, None, "<Response><Leave /></Response>"),
    ],
)
def test_queue_wait(queue_time, max_wait, music, xml):
    assert (
        twiml.queue_wait(queue_time=queue_time, max_wait=max_wait, hold_music=music) == HEAD + xml
    )


def test_static_answers():
    assert twiml.static("Sorry.") == HEAD + "<Response><Say>Sorry.</Say><Hangup /></Response>"
    assert twiml.replay_later(3) == HEAD + (
        '<Response><Pause length="1" /><Redirect method="POST">/ivr/continue?seq=3&amp;replay=1</Redirect></Response>'
    )


def test_a_kept_document_is_only_reused_for_the_same_commands():
    twiml.to_xml([Say("Hello"), Gather(seq=1, prompts=(Say("Press 1"),))])  # now kept
    for commands, expected in [
        ([Say("Hello"), Gather(seq=2, prompts=(Say("Press 1"),))], 'seq=2"'),
        ([Say("Hello"), Gather(seq=1, prompts=(Play("Press 1"),))], "<Play>Press 1</Play>"),
        ([Say("Hello", loop=2), Gather(seq=1, prompts=(Say("Press 1"),))], 'loop="2"'),
        ([Say("Hello")], "<Say>Hello</Say></Response>"),
    ]:
        assert expected in twiml.to_xml(commands)
        assert twiml.to_xml(commands) == twiml.render(commands).to_xml()
    assert (
        twiml.to_xml((c for c in [Hangup()]), declaration=False)
        == "<Response><Hangup /></Response>"
    )
