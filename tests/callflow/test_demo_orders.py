"""The demo orders service (callflow/demo_orders.py) as `make serve` runs it: a process."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.worker import REPO, _free_port, wait_for


def get(port: int, path: str, method: str = "GET") -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    assert headers["Content-Type"] == "application/json"
    return status, json.loads(body)


def start(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def service_command(port: int) -> list[str]:
    return [sys.executable, "-m", "callflow.demo_orders", "--port", str(port)]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def stopped():
    """Processes to end after the test, whatever happened in it."""
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_the_service_answers_the_known_orders_in_json(tmp_path, stopped):
    port = _free_port()
    log = tmp_path / "orders.log"
    service = start(service_command(port), log)
    stopped.append(service)
    wait_for(lambda: "Demo orders service on" in log.read_text(), what="the service")
    assert f"http://127.0.0.1:{port}/orders/NUMBER" in log.read_text()

    status, shipped = get(port, "/orders/123456")
    assert status == 200
    assert shipped["order"] == "123456" and shipped["status"] == "shipped"
    assert shipped["tracking_url"].startswith("https://")
    assert get(port, "/orders/234567")[1]["status"] == "processing"
    assert get(port, "/orders/234567")[1]["tracking_url"] is None
    assert get(port, "/orders/345678")[1]["status"] == "delivered"
    assert get(port, "/orders/999999") == (404, {"error": "no such order", "order": "999999"})
    assert get(port, "/customers")[0] == 404
    assert get(port, "/orders/123456", method="POST")[0] == 405
    assert get(port, "/") == (
        200,
        {"service": "Callflow demo orders", "orders": ["123456", "234567", "345678", "456789"]},
    )

    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=10) == 0
    assert not listening(port)


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            service_command(port), cwd=REPO, capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 1
    assert f"demo orders: cannot listen on 127.0.0.1:{port}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_serve_runs_it_supervised_and_lets_flows_reach_it(tmp_path, stopped):
    port = _free_port()
    dry_run = subprocess.run(
        ["make", "-n", "--no-print-directory", "serve", f"DEMO_ORDERS_PORT={port}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
    )
    assert dry_run.returncode == 0, dry_run.stderr
    recipe = dry_run.stdout
    service = f"-m callflow.demo_orders --port {port} &"
    assert f"-m callflow.supervise demo-orders -- .venv/bin/python {service}" in recipe
    allowed = "${HTTP_NODE_ALLOWED_NETWORKS:+$HTTP_NODE_ALLOWED_NETWORKS,}127.0.0.1/32;"
    assert f"export HTTP_NODE_ALLOWED_NETWORKS={allowed}" in recipe

    # what that line runs: the service under its supervisor, started again when it dies
    log = tmp_path / "supervise.log"
    supervise = [sys.executable, "-m", "callflow.supervise", "demo-orders", "--"]
    supervisor = start(supervise + service_command(port), log)
    stopped.append(supervisor)
    wait_for(lambda: listening(port), what="the service")
    assert get(port, "/orders/123456")[0] == 200
    [pid] = [int(line.split("pid ")[1].rstrip(")")) for line in started(log)]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: len(started(log)) == 2, timeout=15, what="a restart")
    wait_for(lambda: listening(port), what="the service again")
    assert get(port, "/orders/345678")[0] == 200
    assert "[supervise demo-orders] killed by SIGKILL after" in log.read_text()
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=20) == 0
    assert "[supervise demo-orders] stopped" in log.read_text() and not listening(port)


def started(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "] started (pid " in line]
