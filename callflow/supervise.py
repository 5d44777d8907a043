"""Keep one process running: `python -m callflow.supervise NAME -- COMMAND...`.

`make serve` runs the embedded Celery worker and beat under it: when the process exits
(it crashed, it was killed), the supervisor says so on stderr, with how long it ran and
why it ended, and starts it again, after RESTART_DELAY seconds, doubled while it keeps
dying within STABLE_SECONDS of its start (at most MAX_DELAY). SIGTERM, SIGINT or SIGHUP
stop the process (the same signal, then SIGKILL after STOP_TIMEOUT) and the supervisor.
The process is started with PR_SET_PDEATHSIG on Linux, so it never outlives a supervisor
that is itself killed.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import threading
import time

RESTART_DELAY = 1.0
MAX_DELAY = 30.0
#: a process that ran this long is considered to have been healthy: the delay starts over
STABLE_SECONDS = 60.0
STOP_TIMEOUT = 15.0


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _ran(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def say(name: str, text: str) -> None:
    print(f"[supervise {name}] {text}", file=sys.stderr, flush=True)


def supervise(name: str, command: list[str]) -> int:
    stopping = threading.Event()
    child: subprocess.Popen | None = None
    received: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        received.append(signum)
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    delay = RESTART_DELAY
    while not stopping.is_set():
        started = time.monotonic()
        # Its own process group: a Ctrl-C reaches it once, forwarded from here.
        child = subprocess.Popen(command, preexec_fn=_die_with_parent, process_group=0)
        say(name, f"started (pid {child.pid})")
        returncode = _wait(child, stopping)
        if stopping.is_set():
            break
        ran = time.monotonic() - started
        if ran >= STABLE_SECONDS:
            delay = RESTART_DELAY
        say(name, f"{_how(returncode)} after {_ran(ran)}: restarting in {delay:.0f} s")
        stopping.wait(delay)
        delay = min(delay * 2, MAX_DELAY)
    if child is not None and child.poll() is None:
        try:
            child.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    say(name, "stopped")
    return 0


def _wait(child: subprocess.Popen, stopping: threading.Event) -> int:
    while True:
        try:
            return child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            if stopping.is_set():
                return child.poll() or 0


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m callflow.supervise NAME -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    return supervise(argv[0], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
