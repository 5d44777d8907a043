"""A real web server (gunicorn, one sync worker) in a subprocess, for the fault tests.

`WebServer(env).start()` serves `callflow.wsgi` on a free local port; `client()` gives a
client with the Django test client's `post` (what `twilio_driver.Signer` drives) over real
HTTP, which keeps the time each answer took (`timings`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent.parent


@dataclass
class Answer:
    """A response as the driver reads it: `status_code`, `content`, `answer["Header"]`."""

    status_code: int
    content: bytes
    headers: dict[str, str]
    seconds: float

    def __getitem__(self, name: str) -> str:
        return self.headers[name]


@dataclass
class HttpClient:
    base: str
    timings: list[float] = field(default_factory=list)
    timeout: float = 40.0

    def post(self, path: str, data: str, content_type: str, **headers: str) -> Answer:
        sent = {"Content-Type": content_type}
        for name, value in headers.items():  # HTTP_X_TWILIO_SIGNATURE, as Django spells it
            sent[name.removeprefix("HTTP_").replace("_", "-").title()] = value
        started = time.perf_counter()
        response = requests.post(self.base + path, data=data, headers=sent, timeout=self.timeout)
        seconds = time.perf_counter() - started
        self.timings.append(seconds)
        return Answer(response.status_code, response.content, dict(response.headers), seconds)


class WebServer:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = _free_port()
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 30.0) -> WebServer:
        command = [sys.executable, "-m", "gunicorn", "callflow.wsgi:application"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", "1"]
        command += ["--graceful-timeout", "2", "--log-level", "warning"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()[-3000:]}")
            try:
                if requests.get(self.base + "/ivr/ping", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start:\n{self.log()[-3000:]}")

    def client(self) -> HttpClient:
        return HttpClient(self.base)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(var_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callflow.settings",
        "CALLFLOW_VAR_DIR": str(var_dir),
        "DEBUG": "0",
        "SECRET_KEY": "callflow-fault-tests-secret-key-not-for-production",
        "PUBLIC_BASE_URL": "",
        "CELERY_BROKER_URL": "filesystem://",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env
