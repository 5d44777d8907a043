"""A real gunicorn server whose database goes away: hung (connections accepted, nothing
answered), refused, then back. Every webhook is answered with valid TwiML within the
webhook's bounds, and the next calls work once the database is back.
"""

import time

import pytest

from ivr_runtime.twilio import twiml
from tests.ivr_runtime.conftest import flow_definition, publish, two_menus

from .conftest import ANSWER_WITHIN, figure

pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("database_restored_after"),
]

NUMBER = "+442079460155"


def answered(call, action):
    """Run `action` (a webhook of `call`) and return how long its answer took."""
    before = len(call.signer.client.timings)
    action()
    return sum(call.signer.client.timings[before:])


def assert_calls_work(live_call):
    call = live_call(NUMBER)
    assert call.waits_for == "Gather" and "Press 1." in call.said
    call.press("2")
    assert call.ended and call.said.endswith("Bye.")


def test_database_hung_mid_call_the_caller_is_answered_then_calls_work_again(faulty, live_call):
    publish(two_menus("hung"), NUMBER)
    call = live_call(NUMBER)
    assert call.waits_for == "Gather"
    faulty.hang()
    seconds = answered(call, lambda: call.press("1"))
    figure("database hung mid-call", seconds)
    assert seconds < ANSWER_WITHIN, f"answered after {seconds:.1f}s"
    assert call.ended and call.heard[-1] == twiml.UNAVAILABLE
    faulty.cut()
    faulty.forward()
    accepted = faulty.accepted
    assert_calls_work(live_call)
    assert faulty.accepted > accepted  # a fresh connection, not the abandoned one


def test_database_hung_when_a_call_starts(faulty, live_call):
    publish(two_menus("hung-start"), NUMBER)
    assert_calls_work(live_call)  # the server holds a connection it believes in
    faulty.hang()
    started = time.perf_counter()
    call = live_call(NUMBER)
    seconds = time.perf_counter() - started
    figure("database hung, a call starting", seconds)
    assert seconds < ANSWER_WITHIN, f"answered after {seconds:.1f}s"
    assert call.ended and call.heard == [twiml.UNAVAILABLE]
    faulty.cut()
    faulty.forward()
    assert_calls_work(live_call)


def test_database_hung_at_connect(faulty, live_call):
    """No connection kept (the server's was cut), and a new one is never answered."""
    publish(two_menus("hung-connect"), NUMBER)
    assert_calls_work(live_call)
    faulty.cut()
    faulty.hang()
    started = time.perf_counter()
    call = live_call(NUMBER)
    seconds = time.perf_counter() - started
    figure("database hung at connect", seconds)
    assert seconds < ANSWER_WITHIN, f"answered after {seconds:.1f}s"
    assert call.ended and call.heard == [twiml.UNAVAILABLE]
    faulty.cut()
    faulty.forward()
    assert_calls_work(live_call)


def test_database_refused_the_caller_is_answered_at_once_then_calls_work_again(faulty, live_call):
    publish(two_menus("refused"), NUMBER)
    call = live_call(NUMBER)
    faulty.refuse()
    faulty.cut()
    seconds = answered(call, lambda: call.press("1"))
    figure("database refused", seconds)
    assert seconds < 1.0, f"answered after {seconds:.1f}s"
    assert call.ended and call.heard[-1] == twiml.UNAVAILABLE
    faulty.forward()
    assert_calls_work(live_call)


def test_failover_the_kept_connection_hangs_the_fallback_runs_on_a_fresh_one(faulty, live_call):
    """The connection the server kept stops answering (half-open after a failover) while a
    new one works: the watchdog abandons the first, and the flow's fallback runs."""
    definition = two_menus("failover")
    definition["nodes"].append(
        {"id": "sorry", "type": "hangup", "config": {"text": "Sorry, a fault."}, "exits": {}}
    )
    publish(flow_definition("failover", definition["nodes"], fallback={"node": "sorry"}), NUMBER)
    call = live_call(NUMBER)
    faulty.stall()
    seconds = answered(call, lambda: call.press("1"))
    figure("kept connection hung, a new one answering (the fallback ran)", seconds)
    assert seconds < ANSWER_WITHIN, f"answered after {seconds:.1f}s"
    assert call.ended and call.heard[-1] == "Sorry, a fault."
    assert_calls_work(live_call)
