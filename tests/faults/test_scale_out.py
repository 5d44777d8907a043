"""Scale-out: three gunicorn processes serve the same calls, as behind a load balancer.

Each webhook of a call goes to any of the three processes, and a third of them are sent
twice at once to two different processes (Twilio retrying a request whose answer was
slow comes back through the balancer to another one). Every call must take exactly the
path its keys lead it along, once: no call advanced twice, no turn lost, no text sent twice.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest

from ivr_runtime.models import CallSession, CallStep, OutboundMessage
from tests.ivr_runtime.conftest import flow_definition, publish
from tests.ivr_runtime.twilio_driver import TOKEN, Call, Signer
from tests.worker import database_restored_after, database_url  # noqa: F401 (fixtures)

from .server import HttpClient, WebServer, base_env

pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("database_restored_after"),
]

PUBLIC = "https://ivr.example.com"
NUMBER = "+442079460102"
PROCESSES = 3
CALLS = 24
THREADS = 6


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[list[WebServer]]:
    with django_db_blocker.unblock():
        url = database_url()
    started: list[WebServer] = []
    try:
        for n in range(PROCESSES):
            var_dir = tmp_path_factory.mktemp(f"web{n}")
            env = {**base_env(var_dir), "DATABASE_URL": url, "PUBLIC_BASE_URL": PUBLIC}
            env["TWILIO_AUTH_TOKEN"] = TOKEN
            started.append(WebServer(env, var_dir / "gunicorn.log").start())
        yield started
    finally:
        for server in started:
            server.stop()


class Balancer:
    """Sends each request to one of the processes; some, at the same time, to another too."""

    def __init__(self, servers: list[WebServer], seed: int) -> None:
        self.clients = [HttpClient(s.base) for s in servers]
        self.random = random.Random(seed)
        self.duplicates = 0

    def post(self, path: str, data: str, content_type: str, **headers: str):
        first, second = self.random.sample(self.clients, 2)
        if self.random.random() >= 1 / 3:
            return first.post(path, data, content_type, **headers)
        self.duplicates += 1
        answers: list = [None, None]

        def send(i: int, client: HttpClient) -> None:
            answers[i] = client.post(path, data, content_type, **headers)

        threads = [
            threading.Thread(target=send, args=(i, c)) for i, c in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers[1].status_code in (200, 204), answers[1].content[:300]
        return answers[0]


def sales_line() -> None:
    menu = {
        "id": "menu",
        "type": "menu",
        "config": {"prompt": "Press 1 for sales.", "options": [{"key": "1"}, {"key": "2"}]},
        "exits": {"1": "text", "2": "bye", "no_input": "bye", "no_match": "bye"},
    }
    text = {
        "id": "text",
        "type": "sms",
        "config": {"body": "Thanks for calling sales."},
        "exits": {"next": "again"},
    }
    again = {
        "id": "again",
        "type": "menu",
        "config": {"prompt": "Press 2 to finish.", "options": [{"key": "1"}, {"key": "2"}]},
        "exits": {"1": "menu", "2": "bye", "no_input": "bye", "no_match": "bye"},
    }
    bye = {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}}
    publish(flow_definition("sales", [menu, text, again, bye]), NUMBER)


def test_calls_spread_over_three_processes_advance_once_each(servers):
    sales_line()
    placed: list[Call] = []
    lock = threading.Lock()
    duplicates = []

    def caller(n: int) -> None:
        balancer = Balancer(servers, seed=n)
        for _ in range(CALLS // THREADS):
            call = Call(Signer(balancer, token=TOKEN, base=PUBLIC), to=NUMBER)
            call.start().press("1").press("1").press("2")
            call.hang_up()
            with lock:
                placed.append(call)
        duplicates.append(balancer.duplicates)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(placed) == CALLS and sum(duplicates) > CALLS  # many requests came twice
    expected = [("menu", "1"), ("text", "next"), ("again", "1"), ("menu", "2"), ("bye", "")]
    for call in placed:
        assert call.heard[-1] == "Goodbye.", call.documents
        session = CallSession.objects.get(call_sid=call.sid)
        steps = list(
            CallStep.objects.filter(session=session)
            .order_by("index")
            .values_list("node_id", "exit")
        )
        assert steps == expected, (call.sid, steps)
        assert session.status == CallSession.Status.COMPLETED
        assert OutboundMessage.objects.filter(session=session).count() == 1
    assert CallSession.objects.count() == CALLS
