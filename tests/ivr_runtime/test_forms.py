"""Webhook forms parsed at the edge: bounded, printable text whatever Twilio (or anyone) sent."""

import pytest

from ivr_runtime.twilio.forms import BadForm, VoiceRequest, int_field

SID = "CA" + "1" * 32


def parse(**form):
    return VoiceRequest.parse({"CallSid": SID, **form}, {"seq": "3"}, "/ivr/continue?seq=3")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("12#", "12#"),
        ("  12  ", "12"),
        ("1\x002\x1b3", "123"),  # control characters dropped, the rest kept in order
        ("\u200b4\u2028", "4"),  # zero-width space and line separator are not printable
        ("é１", "é１"),  # printable non-ASCII stays (the engine decides what a digit is)
        ("9" * 100, "9" * 64),  # cut to the field's limit
        ("", ""),
    ],
)
def test_text_fields_keep_only_printable_characters_within_their_limit(sent, kept):
    assert parse(Digits=sent).digits == kept


def test_numbers_and_the_sequence_are_bounded_and_default_on_garbage():
    request = parse(QueueTime="12.7", DialCallDuration="-5", RecordingDuration="nan")
    assert (request.queue_time, request.dial_duration, request.recording_duration) == (12, 0, 0)
    assert request.seq == 3 and int_field({"n": "1e99"}, "n", 7) == 10**7


def test_a_malformed_call_sid_is_a_bad_form():
    with pytest.raises(BadForm, match="CallSid"):
        VoiceRequest.parse({"CallSid": "CA 1"}, {}, "/ivr/voice")
