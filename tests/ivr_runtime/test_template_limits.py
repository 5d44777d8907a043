"""Templates in whole signed calls: an attack gets the graceful fallback at once, the session is
read and never changed, and values in a URL reach the system of record intact."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from ivr_runtime.models import CallSession

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db

NUMBER = "+442079460104"
CALLER = "+447700900123"
SORRY = "Sorry, something went wrong on our side."

ATTACKS = {
    "tower of powers": "{{ 10 ** 100 ** 100 ** 100 ** 16 }}",
    "nested range loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "namespace doubling": "{% set ns = namespace(s='x') %}{% for i in range(23) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "doubling macro": "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s }}{% endif %}{% endmacro %}{{ d('x', 40) }}",
    "changing the session": "{{ vars.update({'name': 'Mallory'}) }}",
}


def attacked_flow(text: str) -> dict:
    return flow_definition(
        "attacked",
        [
            {
                "id": "remember",
                "type": "set",
                "config": {"vars": {"name": "Ada"}},
                "exits": {"next": "greeting"},
            },
            {"id": "greeting", "type": "say", "config": {"text": text}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
            {
                "id": "sorry",
                "type": "hangup",
                "config": {"text": "Still here, {{ vars.name }}."},
                "exits": {},
            },
        ],
        fallback={"node": "sorry"},
    )


@pytest.mark.parametrize("text", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_say_text_that_attacks_gets_the_fallback_quickly(place_call, text):
    publish(attacked_flow(text), NUMBER)
    started = time.perf_counter()
    call = place_call(NUMBER, caller=CALLER)
    assert time.perf_counter() - started < 1.0
    assert call.ended
    # the fallback node reads the session as it was: the template changed nothing
    assert call.heard == [SORRY, "Still here, Ada."]
    session = CallSession.objects.get(call_sid=call.sid)
    assert session.errors and "template error" in session.errors[0]


def test_a_caller_number_in_an_http_url_reaches_the_server_intact(
    place_call, record_server, settings
):
    settings.HTTP_NODE_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    publish(
        flow_definition(
            "lookup",
            [
                {
                    "id": "lookup",
                    "type": "http",
                    "config": {
                        "url": record_server.url + "/customer?phone={{ caller.number }}&q=a+b"
                    },
                    "exits": {"success": "found", "failure": "missing"},
                },
                {"id": "found", "type": "hangup", "config": {"text": "Found."}, "exits": {}},
                {"id": "missing", "type": "hangup", "config": {"text": "Missing."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    assert place_call(NUMBER, caller=CALLER).heard == ["Found."]
    ((method, path, _body),) = record_server.requests
    query = parse_qs(urlsplit(path).query)
    # the value is encoded (a '+' would read as a space); the template's own '+' is kept
    assert query == {"phone": [CALLER], "q": ["a b"]}


def test_a_self_service_lookup_url_is_encoded_too(place_call, record_server, settings):
    settings.HTTP_NODE_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    publish(
        flow_definition(
            "balance",
            [
                {
                    "id": "remember",
                    "type": "set",
                    "config": {"vars": {"acct": "12/34&x=1"}},
                    "exits": {"next": "balance"},
                },
                {
                    "id": "balance",
                    "type": "self_service",
                    "config": {
                        "mode": "lookup_say",
                        "url": record_server.url
                        + "/balance?acct={{ vars.acct }}&caller={{ caller.number }}",
                        "say": "Your balance is {{ nodes.balance.response.balance }} pounds.",
                    },
                    "exits": {"done": "bye", "failed": "bye"},
                },
                {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    assert place_call(NUMBER, caller=CALLER).heard[0] == "Your balance is 42.50 pounds."
    ((_method, path, _body),) = record_server.requests
    assert parse_qs(urlsplit(path).query) == {"acct": ["12/34&x=1"], "caller": [CALLER]}


def test_the_templates_of_one_turn_share_a_bound_of_time(place_call):
    # Each render is well inside its own bound (tens of ms); ninety of them in a row would
    # hold the caller for seconds. The turn stops them after about a second.
    busy = "{% set l = range(1500)|list %}{% for i in l %}{% if -1 in l %}{% endif %}{% endfor %}"
    chain = [
        {
            "id": f"s{i}",
            "type": "set",
            "config": {"vars": {"v": busy}},
            "exits": {"next": f"s{i + 1}"},
        }
        for i in range(90)
    ]
    chain[-1]["exits"]["next"] = "bye"
    publish(
        flow_definition(
            "busy",
            [
                *chain,
                {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
                {"id": "sorry", "type": "hangup", "config": {"text": "Sorry node."}, "exits": {}},
            ],
            fallback={"node": "sorry"},
        ),
        NUMBER,
    )
    started = time.perf_counter()
    call = place_call(NUMBER, caller=CALLER)
    assert time.perf_counter() - started < 2.0
    assert call.heard == [SORRY, "Sorry node."]
