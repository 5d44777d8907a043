"""Signed webhook forms of every shape, over every webhook: never a 5xx, never a
traceback, an answer Twilio can read, and nothing written when the request is refused."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ivr_runtime.models import CallbackRequest, CallSession, CallStep, OutboundMessage
from tests.ivr_runtime.twilio_driver import BASE, Signer

from .conftest import WEBHOOK_EXAMPLES

pytestmark = pytest.mark.django_db

PATHS = [
    "/ivr/voice",
    "/ivr/flows/restaurant/voice",
    "/ivr/flows/no-such-flow/voice",
    "/ivr/continue",
    "/ivr/status",
    "/ivr/queue-wait",
    "/ivr/sms",
    "/ivr/messages/status",
    "/ivr/callbacks/1/voice",
    "/ivr/callbacks/1/status",
]
FIELDS = [
    "CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "Digits", "SpeechResult",
    "Confidence", "DialCallStatus", "DialCallDuration", "QueueResult", "QueueTime",
    "RecordingUrl", "RecordingSid", "RecordingDuration", "CallDuration", "AnsweredBy",
    "MessageSid", "MessageStatus", "ErrorCode", "Body", "SmsSid", "NumMedia",
]  # fmt: skip
QUERY = ["seq", "replay", "max_wait", "music", "node"]
NUMBERS = ["+442079460001", "+442079460002", "+442079460003", "+447700900123", "020 7946 0001"]
SIDS = [f"CA{n:032x}" for n in range(1, 6)] + [f"SM{n:032x}" for n in range(1, 4)]

# Text as it arrives in a form: anything but lone surrogates (they cannot be sent as UTF-8),
# with the characters that have hurt before weighted in.
tricky = st.sampled_from(["", "\x00", "²", "٣", "-1", "0", "99999999999999999999", "1e9",
                          "NaN", "+", " ", "#", "*", "%00", "\u202e", "𝟙", "x" * 300])  # fmt: skip
text = st.one_of(
    tricky,
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.sampled_from(NUMBERS + SIDS + ["completed", "in-progress", "busy", "no-answer"]),
)
forms = st.dictionaries(st.one_of(st.sampled_from(FIELDS), text), text, max_size=12)
queries = st.dictionaries(st.sampled_from(QUERY), text, max_size=3)


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (CallSession, CallStep, OutboundMessage, CallbackRequest)
    )


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


@hsettings(
    max_examples=WEBHOOK_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(PATHS),
    form=forms,
    query=queries,
    sid=st.sampled_from(SIDS),
    to=st.sampled_from(NUMBERS),
    signed=st.sampled_from([True] * 9 + [False]),
)
def test_any_signed_form_gets_an_answer_twilio_can_read(
    demo, client, tracebacks, path, form, query, sid, to, signed
):
    # most forms look like a call in progress, so that turns run and not only refusals
    params = {"CallSid": sid, "From": "+447700900123", "To": to, **form}
    url = path + ("?" + urlencode(query) if query else "")
    tracebacks.records.clear()
    before = counts()
    signer = Signer(client)
    response = signer.post(url, params, signature=None if signed else "")
    status = response.status_code
    assert status < 500, (status, url, params, response.content[:300])
    assert status in (200, 204, 400, 403, 404, 405, 413), (status, url, params)
    if status == 200:
        assert response["Content-Type"].startswith("text/xml")
        assert ET.fromstring(response.content).tag == "Response"
    elif status != 204:
        assert counts() == before, (status, url, params)
    assert not tracebacks.records, (url, params, tracebacks.describe())
    assert BASE  # the signer signs the URL the test client requests
