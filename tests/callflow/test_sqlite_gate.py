"""The SQLite backend's write gate: writers queue at a flock beside the database file and
go on as soon as the one ahead commits, rolls back or closes (callflow/sqlite3/base.py).

Each test uses its own database files, whichever database the suite runs on.
"""

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from itertools import count

import pytest
from django.db import OperationalError, connection

from callflow.sqlite3.base import DatabaseWrapper

_aliases = count()


def sqlite(path, *, timeout=20.0, mode="IMMEDIATE") -> DatabaseWrapper:
    db = DatabaseWrapper(
        {
            "ENGINE": "callflow.sqlite3",
            "NAME": str(path),
            "OPTIONS": {"timeout": timeout, "transaction_mode": mode},
            "ATOMIC_REQUESTS": False,
            "AUTOCOMMIT": True,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "TIME_ZONE": None,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias=f"gate-{next(_aliases)}",
    )
    db.ensure_connection()
    return db


def begin(db: DatabaseWrapper) -> None:
    """What `transaction.atomic` does on SQLite: BEGIN (IMMEDIATE) in autocommit mode."""
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def commit(db: DatabaseWrapper) -> None:
    db.commit()
    db.set_autocommit(True)


def write(db: DatabaseWrapper, value: str) -> None:
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO t (v) VALUES (%s)", [value])


def gate_taken(db: DatabaseWrapper) -> bool:
    """Whether someone holds the gate, asked from a file description of our own."""
    fd = os.open(db.gate_path(), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def writer_thread(path, value: str, began: list[float], **options) -> threading.Thread:
    """A thread with its own connection that writes `value` in a transaction, noting when
    its transaction began (after any wait at the gate)."""

    def run():
        db = sqlite(path, **options)
        begin(db)
        began.append(time.monotonic())
        write(db, value)
        commit(db)
        db.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture(autouse=True)
def own_databases(django_db_blocker):
    """These connections are to the tests' own files, not to the suite's database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "gate.sqlite3"
    db = sqlite(path)
    with db.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE t (v TEXT)")
    db.close()
    return path


def rows(path) -> list[str]:
    db = sqlite(path)
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT v FROM t ORDER BY rowid")
            return [v for (v,) in cursor.fetchall()]
    finally:
        db.close()


def test_the_default_sqlite_database_uses_the_gated_backend():
    if connection.vendor != "sqlite":
        pytest.skip("the suite runs on PostgreSQL")
    assert connection.settings_dict["ENGINE"] == "callflow.sqlite3"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_a_write_transaction_holds_the_gate_until_it_commits(database):
    db = sqlite(database)
    begin(db)
    write(db, "a")
    assert gate_taken(db)
    commit(db)
    assert not gate_taken(db)
    assert rows(database) == ["a"]


def test_rollback_and_close_let_go_of_the_gate(database):
    db = sqlite(database)
    begin(db)
    write(db, "a")
    db.rollback()
    db.set_autocommit(True)
    assert not gate_taken(db)
    begin(db)
    assert gate_taken(db)
    db.close()
    assert not gate_taken(sqlite(database))
    assert rows(database) == []


def test_a_second_writer_waits_at_the_gate_and_goes_on_when_the_first_commits(database):
    first = sqlite(database)
    begin(first)
    write(first, "first")
    began_at: list[float] = []
    thread = writer_thread(database, "second", began_at)
    time.sleep(0.25)
    assert began_at == []  # still queued: the first has not committed
    committed_at = time.monotonic()
    commit(first)
    thread.join(5)
    assert began_at and began_at[0] >= committed_at
    # It was waiting at the gate, not in SQLite's busy handler: that one, 0.25 s in, sleeps
    # 100 ms between tries (from 0.228 s to 0.328 s) and would start about 78 ms late.
    assert began_at[0] - committed_at < 0.05, began_at[0] - committed_at
    assert rows(database) == ["first", "second"]


def test_a_process_killed_holding_the_gate_lets_go_of_it(database):
    db = sqlite(database)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({db.gate_path()!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert gate_taken(db)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(5)
        started = time.monotonic()
        begin(db)
        write(db, "after")
        commit(db)
        assert time.monotonic() - started < 1.0
    finally:
        holder.kill()
        holder.wait(5)
    assert rows(database) == ["after"]


def test_behind_its_own_process_a_writer_waits_no_longer_than_the_timeout(database):
    """Another thread of this process holds the gate (and SQLite's lock) and does not let
    go: the writer neither blocks on its own process nor waits forever, it gets SQLite's
    "database is locked" after the database's timeout, at the gate then in SQLite."""
    holder = sqlite(database)
    begin(holder)
    write(holder, "held")
    outcome: list[object] = []

    def other_writer():
        db = sqlite(database, timeout=0.3)
        started = time.monotonic()
        try:
            begin(db)
        except OperationalError as exc:
            outcome.append(str(exc))
        outcome.append(time.monotonic() - started)
        db.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    error, waited = outcome
    assert "locked" in error and 0.6 <= waited < 3.0, outcome
    commit(holder)
    assert rows(database) == ["held"]


def test_behind_another_process_a_writer_sleeps_until_the_gate_is_given_back(database):
    fd = os.open(f"{database}-gate", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # held as another process would hold it
    began: list[float] = []
    thread = writer_thread(database, "after", began, timeout=0.3)
    time.sleep(0.6)  # longer than the timeout: it waits at the gate all the same
    assert began == []
    released = time.monotonic()
    os.close(fd)
    thread.join(5)
    assert began and began[0] - released < 0.05
    assert rows(database) == ["after"]


def test_deferred_transactions_and_memory_databases_do_not_queue(database):
    deferred = sqlite(database, mode=None)
    begin(deferred)  # may only read: it takes nothing
    assert not os.path.exists(deferred.gate_path())
    commit(deferred)
    memory = sqlite(":memory:")
    assert memory.gate_path() is None
    begin(memory)
    commit(memory)


def test_a_file_system_without_locks_leaves_the_writers_to_sqlite(database, monkeypatch):
    """flock failing (ENOLCK on some network file systems): the transaction goes on, as it
    did before the gate, with SQLite's own lock."""
    import errno

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    db = sqlite(database)
    begin(db)
    write(db, "unlocked")
    commit(db)
    db.close()
    monkeypatch.undo()
    assert rows(database) == ["unlocked"]
