"""A local fake of the parts of Twilio's REST API that Callflow uses.

It listens on 127.0.0.1 (a free port), accepts `POST /2010-04-01/Accounts/{sid}/Messages.json`
and `.../Calls.json` the way Twilio does (form-encoded, HTTP basic auth), records every
request, and can be told to fail: `fake.fail_next(500, times=2)` answers the next two
requests with a 500 before succeeding again. Point the app at it with
`TWILIO_API_BASE_URL=fake.base_url`.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    auth: str | None
    status: int


@dataclass
class FakeTwilio:
    requests: list[RecordedRequest] = field(default_factory=list)
    _faults: list[tuple[int, dict]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sids: itertools.count = field(default_factory=lambda: itertools.count(1))
    server: ThreadingHTTPServer | None = None

    # --- control -------------------------------------------------------------------------
    def fail_next(self, status: int, *, times: int = 1, code: int | None = None, message: str = "") -> None:
        body = {"status": status, "code": code or (20500 if status >= 500 else 21211), "message": message or "fake failure"}
        with self._lock:
            self._faults.extend([(status, body)] * times)

    def messages(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def delivered_messages(self) -> list[RecordedRequest]:
        return [r for r in self.messages() if r.status == 201]

    def calls(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/Calls.json")]

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- serving -------------------------------------------------------------------------
    def _answer(self, method: str, path: str, form: dict[str, str], auth: str | None) -> tuple[int, dict]:
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            status, body = fault
            self.requests.append(RecordedRequest(method, path, form, auth, status))
            return status, body
        account = path.split("/Accounts/")[1].split("/")[0] if "/Accounts/" in path else "AC"
        n = next(self._sids)
        if path.endswith("/Messages.json"):
            body = {
                "sid": f"SM{n:032x}", "account_sid": account, "to": form.get("To"), "from": form.get("From"),
                "body": form.get("Body"), "status": "queued", "num_segments": "1", "direction": "outbound-api",
                "api_version": "2010-04-01", "uri": f"{path[:-5]}/SM{n:032x}.json",
            }
        elif path.endswith("/Calls.json"):
            body = {
                "sid": f"CA{n:032x}", "account_sid": account, "to": form.get("To"), "from": form.get("From"),
                "status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
                "uri": f"{path[:-5]}/CA{n:032x}.json",
            }
        else:
            self.requests.append(RecordedRequest(method, path, form, auth, 404))
            return 404, {"status": 404, "code": 20404, "message": "not found"}
        self.requests.append(RecordedRequest(method, path, form, auth, 201))
        return 201, body

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                status, body = fake._answer("POST", self.path, form, self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
