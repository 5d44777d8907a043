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
from pathlib import Path

import pytest
from django.db import OperationalError, connection

from callflow.sqlite3.base import DatabaseWrapper
from tests.waiting import wait_for

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


def gate_waiters(path) -> int:
    """How many flocks wait for the gate (in any process): lines `N: -> FLOCK ... dev:inode`
    of /proc/locks, the kernel's list of locks held and waited for."""
    stat = os.stat(f"{path}-gate")
    file = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    with open("/proc/locks") as locks:
        return sum(
            1 for line in locks if line.split()[1:3] == ["->", "FLOCK"] and file in line.split()
        )


def at_the_gate(thread: threading.Thread) -> bool:
    """Whether the thread is looking at the gate again and again (`_gate_poll`, what a
    writer behind a connection of its own process does): queued there, not yet in SQLite."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code.co_name == "_gate_poll":
            return True
        frame = frame.f_back
    return False


def writer_thread(path, value: str, events: list[str], **options) -> threading.Thread:
    """A thread with its own connection that writes `value` in a transaction, noting in
    `events` when its transaction began (after any wait at the gate)."""

    def run():
        db = sqlite(path, **options)
        begin(db)
        events.append(f"{value} began")
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


@pytest.mark.parametrize(
    ("switch", "engine"),
    [(None, "callflow.sqlite3"), ("1", "callflow.sqlite3"), ("0", "django.db.backends.sqlite3")],
)
def test_the_write_gate_can_be_switched_off_for_djangos_own_backend(switch, engine, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_WRITE_GATE")}
    env |= {"DJANGO_SETTINGS_MODULE": "tests.settings", "CALLFLOW_VAR_DIR": str(tmp_path)}
    if switch is not None:
        env["SQLITE_WRITE_GATE"] = switch
    script = (
        "from django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "print(db['ENGINE'], db['OPTIONS']['transaction_mode'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Either way write transactions begin IMMEDIATE: only where writers wait differs.
    assert done.stdout.split() == [engine, "IMMEDIATE"]


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
    events: list[str] = []
    thread = writer_thread(database, "second", events)
    # Queued at the gate, not sleeping in SQLite's busy handler (which would wake up to
    # 100 ms after the first commits), and still there while the first holds it.
    wait_for(lambda: at_the_gate(thread), interval=0.01, what="the second writer at the gate")
    assert events == [] and at_the_gate(thread)
    events.append("first commits")
    commit(first)
    thread.join(5)
    assert not thread.is_alive()
    assert events == ["first commits", "second began"]
    assert rows(database) == ["first", "second"]


def test_a_process_killed_holding_the_gate_lets_go_of_it(database):
    db = sqlite(database)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            f"fd = os.open({db.gate_path()!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.read()\n",  # holds it until killed (or this test's end closes stdin)
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    events: list[str] = []
    try:
        assert holder.stdout.readline().strip() == "held"
        assert gate_taken(db)
        thread = writer_thread(database, "after", events)
        wait_for(lambda: gate_waiters(database) == 1, what="the writer queued behind the holder")
        assert events == []
        events.append("holder killed")
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(5)
        thread.join(5)
        assert not thread.is_alive()
    finally:
        holder.kill()
        holder.wait(5)
    assert events == ["holder killed", "after began"]
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
    # The timeout at the gate, then the timeout in SQLite: a bound below, which no load on
    # the machine can break (the deadline of the join bounds it above).
    error, waited = outcome
    assert "locked" in error and waited >= 0.6, outcome
    commit(holder)
    assert rows(database) == ["held"]


def test_behind_another_process_a_writer_sleeps_until_the_gate_is_given_back(database):
    fd = os.open(f"{database}-gate", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # held as another process would hold it
    events: list[str] = []
    # A timeout of 0: any wait is longer, and it waits at the gate all the same, blocked in
    # the kernel (which wakes it when the gate is given back), not polling.
    thread = writer_thread(database, "after", events, timeout=0)
    wait_for(lambda: gate_waiters(database) == 1, what="the writer blocked at the gate")
    assert events == []
    events.append("given back")
    os.close(fd)
    thread.join(5)
    assert not thread.is_alive()
    assert events == ["given back", "after began"]
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
