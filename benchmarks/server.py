"""The bench servers: gunicorn serving the project's own settings on 127.0.0.1, each with a
var folder of its own (a temporary SQLite database unless a DATABASE_URL is given), migrated
and loaded with the demo flows, the directory and the bench flow; and what they report
(database round trips per webhook, the load average)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
TOKEN = "bench-auth-token"
#: Sync workers, (2 x cores) + 1 as gunicorn's documentation advises to start with: while
#: one worker waits (for the write lock, for its client), another runs. On 2 cores, 2 to 5
#: workers gave the calls 1,030, 1,120, 1,150 and 1,200 webhooks/s, the floor 2,200 to 2,300
#: whatever the count. (Before SQLite's writers queued at the gate, callflow/sqlite3, more
#: workers ran fewer calls: they slept in SQLite's busy handler.)
WORKERS = os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1))
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
HOST = "127.0.0.1"
BENCH_NUMBER = "+442079460009"

#: a flow that touches the common nodes and never leaves the machine
BENCH_FLOW = {
    "format": "callflow/1",
    "slug": "bench",
    "name": "Bench",
    "timezone": "Europe/London",
    "language": "en-GB",
    "start": "greeting",
    "fallback": {"node": "sorry"},
    "nodes": [
        {
            "id": "greeting",
            "type": "say",
            "config": {"text": "Hello {{ caller.number }}."},
            "exits": {"next": "menu"},
        },
        {
            "id": "menu",
            "type": "menu",
            "config": {
                "prompt": "Press 1 for sales, 2 for support.",
                "input": "both",
                "options": [{"key": "1", "speech": ["sales"]}, {"key": "2", "speech": ["support"]}],
            },
            "exits": {"1": "remember", "2": "remember", "no_input": "bye", "no_match": "bye"},
        },
        {
            "id": "remember",
            "type": "set",
            "config": {"vars": {"choice": "{{ nodes.menu.digits }}"}},
            "exits": {"next": "by_choice"},
        },
        {
            "id": "by_choice",
            "type": "branch",
            "config": {
                "rules": [{"exit": "sales", "var": "vars.choice", "op": "eq", "value": "1"}]
            },
            "exits": {"sales": "text", "else": "confirm"},
        },
        {
            "id": "text",
            "type": "sms",
            "config": {"body": "Thanks for calling sales."},
            "exits": {"next": "confirm"},
        },
        {
            "id": "confirm",
            "type": "menu",
            "config": {
                "prompt": "Press 1 to hear this again, 2 to finish.",
                "options": [{"key": "1"}, {"key": "2"}],
            },
            "exits": {"1": "menu", "2": "bye", "no_input": "bye", "no_match": "bye"},
        },
        {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
        {"id": "sorry", "type": "hangup", "config": {"text": "Sorry."}, "exits": {}},
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_average() -> str:
    return "load average " + ", ".join(f"{n:.2f}" for n in os.getloadavg())


def prepare(var_dir: Path, env: dict[str, str]) -> None:
    def manage(*args: str) -> None:
        subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    flow_file = var_dir / "bench.json"
    flow_file.write_text(json.dumps(BENCH_FLOW))
    manage("migrate", "--no-input")
    manage("load_demo")
    manage("load_directory")
    manage("import_flows", str(flow_file), "--publish")
    manage("bind_number", BENCH_NUMBER, "bench")
    # the write floor's table (benchmarks/urls.py)
    manage(
        "shell",
        "-c",
        "from django.db import connection as c; from benchmarks.urls import TABLE; c.cursor().execute(TABLE)",
    )


#: one whole call through the views in a process of its own, each webhook's statements
#: counted (BEGIN and COMMIT included: each is a round trip to the database too)
ROUND_TRIPS = """
from urllib.parse import urlencode
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from twilio.request_validator import RequestValidator
client, validator = Client(), RequestValidator(TOKEN)
webhooks = [("first", "/ivr/voice", {"CallStatus": "ringing"}),
            ("answer", "/ivr/continue?seq=1", {"Digits": "2"}),
            ("answer", "/ivr/continue?seq=2", {"Digits": "2"}),
            ("status", "/ivr/status", {"CallStatus": "completed", "CallDuration": "9"})]
for sid in ("CA" + "e" * 32, "CA" + "f" * 32):  # the first call warms the caches up
    base = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+447700900999",
            "To": NUMBER, "CallStatus": "in-progress"}
    seen = {}
    for kind, path, extra in webhooks:
        form = {**base, **extra}
        signature = validator.compute_signature("http://testserver" + path, form)
        with CaptureQueriesContext(connection) as captured:
            client.post(path, urlencode(form), content_type="application/x-www-form-urlencoded",
                        HTTP_X_TWILIO_SIGNATURE=signature)
        seen.setdefault(kind, len(captured.captured_queries))
print(" ".join(f"{kind} {n}" for kind, n in seen.items()))
"""


def round_trips(env: dict[str, str]) -> str:
    """The database round trips of each kind of webhook (after a warm-up call)."""
    script = ROUND_TRIPS.replace("TOKEN", repr(TOKEN)).replace("NUMBER", repr(BENCH_NUMBER))
    answer = subprocess.run(
        [str(PYTHON), "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**env, "ALLOWED_HOSTS": "testserver"},
        capture_output=True,
        text=True,
        check=True,
    )
    return answer.stdout.strip().splitlines()[-1]


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            if requests.get(base + "/ivr/ping", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def gunicorn_command(port: int) -> list[str]:
    command = [str(GUNICORN), "callflow.wsgi:application", "--bind", f"{HOST}:{port}"]
    command += ["--workers", WORKERS, "--log-level", "warning", "--backlog", "256"]
    if THREADS > 1:
        command += ["--worker-class", "gthread", "--threads", str(THREADS)]
    return command


def server_env(var_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a bench server: its own var folder (SQLite there unless
    `database_url`), the bench's Twilio token, no broker process."""
    env = {
        **os.environ,
        "CALLFLOW_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_SETTINGS", "benchmarks.settings"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "ALLOWED_HOSTS": HOST,
        "DEBUG": "0",
        "LOG_LEVEL": "ERROR",
        "PUBLIC_BASE_URL": "",
        "CELERY_BROKER_URL": "filesystem://",
        **extra,
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free port with `env`, once it answers: the process and its base URL."""
    port = free_port()
    server = subprocess.Popen(
        gunicorn_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_until_up(base, server)
    except BaseException:
        stop(server)
        raise
    return server, base


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


def database_name(env: dict[str, str]) -> str:
    if "DATABASE_URL" in env:
        return "PostgreSQL"
    gated = env.get("SQLITE_WRITE_GATE", "1").strip().lower() in {"1", "true", "yes", "on"}
    return "SQLite (write gate)" if gated else "SQLite (no write gate)"
