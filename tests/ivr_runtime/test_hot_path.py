"""The per-webhook work does not depend on the size of the flow or on the calls in the database."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import flow_definition, publish
from .twilio_driver import Call

pytestmark = pytest.mark.django_db


def big_flow(slug, filler):
    nodes = [
        {
            "id": "menu",
            "type": "menu",
            "config": {"prompt": "Press 1.", "options": [{"key": "1"}, {"key": "2"}]},
            "exits": {"1": "again", "2": "bye", "no_input": "bye", "no_match": "bye"},
        },
        {
            "id": "again",
            "type": "menu",
            "config": {"prompt": "Press 2.", "options": [{"key": "1"}, {"key": "2"}]},
            "exits": {"1": "menu", "2": "bye", "no_input": "bye", "no_match": "bye"},
        },
        {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
    ]
    nodes += [
        {"id": f"n{i}", "type": "say", "config": {"text": f"Node {i}"}, "exits": {"next": "bye"}}
        for i in range(filler)
    ]
    return flow_definition(slug, nodes)


def queries(signer, number, steps):
    """Queries per webhook for a call: start, a few key presses, the status callback."""
    call = Call(signer, to=number)
    counts = []
    with CaptureQueriesContext(connection) as captured:
        call.start()
    counts.append(len(captured))
    for digits in steps:
        with CaptureQueriesContext(connection) as captured:
            call.press(digits)
        counts.append(len(captured))
    with CaptureQueriesContext(connection) as captured:
        call.hang_up()
    counts.append(len(captured))
    return counts


def test_queries_per_webhook_are_few_and_constant(signer):
    publish(big_flow("small", 0), "+442079460107")
    publish(big_flow("large", 1500), "+442079460108")
    Call(signer, to="+442079460107").start()  # the version's definition is now cached
    small = queries(signer, "+442079460107", ["1", "1", "1"])
    for _ in range(30):  # more calls in the database
        Call(signer, to="+442079460108").start().press("1")
    large = queries(signer, "+442079460108", ["1", "1", "1"])
    assert small == large
    start, *presses, status = large
    # savepoints (the test runs in a transaction) + session, number->flow->version, inserts
    assert start <= 8 and max(presses) <= 6 and status <= 5, large


def test_a_published_version_is_loaded_once_per_process(signer):
    publish(big_flow("cached", 10), "+442079460109")
    Call(signer, to="+442079460109").start()
    with CaptureQueriesContext(connection) as captured:
        Call(signer, to="+442079460109").start()
    assert not any("flows_flowversion" in q["sql"] for q in captured.captured_queries)
