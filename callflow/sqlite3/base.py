"""Django's SQLite backend, with writers queueing at a gate instead of polling SQLite.

SQLite lets one connection write at a time. Another that wants to write meanwhile gets
SQLITE_BUSY, and the busy handler behind the `timeout` option sleeps and tries again,
1, 2, 5, 10 ms and longer: under concurrent webhooks from several web processes a waiting
writer sleeps far longer than the transaction it waits for (about half a millisecond),
while the CPU sits idle and the caller waits.

So every write transaction (`atomic` opens them as BEGIN IMMEDIATE here) first takes an
exclusive `flock` on a file next to the database, and gives it back when the transaction
commits or rolls back (or its connection closes). A writer that finds the gate taken by
another process sleeps in the kernel until it is given back, and starts at once; a process
that dies holding the gate lets go of it with its file.

When the gate is held in this very process (another thread's connection: a development
server, a test's live server), blocking could wait on ourselves, so the writer looks again
every 0.1 ms instead, and past the database's `timeout` goes on without the gate. The gate
only orders writers: SQLite's own locking still guarantees every transaction.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from django.db.backends.sqlite3 import base

#: how often a waiting writer looks at the gate again, then after GATE_PATIENCE of
#: waiting (a long transaction: a migration, an import) how often after that
GATE_POLL = 0.0001
GATE_PATIENCE = 0.05
GATE_SLOW_POLL = 0.002

#: gate file -> how many of this process's connections hold it (0 or 1: it is exclusive)
_held_here: dict[str, int] = {}
_held_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _gate_fd: int | None = None
    _gate_file = ""
    _gate_held = False

    def gate_path(self) -> str | None:
        """The gate's file, beside a database file (none for an in-memory database)."""
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or name.startswith("file:") or not name:
            return None
        return name + "-gate"

    def _gate_enter(self) -> None:
        if self.transaction_mode not in ("IMMEDIATE", "EXCLUSIVE"):
            return  # a DEFERRED transaction may only read: it does not queue
        if self._gate_fd is None:
            path = self.gate_path()
            if path is None:
                return
            try:
                self._gate_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError:
                return  # a read-only directory: SQLite's busy handler alone, as before
            self._gate_file = path
        try:
            fcntl.flock(self._gate_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if _held_here.get(self._gate_file):  # our own thread is ahead: never block on it
                if not self._gate_poll():
                    return
            else:  # another process is ahead: sleep until it lets go
                try:
                    fcntl.flock(self._gate_fd, fcntl.LOCK_EX)
                except OSError:
                    return
        except OSError:  # a file system without locks: SQLite's busy handler alone
            return
        self._gate_taken(+1)

    def _gate_poll(self) -> bool:
        """Look at the gate until it is free (True) or the database's timeout is up."""
        assert self._gate_fd is not None
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        started = time.monotonic()
        while True:
            waited = time.monotonic() - started
            if waited > timeout:
                return False  # past the database's timeout: SQLite's lock decides
            time.sleep(GATE_POLL if waited < GATE_PATIENCE else GATE_SLOW_POLL)
            try:
                fcntl.flock(self._gate_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            except OSError:
                return False
            return True

    def _gate_taken(self, change: int) -> None:
        with _held_lock:
            _held_here[self._gate_file] = _held_here.get(self._gate_file, 0) + change
        self._gate_held = change > 0

    def _gate_leave(self) -> None:
        if self._gate_held:
            self._gate_taken(-1)
            if self._gate_fd is not None:
                fcntl.flock(self._gate_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self) -> None:
        self._gate_enter()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._gate_leave()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._gate_leave()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._gate_leave()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._gate_leave()
            if self._gate_fd is not None:
                os.close(self._gate_fd)
                self._gate_fd = None
