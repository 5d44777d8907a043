"""Real asynchronous components for tests: Redis (behind a switchable proxy), a Celery
worker and beat as subprocesses sharing the test database, and the fake Twilio.

- `use_broker(url)` points this process's Celery app (the web side) at a broker.
- `RedisProxy` forwards a local port to Redis; `down()` refuses new connections and cuts
  the open ones (the broker is unreachable for everyone behind it), `up()` serves again.
- `CeleryProcess` runs `celery -A callflow worker --pool=solo` (or `beat`) with the test
  database (`DATABASE_URL` built from the connection the tests use), the broker URL and
  the fake Twilio's base URL in its environment; `kill()` sends SIGKILL.

Worker tests are marked `@pytest.mark.worker`; they need Redis on CALLFLOW_TEST_REDIS_URL
(default redis://127.0.0.1:6379/14). Each stack keeps its keys under a prefix of its own
(kombu's `global_keyprefix`), deleted when it starts and ends, so sessions running at the
same time on the same Redis do not take each other's tasks.

Isolation: these processes act on the shared test database, so none may outlive the tests
that started it (the stack lives for one module; `assert_isolated()` fails a test that
finds a worker or beat of an earlier one still running, or this process's Celery app still
pointed elsewhere), and `database_restored_after` puts the migrations' rows back under
their own keys around a module of serialized transactional tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.fakes.twilio_api import FakeTwilio
from tests.waiting import wait_for

REPO = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("CALLFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
#: settings the worker, beat and this process share (short, so the suite stays quick)
FAST = {
    "SMS_SEND_LEASE_SECONDS": "4",
    "SMS_RETRY_BASE_DELAY": "0.3",
    "SMS_RETRY_MAX_DELAY": "2",
    "SMS_HANDOVER_GRACE_SECONDS": "1",
    "OUTBOX_SWEEP_SECONDS": "1",
    "CALLBACK_SWEEP_SECONDS": "1",
    "CALLBACK_LEASE_SECONDS": "4",
    "TWILIO_HTTP_TIMEOUT": "2",
}


def use_broker(url: str) -> None:
    """Point this process's Celery app at `url` (closing the connections it had)."""
    from callflow.celery import app

    if app._pool is not None:
        app._pool.force_close_all()
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app._after_fork()


def celery_conf() -> dict:
    """What this process's Celery app publishes with: its broker, the broker's options and
    whether tasks run eagerly (save it before changing them, `celery_conf_restore` after)."""
    from callflow.celery import app

    return {
        "broker_url": app.conf.broker_url,
        "broker_transport_options": dict(app.conf.broker_transport_options or {}),
        "task_always_eager": app.conf.task_always_eager,
    }


def celery_conf_restore(saved: dict) -> None:
    """Put back exactly what `celery_conf()` returned (connections to the broker closed)."""
    from callflow.celery import app

    app.conf.broker_transport_options = dict(saved["broker_transport_options"])
    use_broker(saved["broker_url"])
    app.conf.task_always_eager = saved["task_always_eager"]


def assert_isolated() -> None:
    """Fail when an earlier test left behind what would act on this one: a worker or beat
    still running on the test database (it would take this test's rows and send them to
    its own fake Twilio) or this process's Celery app not as the settings configure it."""
    from django.conf import settings

    left = [f"a celery {p.kind} (pid {p.process.pid})" for p in CeleryProcess.running()]
    configured = {
        "broker_url": settings.CELERY_BROKER_URL,
        "broker_transport_options": dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS),
        "task_always_eager": settings.CELERY_TASK_ALWAYS_EAGER,
    }
    current = celery_conf()
    left += [
        f"the Celery app's {name} {current[name]!r} (the settings say {value!r})"
        for name, value in configured.items()
        if current[name] != value
    ]
    assert not left, "an earlier test left " + "; ".join(left)


# --- the broker, behind a switch -----------------------------------------------------------
class RedisProxy:
    """A TCP forwarder to Redis that can stop accepting (and drop its connections)."""

    def __init__(self, target: str = REDIS_URL) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.db = parts.path or "/0"
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}{self.db}"

    def up(self) -> RedisProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        self._flowing.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def stall(self) -> None:
        """Keep every connection open but pass nothing on (a broker that never answers)."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    _close(client)
                    _close(upstream)
                    return
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_available(url: str = REDIS_URL) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1
        ).close()
    except OSError:
        return False
    return True


# --- worker and beat subprocesses ------------------------------------------------------------
def database_url() -> str:
    """The test database as a DATABASE_URL, for processes that must share it."""
    from django.db import connection

    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = quote(config.get("USER") or "")
    password = quote(config.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = config.get("HOST") or "127.0.0.1"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgresql://{credentials}{host}{port}/{config['NAME']}"


class CeleryProcess:
    #: every one made in this session (`running()` finds those a test left behind)
    _made: list[CeleryProcess] = []

    def __init__(self, kind: str, env: dict[str, str], log_dir: Path) -> None:
        self.kind = kind
        self.env = env
        self.log_path = log_dir / f"celery-{kind}.log"
        self.process: subprocess.Popen | None = None
        CeleryProcess._made.append(self)

    @classmethod
    def running(cls) -> list[CeleryProcess]:
        return [p for p in cls._made if p.process is not None and p.process.poll() is None]

    def start(self, *, ready_timeout: float = 30.0) -> CeleryProcess:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [sys.executable, "-m", "celery", "-A", "callflow"]
        if self.kind == "worker":
            command += [
                "worker",
                "--pool=solo",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}@%h",
            ]
            marker = "ready."
        else:
            command += [
                "beat",
                "--loglevel=info",
                "-s",
                str(self.log_path.parent / "celerybeat-schedule"),
            ]
            marker = "beat: Starting"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        try:
            wait_for(
                lambda: marker in self.log()[offset:] or self.process.poll() is not None,
                timeout=ready_timeout,
                what=f"the {self.kind} to start",
            )
        except BaseException:
            self.kill()  # not left running on the test database by a test that gave up on it
            raise
        if self.process.poll() is not None:
            raise RuntimeError(f"celery {self.kind} exited:\n{self.log()[offset:][-3000:]}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, whatever it was doing."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class AsyncStack:
    """Redis behind a proxy, a worker, beat and the fake Twilio, for one test session."""

    def __init__(self, log_dir: Path, public_url: str) -> None:
        # Keys of this session only: concurrent sessions on the same Redis never see each
        # other's tasks (a worker of one would take the other's message ids).
        self.keyprefix = f"callflow-test-{os.getpid()}-{time.time_ns()}:"
        self.proxy = RedisProxy().up()
        self.twilio = FakeTwilio().start()
        self.public_url = public_url
        env = {
            **os.environ,
            **FAST,
            "DJANGO_SETTINGS_MODULE": "callflow.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.proxy.url,
            "CELERY_BROKER_KEYPREFIX": self.keyprefix,
            "TWILIO_API_BASE_URL": self.twilio.base_url,
            "TWILIO_AUTH_TOKEN": "test-auth-token-0123456789abcdef",
            # Where the fake Twilio posts status callbacks: this process's live server.
            "PUBLIC_BASE_URL": public_url,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        self.worker = CeleryProcess("worker", env, log_dir)
        self.beat = CeleryProcess("beat", env, log_dir)

    def start(self) -> AsyncStack:
        """Start it all (call `stop()` even when this fails: it stops what did start)."""
        from callflow.celery import app

        self._forget_keys()
        self._conf = celery_conf()
        options = self._conf["broker_transport_options"]
        app.conf.broker_transport_options = {**options, "global_keyprefix": self.keyprefix}
        use_broker(self.proxy.url)
        self.worker.start()
        self.beat.start()
        return self

    def restart_worker(self) -> None:
        self.worker.kill()
        self.worker.start()

    def stop(self) -> None:
        """Stop beat and the worker (the worker even when stopping beat fails), the proxy
        and the fake, and put this process's Celery app back as it was before `start()`."""
        try:
            self.beat.stop()
        finally:
            self.worker.stop()
        self.proxy.down()
        self.twilio.stop()
        if hasattr(self, "_conf"):
            celery_conf_restore(self._conf)
        self._forget_keys()

    def _forget_keys(self) -> None:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{self.keyprefix}*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture(scope="module")
def async_stack(
    django_db_setup, django_db_blocker, tmp_path_factory, live_server
) -> Iterator[AsyncStack]:
    """The stack for one module's tests: its worker and beat share the test database, so
    they are stopped when the module ends (left running, beat's outbox sweep would hand
    the later tests' rows to this worker, which sends them to this stack's fake Twilio)."""
    if not redis_available():
        pytest.fail(f"worker tests need Redis at {REDIS_URL} (make test-fast skips them)")
    assert_isolated()
    with django_db_blocker.unblock():
        stack = AsyncStack(tmp_path_factory.mktemp("celery"), live_server.url)
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture
def stack(async_stack: AsyncStack, transactional_db, settings) -> Iterator[AsyncStack]:
    """The running stack with a clean fake Twilio; this process's settings match the worker's."""
    for name, value in FAST.items():
        setattr(settings, name, float(value))
    settings.TWILIO_API_BASE_URL = async_stack.twilio.base_url
    settings.PUBLIC_BASE_URL = ""
    async_stack.twilio.reset()
    async_stack.proxy.resume()
    if async_stack.proxy._listener is None:
        async_stack.proxy.up()
    if async_stack.worker.process is None or async_stack.worker.process.poll() is not None:
        async_stack.worker.start()
    yield async_stack
    async_stack.twilio.release()


def restore_migration_data() -> None:
    """Make the test database hold the rows serialized when the session created it, whatever
    a transactional test left, so that a serialized rollback can load them again.

    A transactional test without serialized rollback is flushed with the post_migrate
    signal, which writes content types and permissions again under new keys: loading the
    serialized rows over those fails (UNIQUE constraint on django_content_type). So the
    tables are emptied first without that signal, as Django flushes after a serialized
    test, and the rows are loaded into an empty database, as Django expects.
    """
    from django.core.management import call_command
    from django.db import connection

    contents = getattr(connection, "_test_serialized_contents", None)
    if not contents:
        return  # no test of the session asked for serialized rollback: nothing kept
    call_command(
        "flush",
        verbosity=0,
        interactive=False,
        database=connection.alias,
        reset_sequences=False,
        inhibit_post_migrate=True,
    )
    connection.creation.deserialize_db_from_string(contents)


@pytest.fixture(scope="module")
def database_restored_after(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The migrations' rows, under their own keys, when a module of serialized transactional
    tests starts and once it ends.

    Before: serialized rollback loads them at the start of each test into a database it
    expects empty or holding the same rows, not the ones post_migrate wrote again after a
    transactional test without serialized rollback. After: the flushes of these tests leave
    the database empty, for the tests that come after.
    """
    with django_db_blocker.unblock():
        restore_migration_data()
    yield
    with django_db_blocker.unblock():
        restore_migration_data()


@pytest.fixture
def local_broker(tmp_path) -> Iterator[Path]:
    """This process publishes to a filesystem broker in a temporary folder (the embedded
    default's transport): `published()` reads what was handed over. Nothing consumes it."""
    from callflow.celery import app

    folder = tmp_path / "broker"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True)
    saved = celery_conf()
    app.conf.broker_transport_options = {
        **saved["broker_transport_options"],
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
    }
    use_broker("filesystem://")
    try:
        yield folder / "out"
    finally:
        celery_conf_restore(saved)


def published(folder: Path, task_name: str) -> list[tuple[tuple, str | None]]:
    """(args, eta) of each `task_name` task handed over to `local_broker`, oldest first."""
    import base64
    import json

    found = []
    for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns):
        message = json.loads(path.read_text())
        if message["headers"].get("task") != task_name:
            continue
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body).decode()
        found.append((tuple(json.loads(body)[0]), message["headers"].get("eta")))
    return found
