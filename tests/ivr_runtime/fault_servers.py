"""Real local targets for outbound HTTP: one that answers by route (redirects, echo, large or
slow answers, optionally over TLS), one that never answers, one that drips its answer."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler, bytes], tuple[int, dict[str, str], bytes]]


def json_answer(data: object, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def redirect(location: str, status: int = 302) -> tuple[int, dict[str, str], bytes]:
    return status, {"Location": location}, b""


class RouteServer:
    """An HTTP(S) server on `host` whose answers are `routes` (path without query -> route).

    Records each request (method, path, headers, body) and, over TLS, each SNI name."""

    def __init__(
        self,
        routes: dict[str, Route],
        *,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.server_names: list[str | None] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                owner.requests.append((self.command, self.path, dict(self.headers), body))
                route = routes.get(self.path.split("?")[0])
                status, headers, data = route(self, body) if route else (404, {}, b"{}")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hangs up early (an answer too large): nothing to see

        self.server = Server((host, 0), Handler)
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: owner.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "", host: str | None = None) -> str:
        host = host or self.server.server_address[0]
        return f"{self.scheme}://{f'[{host}]' if ':' in host else host}:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _TcpServer:
    """Accepts connections on 127.0.0.1 and gives each to `serve` in a thread."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.connections = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            self.serve(conn)

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()


class SilentServer(_TcpServer):
    """Accepts the connection, reads the request, never answers."""

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                if conn.recv(65536) == b"":
                    return
            except TimeoutError:
                continue
            except OSError:
                return


class DripServer(_TcpServer):
    """Answers one byte every `interval` seconds, forever: in the headers, or (`body=True`)
    in a body whose headers came at once."""

    def __init__(self, *, interval: float = 1.0, body: bool = False) -> None:
        self.interval = interval
        self.body = body
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            conn.recv(65536)
            if self.body:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
            stream = b'{"drip": "' if self.body else b"HTTP/1.1 200 OK\r\nX-Drip: "
            for byte in stream + b"." * 10_000:
                if self.stopping.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(self.interval)
        except OSError:
            return
