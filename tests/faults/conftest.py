"""Fixtures of the fault tests: the PostgreSQL test database behind a TCP proxy the test
controls, and a real gunicorn server whose DATABASE_URL goes through it.

The server runs with short bounds (`BOUNDS`), so a fault costs a few seconds, not the
production figures (docs/operations.md, "Faults and deadlines", has those).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.ivr_runtime.conftest import _twilio_settings, place_call, signer  # noqa: F401
from tests.ivr_runtime.twilio_driver import TOKEN, Call, Signer
from tests.worker import database_restored_after, database_url  # noqa: F401 (fixtures)

from .proxy import TcpProxy
from .server import WebServer, base_env

#: the server's bounds: its watchdog fires at 2 + 1 s, the fallback may run 1 s more.
#: CALLFLOW_FAULT_BOUNDS=production runs the server with the defaults instead (to measure
#: the figures of docs/operations.md; each test then takes about 15 s).
BOUNDS = {
    "WEBHOOK_DEADLINE_SECONDS": "2",
    "DB_CONNECT_TIMEOUT_SECONDS": "1",
    "DB_STATEMENT_TIMEOUT_SECONDS": "1",
}
PRODUCTION = os.environ.get("CALLFLOW_FAULT_BOUNDS") == "production"
if PRODUCTION:
    BOUNDS = {}
#: the latest an answer may come (the watchdog's two firings, a margin)
ANSWER_WITHIN = (12 if PRODUCTION else 2 + 1 + 1) + 0.5


def figure(what: str, seconds: float) -> None:
    """A measured answer time, shown with `pytest -s` (the figures of docs/operations.md)."""
    print(f"\n  {what}: answered in {seconds:.2f} s")


@pytest.fixture(scope="module")
def db_proxy(django_db_setup, django_db_blocker) -> Iterator[TcpProxy]:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("database faults need PostgreSQL (DATABASE_URL=postgresql://...)")
    with django_db_blocker.unblock():
        url = urlsplit(database_url())
    proxy = TcpProxy((url.hostname or "127.0.0.1", url.port or 5432)).start()
    proxy.url = urlunsplit(url._replace(netloc=_netloc(url, proxy.port)))
    yield proxy
    proxy.stop()


def _netloc(url, port: int) -> str:
    credentials = url.netloc.rpartition("@")[0]
    return f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"


@pytest.fixture(scope="module")
def web_server(db_proxy, tmp_path_factory) -> Iterator[WebServer]:
    var_dir = tmp_path_factory.mktemp("web")
    env = {**base_env(var_dir), **BOUNDS, "DATABASE_URL": db_proxy.url}
    env["TWILIO_AUTH_TOKEN"] = TOKEN
    server = WebServer(env, var_dir / "gunicorn.log").start()
    yield server
    server.stop()


@pytest.fixture
def faulty(db_proxy, web_server) -> Iterator[TcpProxy]:
    """The proxy, passing again at the end of the test (its stalled connections cut)."""
    yield db_proxy
    db_proxy.cut()
    db_proxy.forward()


@pytest.fixture
def live_call(web_server):
    """Starts a call on the real server, signed as Twilio signs it."""

    def place(to: str) -> Call:
        over_http = Signer(web_server.client(), token=TOKEN, base=web_server.base)
        return Call(over_http, to=to).start()

    return place
