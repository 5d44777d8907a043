"""Django's SQLite backend, with writers queueing at a gate instead of polling SQLite.

SQLite lets one connection write at a time. Another that wants to write meanwhile gets
SQLITE_BUSY, and the busy handler behind the `timeout` option sleeps and tries again,
1, 2, 5, 10 ms and longer: under concurrent webhooks from several web processes a waiting
writer sleeps far longer than the transaction it waits for (about half a millisecond),
while the CPU sits idle and the caller waits.

So every write transaction (`atomic` opens them as BEGIN IMMEDIATE here) first takes an
exclusive `flock` on a file next to the database, and gives it back when the transaction
commits or rolls back (or its connection closes). A writer that finds the gate taken
checks again every 0.1 ms, so it starts within about that of the other's commit.

The gate only orders writers: SQLite's own locking still guarantees every transaction,
and a writer that waits at the gate longer than the database's `timeout` goes on without
it (SQLite decides). A process that dies holding the gate lets go of it with its file.
Each connection opens the file itself, so threads queue at the gate too.
"""

from __future__ import annotations

import fcntl
import os
import time

from django.db.backends.sqlite3 import base

#: how often a waiting writer looks at the gate again, then after GATE_PATIENCE of
#: waiting (a long transaction: a migration, an import) how often after that
GATE_POLL = 0.0001
GATE_PATIENCE = 0.05
GATE_SLOW_POLL = 0.002


class DatabaseWrapper(base.DatabaseWrapper):
    _gate_fd: int | None = None
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
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(self._gate_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited > timeout:
                    return  # past the database's timeout: SQLite's lock decides
                time.sleep(GATE_POLL if waited < GATE_PATIENCE else GATE_SLOW_POLL)
                continue
            self._gate_held = True
            return

    def _gate_leave(self) -> None:
        if self._gate_held:
            self._gate_held = False
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
