"""A small local JSON server standing in for a system of record (127.0.0.1 only)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        #: path -> (status, JSON body): answers a test sets, before the built-in ones
        self.answers: dict[str, tuple[int, object]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.requests.append((self.command, self.path, self.rfile.read(length)))
                path = self.path.split("?")[0]
                if path == "/slow":
                    time.sleep(1.5)
                status, body = {
                    "/balance": (200, json.dumps({"balance": "42.50", "currency": "GBP"})),
                    "/customer": (200, json.dumps({"tier": "gold", "name": "Ada"})),
                    "/error": (500, json.dumps({"error": "boom"})),
                    "/notjson": (200, "<html>hello</html>"),
                    "/slow": (200, "{}"),
                    "/api/balance": (200, json.dumps({"balance": "1,024.00"})),
                    "/api/orders": (200, json.dumps({"open_orders": 2})),
                }.get(path, (404, "{}"))
                if path in owner.answers:
                    status, body = owner.answers[path][0], json.dumps(owner.answers[path][1])
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
