# ruff: noqa: F811 (pytest fixtures imported from tests.worker are parameters here)
"""The embedded worker and beat (the `filesystem://` broker of `make run`), for real: a
message file caught half-written never kills the worker, a worker SIGKILLed is started
again by its supervisor, heartbeats and the outbox's backlog reach the designer and the
admin, and without a Twilio account no text reaches the provider.

Each test runs its own worker (and beat) as subprocesses with their own var folder (so
their own broker folder and heartbeats), sharing the test database."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from ivr_runtime import health
from ivr_runtime.models import Heartbeat, OutboundMessage
from ivr_runtime.sms import outbox
from tests.fakes.twilio_api import FakeTwilio
from tests.worker import (  # noqa: F401 (fixtures)
    FAST,
    REPO,
    CeleryProcess,
    assert_isolated,
    celery_conf,
    celery_conf_restore,
    database_restored_after,
    database_url,
    use_broker,
    wait_for,
)

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("database_restored_after"),
]

Status = OutboundMessage.Status
NUMBER = "+442079460102"
CALLER = "+447700900123"


class Embedded:
    """A var folder for the embedded broker, the environment of its processes, and this
    process's Celery app publishing into it."""

    def __init__(self, root: Path, twilio: FakeTwilio) -> None:
        self.var = root / "var"
        self.queue = self.var / "broker" / "out"
        for sub in ("out", "processed", "control"):
            (self.var / "broker" / sub).mkdir(parents=True)
        self.logs = root / "logs"
        self.logs.mkdir()
        self.twilio = twilio
        self.env = {
            **os.environ,
            **FAST,
            "DJANGO_SETTINGS_MODULE": "callflow.settings",
            "CALLFLOW_VAR_DIR": str(self.var),
            "DATABASE_URL": database_url(),
            "TWILIO_API_BASE_URL": twilio.base_url,
            "TWILIO_AUTH_TOKEN": "test-auth-token-0123456789abcdef",
            "PUBLIC_BASE_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("CELERY_BROKER_URL", "CELERY_BROKER_KEYPREFIX", "CELERY_TASK_ALWAYS_EAGER"):
            self.env.pop(name, None)
        self.processes: list[CeleryProcess] = []

    def process(self, kind: str, **env: str) -> CeleryProcess:
        process = CeleryProcess(kind, {**self.env, **env}, self.logs)
        self.processes.append(process)
        return process

    def publish_here(self) -> None:
        from callflow.celery import app

        folder = self.var / "broker"
        self._saved = celery_conf()
        app.conf.broker_transport_options = {
            **self._saved["broker_transport_options"],
            "data_folder_in": str(folder / "out"),
            "data_folder_out": str(folder / "out"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        }
        use_broker("filesystem://")

    def stop(self) -> None:
        try:
            for process in self.processes:
                process.stop()
        finally:
            if hasattr(self, "_saved"):
                celery_conf_restore(self._saved)


@pytest.fixture
def embedded(tmp_path, settings) -> Iterator[Embedded]:
    # A worker or beat of an earlier test on the test database would send this test's texts
    # to its own fake Twilio: none may be running, and this process publishes as configured.
    assert_isolated()
    for name, value in FAST.items():
        setattr(settings, name, float(value))
    twilio = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = twilio.base_url
    try:
        stack = Embedded(tmp_path, twilio)
        stack.publish_here()
        try:
            yield stack
        finally:
            stack.stop()
    finally:
        twilio.stop()


def queued(body="Your code is 1234") -> OutboundMessage:
    n = OutboundMessage.objects.count()
    return OutboundMessage.objects.create(
        to=CALLER, from_number=NUMBER, body=body, idempotency_key=f"health-{n}-{uuid.uuid4()}"
    )


def in_status(message, *statuses, timeout=20.0) -> OutboundMessage:
    def check():
        row = OutboundMessage.objects.get(pk=message.pk)
        return row if row.status in statuses else None

    return wait_for(check, timeout=timeout, what=f"message {message.pk} in {statuses}")


def task_file(embedded: Embedded, message_id: int) -> bytes:
    """What a publisher writes for one send task (taken out of the queue: call it before a
    worker runs)."""
    before = set(embedded.queue.iterdir())
    assert outbox._publish(message_id)
    [path] = set(embedded.queue.iterdir()) - before
    data = path.read_bytes()
    path.unlink()
    return data


def queue_name(stamp_ms: int) -> str:
    return f"{stamp_ms}_{uuid.uuid4()}.celery.msg"


# --- a torn message file -------------------------------------------------------------------
def test_a_message_file_caught_half_written_does_not_kill_the_worker(embedded):
    old, slow, after = queued("old"), queued("slow"), queued("after")
    dead_writer, whole = task_file(embedded, old.pk)[:40], task_file(embedded, slow.pk)
    worker = embedded.process("worker").start()
    # A file whose writer died half-way long ago: set aside, not fatal.
    dead = embedded.queue / queue_name(1)
    dead.write_bytes(dead_writer)
    os.utime(dead, (time.time() - 60, time.time() - 60))
    # A writer that is still writing (as kombu's own transport does, in place, unlocked),
    # under a name before any a publisher gives: the worker reads the queue in name order.
    torn = embedded.queue / queue_name(0)
    with torn.open("wb", buffering=0) as writer:
        writer.write(whole[: len(whole) // 2])
        outbox.message_publish(after.pk)
        # Sent, so a poll read the torn file before it (and put it back) and went on.
        in_status(after, Status.SENT)
        assert worker.process.poll() is None, worker.log()[-3000:]
        assert OutboundMessage.objects.get(pk=slow.pk).status == Status.QUEUED
        writer.write(whole[len(whole) // 2 :])
    in_status(slow, Status.SENT)
    assert worker.process.poll() is None, worker.log()[-3000:]
    assert "JSONDecodeError" not in worker.log()
    assert [p.name for p in (embedded.var / "broker" / "broken").iterdir()] == [dead.name]
    assert f"broker: {dead.name} cannot be read" in worker.log()
    assert sorted(m.form["Body"] for m in embedded.twilio.messages()) == ["after", "slow"]
    assert OutboundMessage.objects.get(pk=old.pk).status == Status.QUEUED  # the sweep's, later


def test_publishing_never_shows_a_reader_a_partial_file(embedded):
    """Every file a reader can list in the queue folder parses, while 300 are published."""
    from callflow.celery import app

    message = queued()
    seen_bad: list[str] = []
    thread = threading.Thread(target=lambda: [outbox._publish(message.pk) for _ in range(300)])
    thread.start()
    while thread.is_alive():
        for path in embedded.queue.iterdir():
            if path.name.partition(".")[2] != "celery.msg":
                continue
            try:
                json.loads(path.read_bytes())
            except FileNotFoundError:
                continue
            except ValueError:
                seen_bad.append(path.name)
    thread.join()
    assert seen_bad == []
    with app.connection_for_write() as connection:
        assert connection.default_channel.basic_get("celery") is not None  # read back whole


# --- the supervisor ----------------------------------------------------------------------
def supervised(embedded: Embedded, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "callflow.supervise",
        "worker",
        "--",
        sys.executable,
        "-m",
        "celery",
        "-A",
        "callflow",
        "worker",
        "--pool=solo",
        "--loglevel=info",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=REPO, env=embedded.env, stdout=out, stderr=subprocess.STDOUT
        )


def started_pids(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"started \(pid (\d+)\)", log.read_text())]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_a_worker_killed_is_started_again_by_its_supervisor(embedded, tmp_path):
    log = tmp_path / "supervise.log"
    supervisor = supervised(embedded, log)
    try:
        wait_for(lambda: log.read_text().count("ready.") == 1, timeout=30, what="the worker")
        [first] = started_pids(log)
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: len(started_pids(log)) == 2, timeout=15, what="a restart")
        assert "[supervise worker] killed by SIGKILL after" in log.read_text()
        wait_for(lambda: log.read_text().count("ready.") == 2, timeout=30, what="the new worker")
        message = queued()
        outbox.message_publish(message.pk)
        in_status(message, Status.SENT)
        second = started_pids(log)[1]
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=20) == 0
        assert not alive(second), "the worker outlived its supervisor's stop"
        assert log.read_text().rstrip().endswith("[supervise worker] stopped")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        for pid in started_pids(log):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_supervisor_killed_takes_its_worker_with_it(embedded, tmp_path):
    log = tmp_path / "supervise.log"
    supervisor = supervised(embedded, log)
    try:
        wait_for(lambda: started_pids(log), timeout=15, what="the worker")
        [child] = started_pids(log)
        supervisor.kill()
        supervisor.wait()
        wait_for(lambda: not alive(child), timeout=15, what="the orphaned worker to stop")
    finally:
        for pid in started_pids(log):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- heartbeats and the banner -------------------------------------------------------------
def test_worker_and_beat_heartbeats_come_and_go(embedded, settings):
    settings.WORKER_STALE_SECONDS = 3
    settings.TWILIO_REST_ENABLED = True
    assert {p.kind for p in health.health_check().problems} == {"beat", "worker"}
    worker = embedded.process("worker").start()
    beat = embedded.process("beat").start()
    wait_for(
        lambda: not health.health_check().problems, timeout=20, what="both heartbeats to be seen"
    )
    seen = health.heartbeat_seen("worker")
    assert seen["pid"] == worker.process.pid and seen["host"]
    beat.stop()
    wait_for(
        lambda: {p.kind for p in health.health_check().problems} == {"beat", "worker"},
        timeout=20,
        what="beat, then the worker it no longer feeds, to be missed",
    )


def test_without_a_twilio_account_the_worker_keeps_texts_unsent(embedded):
    embedded.process("worker", TWILIO_ACCOUNT_SID="").start()
    message = queued()
    outbox.message_publish(message.pk)
    message = in_status(message, Status.FAILED)
    assert message.error_code == outbox.NOT_CONFIGURED
    assert message.last_error.startswith("not sent: no Twilio account configured")
    assert embedded.twilio.requests == []


# --- what the designer and the admin show (no processes needed) ------------------------------
@pytest.fixture
def quiet_health(settings):
    """Both heartbeats fresh; Twilio configured."""
    settings.TWILIO_REST_ENABLED = True
    settings.CELERY_BROKER_URL = "filesystem://"
    for kind in health.KINDS:
        health.heartbeat_record(kind, force=True)


def test_the_designer_shows_nothing_when_all_is_well(client, viewer, quiet_health):
    client.force_login(viewer)
    page = client.get("/designer/").content.decode()
    assert "data-health" not in page


def test_the_designer_shows_a_worker_not_seen_and_texts_stuck(client, viewer, quiet_health):
    Heartbeat.objects.filter(kind="worker").update(seen_at=timezone.now() - timedelta(minutes=10))
    stuck = queued()
    OutboundMessage.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - timedelta(minutes=7)
    )
    queued()  # just written: not stuck
    client.force_login(viewer)
    page = client.get("/designer/").content.decode()
    assert 'data-problem="worker"' in page and 'data-problem="beat"' not in page
    assert "The Celery worker has not run the outbox sweep for 10 min" in page
    assert "1 text waiting in the outbox longer than 120 s, the oldest for 7 min." in page


def test_the_designer_and_admin_say_texts_are_kept_unsent_without_twilio(
    client, admin_client, viewer, quiet_health, settings
):
    settings.TWILIO_REST_ENABLED = False
    outbox.outbound_message_send(message_id=queued().pk)
    client.force_login(viewer)
    page = client.get("/designer/").content.decode()
    assert 'data-problem="twilio"' in page
    assert "texts and callbacks are kept as not sent (1 text so far)" in page
    listing = admin_client.get("/admin/ivr_runtime/outboundmessage/").content.decode()
    assert "texts and callbacks are kept as not sent (1 text so far)" in listing
    assert "not sent (no Twilio account)" in listing
    kept = admin_client.get(
        f"/admin/ivr_runtime/outboundmessage/?error_code__exact={outbox.NOT_CONFIGURED}"
    )
    assert kept.status_code == 200 and kept.context["cl"].result_count == 1


def test_the_admin_outbox_warns_of_stuck_texts(admin_client, quiet_health):
    message = queued()
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=Status.SENDING, lease_until=timezone.now() - timedelta(minutes=5)
    )
    listing = admin_client.get("/admin/ivr_runtime/outboundmessage/").content.decode()
    assert "1 text waiting in the outbox longer than 120 s" in listing
