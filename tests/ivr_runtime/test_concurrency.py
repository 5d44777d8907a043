"""Concurrent duplicates of the same webhook (Twilio retrying while the first is in flight)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from ivr_runtime.models import CallSession, CallStep

from .conftest import publish, two_menus
from .twilio_driver import Signer, new_sid

NUMBER = "+442079460106"


def in_threads(count, target):
    answers, errors = [None] * count, []
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            answers[i] = target()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return answers


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_advance_a_call_once():
    publish(two_menus("concurrent"), NUMBER)
    sid = new_sid()
    form = {"CallSid": sid, "From": "+447700900123", "To": NUMBER, "CallStatus": "ringing"}

    def start():
        response = Signer(Client()).post("/ivr/voice", form)
        return response.status_code, response.content

    starts = in_threads(6, start)
    assert {status for status, _ in starts} == {200}
    assert len({body for _, body in starts}) == 1
    assert CallSession.objects.filter(call_sid=sid).count() == 1

    pressed = {**form, "CallStatus": "in-progress", "Digits": "1"}

    def press():
        response = Signer(Client()).post("/ivr/continue?seq=1", pressed)
        return response.status_code, response.content

    answers = in_threads(6, press)
    assert {status for status, _ in answers} == {200}
    assert len({body for _, body in answers}) == 1
    assert b"Press 2." in answers[0][1]
    assert list(CallStep.objects.filter(session__call_sid=sid).values_list("node_id", "exit")) == [
        ("menu", "1"),
        ("again", ""),
    ]
    assert CallSession.objects.get(call_sid=sid).seq == 2
