"""The PostgreSQL backend's health check: no round trip for an idle connection, the full
check (and a new connection) for one the server has ended or that was cut."""

from __future__ import annotations

import threading

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

from callflow.postgresql.base import DatabaseWrapper
from tests.faults.proxy import TcpProxy
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def through_proxy():
    """A second connection to the test database, through a TCP proxy the test controls."""
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backend needs PostgreSQL (DATABASE_URL=postgresql://...)")
    settings = connection.settings_dict
    proxy = TcpProxy((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))).start()
    wrapper = DatabaseWrapper({**settings, "HOST": "127.0.0.1", "PORT": proxy.port}, "probe")
    wrapper.ensure_connection()
    yield wrapper, proxy
    wrapper.close()
    proxy.cut()
    proxy.stop()


def test_the_backend_is_the_one_in_use():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    assert isinstance(connections[DEFAULT_DB_ALIAS], DatabaseWrapper)


def test_an_idle_connection_is_usable_without_asking_the_server(through_proxy):
    wrapper, proxy = through_proxy
    proxy.stall()  # nothing passes: a SELECT 1 would wait for its answer for ever
    answers = []
    check = threading.Thread(target=lambda: answers.append(wrapper.is_usable()), daemon=True)
    check.start()
    check.join(timeout=5)
    assert answers == [True], "the check waited for the server"
    proxy.forward()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)


def test_a_connection_the_server_ended_is_not_usable(through_proxy):
    wrapper, _ = through_proxy
    pid = wrapper.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: not wrapper.is_usable(), timeout=5, what="the ended connection noticed")


def test_a_cut_connection_is_not_usable(through_proxy):
    wrapper, proxy = through_proxy
    proxy.cut()
    wait_for(lambda: not wrapper.is_usable(), timeout=5, what="the cut connection noticed")
