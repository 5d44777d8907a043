"""Signatures, retries, stale requests, versions, bad input and failures: never a 5xx."""

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.db import OperationalError, connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from flows.models import FlowVersion
from ivr_runtime.models import CallSession, CallStep, OutboundMessage

from .conftest import flow_definition, publish
from .twilio_driver import TOKEN, Call, Signer, new_sid

pytestmark = pytest.mark.django_db

NUMBER = "+442079460103"
CALLER = "+447700900123"


def menu_flow(prompt="Press 1 or 2.", **extra):
    return flow_definition(
        "robust",
        [
            {
                "id": "menu",
                "type": "menu",
                "config": {"prompt": prompt, "retries": 1, "options": [{"key": "1"}, {"key": "2"}]},
                "exits": {"1": "one", "2": "two", "no_input": "bye", "no_match": "bye"},
            },
            {"id": "one", "type": "hangup", "config": {"text": "One."}, "exits": {}},
            {"id": "two", "type": "hangup", "config": {"text": "Two."}, "exits": {}},
            {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
        ],
        **extra,
    )


def start_params(sid=None, **extra):
    params = {
        "CallSid": sid or new_sid(),
        "From": CALLER,
        "To": NUMBER,
        "CallStatus": "ringing",
        "AccountSid": "AC" + "0" * 32,
    }
    params.update(extra)
    return params


def is_twiml(response):
    assert response.status_code == 200, (response.status_code, response.content[:200])
    assert ET.fromstring(response.content).tag == "Response"
    return response.content.decode()


# --- signatures ------------------------------------------------------------------------------------
def test_missing_or_wrong_signature_is_refused(client, signer):
    publish(menu_flow(), NUMBER)
    assert client.post("/ivr/voice", start_params()).status_code == 403
    assert (
        signer.post("/ivr/voice", start_params(), signature="bm90IHRoZSBzaWduYXR1cmU=").status_code
        == 403
    )
    wrong_key = Signer(client, token="another-token")
    assert wrong_key.post("/ivr/voice", start_params()).status_code == 403
    assert (
        signer.post(
            "/ivr/status", {"CallSid": "CA1", "CallStatus": "completed"}, signature=""
        ).status_code
        == 403
    )
    tampered = start_params()
    signature = signer.signature("http://testserver/ivr/voice", tampered)
    tampered["Digits"] = "1"
    assert signer.post("/ivr/voice", tampered, signature=signature).status_code == 403
    assert not CallSession.objects.exists()


def test_signature_is_checked_against_the_public_url_behind_a_proxy(client, settings):
    settings.PUBLIC_BASE_URL = "https://ivr.example.com"
    publish(menu_flow(), NUMBER)
    behind_proxy = Signer(client, base="https://ivr.example.com")
    response = behind_proxy.post("https://ivr.example.com/ivr/voice", start_params())
    assert response.status_code == 200
    # signed for the internal URL the proxy forwarded to: refused
    assert Signer(client).post("/ivr/voice", start_params()).status_code == 403


def test_signature_check_is_off_only_with_debug(client, settings):
    publish(menu_flow(), NUMBER)
    settings.TWILIO_VALIDATE_SIGNATURES = False
    settings.DEBUG = False
    assert client.post("/ivr/voice", start_params()).status_code == 403
    settings.DEBUG = True
    assert client.post("/ivr/voice", start_params()).status_code == 200


def test_webhooks_need_post(signer):
    assert signer.client.get("/ivr/voice").status_code == 405
    assert signer.client.get("/ivr/ping").status_code == 200


# --- idempotency, stale and out-of-order requests -------------------------------------------------
def test_the_same_request_twice_gets_the_same_answer_and_one_step(signer):
    publish(menu_flow(), NUMBER)
    params = start_params()
    first = is_twiml(signer.post("/ivr/voice", params))
    assert is_twiml(signer.post("/ivr/voice", params)) == first
    answer = {**params, "CallStatus": "in-progress", "Digits": "1"}
    pressed = is_twiml(signer.post("/ivr/continue?seq=1", answer))
    assert "One." in pressed
    assert is_twiml(signer.post("/ivr/continue?seq=1", answer)) == pressed
    steps = list(CallStep.objects.values_list("node_id", "exit"))
    assert steps == [("menu", "1"), ("one", "")]


def test_stale_and_out_of_order_requests_re_render_without_advancing(signer):
    publish(menu_flow(), NUMBER)
    params = start_params()
    signer.post("/ivr/voice", params)
    base = {**params, "CallStatus": "in-progress"}
    retry_prompt = is_twiml(signer.post("/ivr/continue?seq=1", {**base, "Digits": "9"}))
    assert "seq=2" in retry_prompt
    # a late answer to the first prompt: re-render the current wait, do not advance
    late = is_twiml(signer.post("/ivr/continue?seq=1", {**base, "Digits": "2"}))
    assert "seq=2" in late and "Two." not in late
    future = is_twiml(signer.post("/ivr/continue?seq=7", {**base, "Digits": "2"}))
    assert "seq=2" in future
    replay = is_twiml(signer.post("/ivr/continue?seq=2&replay=1", {**base, "Digits": "2"}))
    assert "seq=2" in replay
    assert CallSession.objects.get().seq == 2
    assert "Two." in is_twiml(signer.post("/ivr/continue?seq=2", {**base, "Digits": "2"}))
    # after the end, anything gets the last answer again
    assert "Two." in is_twiml(signer.post("/ivr/continue?seq=2", {**base, "Digits": "1"}))
    assert CallStep.objects.filter(node_id="one").count() == 0


def test_unknown_call_and_status_for_a_call_never_seen(signer):
    response = signer.post("/ivr/continue?seq=1", {"CallSid": new_sid(), "Digits": "1"})
    assert "Sorry" in is_twiml(response)
    assert (
        signer.post("/ivr/status", {"CallSid": new_sid(), "CallStatus": "completed"}).status_code
        == 204
    )
    assert signer.post("/ivr/status", {"CallSid": new_sid()}).status_code == 400


# --- versions --------------------------------------------------------------------------------------
def test_a_call_finishes_on_the_version_it_started_on(signer, place_call):
    publish(menu_flow(prompt="Version one."), NUMBER)
    call = place_call(NUMBER)
    v2 = menu_flow(prompt="Version two.")
    v2["nodes"][1]["config"]["text"] = "One, from version two."
    publish(v2, NUMBER)
    call.press("1")
    assert call.heard == ["Version one.", "One."]
    session = CallSession.objects.get(call_sid=call.sid)
    assert session.flow_version.number == 1
    assert place_call(NUMBER).press("1").heard == ["Version two.", "One, from version two."]
    assert FlowVersion.objects.count() == 2


# --- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("digits", ["abc", "1" * 50, "#", "", "12#", "\x00\x01", "１"])
def test_garbage_digits(place_call, digits):
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER).press(digits)
    assert call.waits_for == "Gather" or call.ended


@pytest.mark.parametrize(
    "speech", ["", " ", "<Say>hi</Say>", "{{ 7*7 }}", "]]>&lt;", "x" * 5000, "\u202e\u0000"]
)
def test_empty_or_hostile_speech(place_call, speech):
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER).speak(speech)
    assert call.waits_for == "Gather" or call.ended
    assert "49" not in call.last_response


def test_forms_with_missing_fields(signer):
    publish(menu_flow(), NUMBER)
    assert signer.post("/ivr/voice", {}).status_code == 400
    assert signer.post("/ivr/voice", {"CallSid": "x" * 100}).status_code == 400
    assert "not in service" in is_twiml(signer.post("/ivr/voice", {"CallSid": new_sid()}))
    sid = new_sid()
    is_twiml(signer.post("/ivr/voice", {"CallSid": sid, "To": NUMBER}))
    is_twiml(signer.post("/ivr/continue", {"CallSid": sid}))
    is_twiml(signer.post("/ivr/continue?seq=abc", {"CallSid": sid}))
    is_twiml(signer.post("/ivr/queue-wait?max_wait=x&music=javascript:alert(1)", {"CallSid": sid}))
    is_twiml(signer.post("/ivr/queue-wait?max_wait=inf", {"CallSid": sid, "QueueTime": "nan"}))
    assert "<Leave" in is_twiml(
        signer.post("/ivr/queue-wait?max_wait=10", {"CallSid": sid, "QueueTime": "1e9"})
    )


@given(
    form=st.dictionaries(
        st.sampled_from(
            [
                "CallSid",
                "From",
                "To",
                "Digits",
                "SpeechResult",
                "Confidence",
                "CallStatus",
                "DialCallStatus",
                "QueueResult",
                "RecordingUrl",
                "RecordingDuration",
                "Junk",
            ]
        ),
        st.text(max_size=80),
        max_size=8,
    ),
    path=st.sampled_from(
        [
            "/ivr/voice",
            "/ivr/continue?seq=1",
            "/ivr/continue?seq=0",
            "/ivr/status",
            "/ivr/flows/robust/voice",
            "/ivr/continue?seq=1&replay=1",
        ]
    ),
)
@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_signed_form_gets_twiml_or_a_4xx(client, form, path):
    if not FlowVersion.objects.exists():
        publish(menu_flow(), NUMBER)
    form = {k: v.replace("\x00", "") for k, v in form.items()}
    response = Signer(client, token=TOKEN).post(path, form)
    assert response.status_code < 500
    if response.status_code == 200:
        is_twiml(response)


# --- failures become the fallback ------------------------------------------------------------------
def test_template_error_runs_the_fallback_node_and_sms(place_call):
    definition = menu_flow(
        prompt="Hello {{ vars.x | no_such_filter }}",
        fallback={"node": "sorry", "sms": "Sorry {{ caller.number }}, text us instead."},
    )
    definition["nodes"].append(
        {"id": "sorry", "type": "hangup", "config": {"text": "Fallback node."}, "exits": {}}
    )
    publish(definition, NUMBER)
    call = place_call(NUMBER)
    assert call.heard == ["Sorry, something went wrong on our side.", "Fallback node."]
    assert OutboundMessage.objects.get().body == f"Sorry {CALLER}, text us instead."
    session = CallSession.objects.get()
    assert "no_such_filter" in " ".join(session.errors)


def test_unconnected_exit_without_fallback_node_says_goodbye(place_call):
    definition = menu_flow()
    definition["nodes"][0]["exits"]["2"] = None
    publish(definition, NUMBER)
    call = place_call(NUMBER).press("2")
    assert call.ended and call.heard[-2:] == [
        "Sorry, something went wrong on our side.",
        "Please try again later. Goodbye.",
    ]


def test_sandbox_does_not_leak_internals(place_call):
    publish(
        menu_flow(prompt="A{{ ''.__class__.__mro__ }}B{{ caller.__class__ }}C{{ 'x' * 100000 }}"),
        NUMBER,
    )
    call = place_call(NUMBER)
    assert "class" not in call.last_response
    assert call.heard[0].startswith("Sorry")


def test_a_database_outage_still_answers_twiml(signer, place_call):
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER)

    def outage(execute, sql, params, many, context):
        raise OperationalError("database is down")

    with connection.execute_wrapper(outage):
        response = signer.post("/ivr/continue?seq=1", call.params(Digits="1"))
        assert "Sorry" in is_twiml(response)
        assert "Sorry" in is_twiml(signer.post("/ivr/voice", start_params()))


def test_a_failure_in_a_turn_runs_the_fallback_from_a_clean_transaction(signer, place_call):
    definition = menu_flow(fallback={"node": "bye"})
    publish(definition, NUMBER)
    call = place_call(NUMBER)
    calls = {"n": 0}

    def fail_once_on_step_insert(execute, sql, params, many, context):
        if 'INSERT INTO "ivr_runtime_callstep"' in sql and calls["n"] == 0:
            calls["n"] += 1
            raise OperationalError("disk I/O error")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_once_on_step_insert):
        call.press("1")
    assert call.heard[-2:] == ["Sorry, something went wrong on our side.", "Bye."]


def test_hangup_while_waiting_marks_the_step_hung_up(place_call):
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER)
    call.hang_up()
    step = CallStep.objects.get()
    assert step.hung_up and step.node_id == "menu"
    session = CallSession.objects.get()
    assert session.status == CallSession.Status.COMPLETED and session.ended_at
    # a late action after the end: the last answer, no new step
    Call(call.signer, to=NUMBER, sid=call.sid)._post("/ivr/continue?seq=1", call.params(Digits="1"))
    assert CallStep.objects.count() == 1


def test_webhooks_are_csrf_exempt_and_need_no_login(settings):
    from django.test import Client

    publish(menu_flow(), NUMBER)
    strict = Signer(Client(enforce_csrf_checks=True))
    params = start_params()
    assert "Press 1 or 2." in is_twiml(strict.post("/ivr/voice", params))
    assert strict.post("/ivr/status", {**params, "CallStatus": "completed"}).status_code == 204


# --- the form as Twilio posts it -----------------------------------------------------------------
class _Repeated(dict):
    """Params with a field given twice, for RequestValidator (it asks `getall` first)."""

    def getall(self, name):
        return self[name]


def test_a_field_given_twice_is_signed_over_both_values_and_read_as_the_last(client, signer):
    publish(menu_flow(), NUMBER)
    sid = new_sid()
    first = ET.fromstring(is_twiml(signer.post("/ivr/voice", start_params(sid))))
    form = {k: [v] for k, v in start_params(sid, CallStatus="in-progress").items()}
    form["Digits"] = ["1", "2"]
    url = "http://testserver" + first.find("Gather").get("action")
    body = urlencode(form, doseq=True)
    signature = RequestValidator(TOKEN).compute_signature(url, _Repeated(form))
    response = client.post(
        url,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert "Two." in is_twiml(response)  # the last value, as QueryDict.get gives it


def test_a_multipart_form_is_read_too(client, signer):
    publish(menu_flow(), NUMBER)
    params = start_params()
    signature = signer.signature("http://testserver/ivr/voice", params)
    response = client.post("/ivr/voice", params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert "Press 1 or 2." in is_twiml(response)


def test_more_fields_than_allowed_is_refused(signer, settings):
    publish(menu_flow(), NUMBER)
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = signer.post("/ivr/voice", start_params(Extra1="a", Extra2="b"))
    assert 400 <= response.status_code < 500
    assert not CallSession.objects.exists()
