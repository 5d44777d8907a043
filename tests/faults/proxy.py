"""A TCP proxy a test controls, to cut a real server off from what it talks to.

`TcpProxy(("127.0.0.1", 5432)).start()` listens on a free local port (`.port`) and forwards
each connection to the target. Its modes, switched at any time:

- `forward()`: connections are made and bytes flow (the default);
- `refuse()`: the port is closed, so a new connection is refused (ECONNREFUSED); the open
  ones stay as they are;
- `hang()`: new connections are accepted but never forwarded, and the open ones stop
  passing bytes on (held, not lost): a server, or a network path, that never answers;
- `stall()`: the open connections stop passing bytes on, new ones are forwarded: the
  half-open connections a failover leaves behind;
- `cut()`: every open connection is closed, both ways (a restart or a failover).

`accepted` counts the connections accepted so far, `open` how many are open now.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self.accepted = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._hung = False
        #: one switch per connection (by its client socket): set while bytes may flow
        self._flows: dict[socket.socket, threading.Event] = {}

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def open(self) -> int:
        with self._lock:
            return len(self._flows)

    # --- modes ---------------------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._listen()
        return self

    def forward(self) -> None:
        with self._lock:
            self._hung = False
            flows = list(self._flows.values())
        for flow in flows:
            flow.set()
        self._listen()

    def refuse(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)  # shut down first: a bare close leaves accept() listening

    def hang(self) -> None:
        with self._lock:
            self._hung = True
        self.stall()
        self._listen()

    def stall(self) -> None:
        with self._lock:
            flows = list(self._flows.values())
        for flow in flows:
            flow.clear()

    def cut(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
            flows, self._flows = list(self._flows.values()), {}
        for sock in sockets:
            _close(sock)
        for flow in flows:  # the threads waiting on them find their sockets closed and end
            flow.set()

    def stop(self) -> None:
        self.refuse()
        self.cut()

    # --- plumbing ------------------------------------------------------------------------
    def _listen(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self.address)
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # refused: the listener was closed
            flow = threading.Event()
            with self._lock:
                self.accepted += 1
                self._sockets.add(client)
                self._flows[client] = flow
                if not self._hung:
                    flow.set()
            threading.Thread(target=self._connect, args=(client, flow), daemon=True).start()

    def _connect(self, client: socket.socket, flow: threading.Event) -> None:
        flow.wait()  # hung: accepted, and nothing goes further
        try:
            upstream = socket.create_connection(self.target, timeout=2)
        except OSError:
            self._drop(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if client not in self._sockets:  # cut meanwhile
                _close(upstream)
                return
            self._sockets.add(upstream)
        for source, sink in ((client, upstream), (upstream, client)):
            args = (source, sink, flow)
            threading.Thread(target=self._pipe, args=args, daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, flow: threading.Event) -> None:
        try:
            while data := source.recv(65536):
                flow.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source)
            self._drop(sink)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
            self._flows.pop(sock, None)
        _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
