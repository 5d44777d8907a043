"""A demo orders API for the `order-status` demo flow: `python -m callflow.demo_orders`.

Not part of the service: it stands in for a shop's system of record so that `make run`
shows the demo flow end to end on one machine. `make serve` starts it (supervised, like
the worker) on 127.0.0.1, port DEMO_ORDERS_PORT (8010), and lets flows reach that address
(HTTP_NODE_ALLOWED_NETWORKS). The flow's `api` node holds the base URL.

    GET /orders/123456  -> 200 {"order": "123456", "status": "shipped", "status_text": ...,
                                "carrier": ..., "tracking_url": ...}
    GET /orders/999999  -> 404 {"error": "no such order", "order": "999999"}
    GET /               -> 200 {"service": ..., "orders": ["123456", ...]}

Answers are JSON; anything but GET is 405.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
DEFAULT_PORT = 8010
#: the base URL the demo flow uses (its `api` node); a test keeps the two in step
DEFAULT_URL = f"http://{HOST}:{DEFAULT_PORT}"

#: the known orders; `status_text` completes "Your order ..." (the flow says it as is)
ORDERS: dict[str, dict[str, Any]] = {
    "123456": {
        "status": "shipped",
        "status_text": "was shipped yesterday with Royal Mail and should arrive within 2 working days",
        "carrier": "Royal Mail",
        "tracking_url": "https://track.example.com/RM123456785GB",
    },
    "234567": {
        "status": "processing",
        "status_text": "is being packed and will ship within 2 working days",
        "carrier": None,
        "tracking_url": None,
    },
    "345678": {
        "status": "delivered",
        "status_text": "was delivered on Monday and left in your safe place",
        "carrier": "DPD",
        "tracking_url": "https://track.example.com/DPD15501234567",
    },
    "456789": {
        "status": "cancelled",
        "status_text": "was cancelled, and your refund of 24 pounds 99 is on its way",
        "carrier": None,
        "tracking_url": None,
    },
}

_ORDER_PATH = re.compile(r"^/orders/([0-9A-Za-z-]{1,32})/?$")


def answer(method: str, path: str) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for a request (pure: the handler only writes it out)."""
    if method != "GET":
        return 405, {"error": f"method {method} not allowed: only GET"}
    path = path.split("?", 1)[0]
    if path == "/":
        return 200, {"service": "Callflow demo orders", "orders": sorted(ORDERS)}
    found = _ORDER_PATH.match(path)
    if found is None:
        return 404, {"error": "not found: use /orders/NUMBER"}
    number = found.group(1)
    order = ORDERS.get(number)
    if order is None:
        return 404, {"error": "no such order", "order": number}
    return 200, {"order": number, **order}


class _Handler(BaseHTTPRequestHandler):
    server_version = "CallflowDemoOrders"

    def _reply(self) -> None:
        status, body = answer(self.command, self.path)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 405:
            self.send_header("Allow", "GET")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _reply  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # runserver already logs the webhooks that lead here


def make_server(host: str = HOST, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """The server, bound (port 0: any free port); serve it with `serve_forever()`."""
    server = ThreadingHTTPServer((host, port), _Handler)
    server.daemon_threads = True
    return server


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(0)  # out of serve_forever, so the socket is closed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=HOST, help=f"the address to listen on ({HOST})")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("DEMO_ORDERS_PORT") or DEFAULT_PORT),
        help=f"the port (DEMO_ORDERS_PORT, else {DEFAULT_PORT})",
    )
    args = parser.parse_args(argv)
    try:
        server = make_server(args.host, args.port)
    except OSError as exc:
        print(f"demo orders: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    host, port = server.server_address[:2]
    print(
        f"Demo orders service on http://{host}:{port}/orders/NUMBER "
        f"(orders {', '.join(sorted(ORDERS))})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
