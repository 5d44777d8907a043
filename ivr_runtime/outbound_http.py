"""Outbound HTTP of flows: the one seam between `http` / `self_service` nodes and the network.

An editor chooses the URL, so a request must not become a way into the network the service
runs in, nor hold a caller past the webhook's deadline:

- the host is resolved once and the request connects to an address that was vetted (no
  second lookup that a DNS answer could change); loopback, private, link-local, multicast
  and other non-public addresses (IPv4, IPv6, IPv4 inside IPv6) are refused before any
  connection, unless their network is in HTTP_NODE_ALLOWED_NETWORKS. The Host header, TLS
  SNI and the certificate check use the URL's name;
- redirects are followed here, at most MAX_REDIRECTS, each target vetted the same way;
- the whole exchange (lookup, connect, TLS, request, headers, body) ends by the earlier of
  the node's timeout and the webhook's deadline: every socket operation waits at most the
  time left, so a target that never answers, or drips a byte a second, is cut off;
- errors say what happened ("blocked address", "deadline exceeded", "HTTP 500") and
  nothing of what a refused address would have answered.

Inside `answered_by(answer)` nothing goes to the network: `answer(request)` is the result
(a flow test's declared answers, ivr_runtime.flowtests). Inside `recorded()` each request
and its result are listed (a simulated call's, which may be kept as a flow test).
"""

from __future__ import annotations

import base64
import functools
import http.client
import ipaddress
import json
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

import certifi
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from flows.nodes.runtime import HttpRequest, HttpResult
from ivr_runtime.turns.deadlines import Deadline

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: a node's own timeout is at most this (the node schemas say so too)
TIMEOUT_CAP = 5.0
#: the largest answer read
MAX_BYTES = 256 * 1024
MAX_REDIRECTS = 3

BLOCKED = "blocked address"
NOT_FOUND = "host not found"
NO_CONNECTION = "connection failed"
BAD_CERTIFICATE = "TLS certificate not valid"
TIMED_OUT = "timed out"
DEADLINE_EXCEEDED = "deadline exceeded"
BAD_URL = "not a valid URL"
BAD_HEADER = "not a valid header"
BAD_REDIRECT = "redirect to an invalid URL"
TOO_MANY_REDIRECTS = "too many redirects"
BAD_ANSWER = "not a valid HTTP answer"
TOO_LARGE = "answer too large"
NOT_JSON = "answer is not JSON"
MISCONFIGURED = "outbound HTTP is misconfigured (HTTP_NODE_ALLOWED_NETWORKS)"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: set by the connection itself; a node's value is dropped
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
#: not sent on to another origin after a redirect
_CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie"})
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_CHUNK = 16 * 1024


class _Failed(Exception):
    def __init__(self, error: str, status: int | None = None):
        super().__init__(error)
        self.error = error
        self.status = status


_ANSWER: ContextVar[Callable[[HttpRequest], HttpResult] | None] = ContextVar(
    "outbound_http_answer", default=None
)


@contextmanager
def answered_by(answer: Callable[[HttpRequest], HttpResult]) -> Iterator[None]:
    """Within this, `fetch` asks `answer` instead of the network."""
    token = _ANSWER.set(answer)
    try:
        yield
    finally:
        _ANSWER.reset(token)


_MADE: ContextVar[list[tuple[HttpRequest, HttpResult]] | None] = ContextVar(
    "outbound_http_made", default=None
)


@contextmanager
def recorded() -> Iterator[list[tuple[HttpRequest, HttpResult]]]:
    """Within this, each request `fetch` makes is listed with its result (what a simulated
    call's turn asked, kept as a flow test's answers)."""
    made: list[tuple[HttpRequest, HttpResult]] = []
    token = _MADE.set(made)
    try:
        yield made
    finally:
        _MADE.reset(token)


# --- the public entry ------------------------------------------------------------------------
def fetch(request: HttpRequest, *, deadline: Deadline) -> HttpResult:
    """Make a node's request within its timeout and `deadline` (the webhook's); the JSON
    answer, or what went wrong. Never raises."""
    answer = _ANSWER.get()
    result = answer(request) if answer is not None else _fetched(request, deadline)
    made = _MADE.get()
    if made is not None:
        made.append((request, result))
    return result


def _fetched(request: HttpRequest, deadline: Deadline) -> HttpResult:
    clock = _Clock.of(min(request.timeout, TIMEOUT_CAP), deadline)
    try:
        answer = _follow(request, clock)
    except _Failed as failed:
        return HttpResult(ok=False, status=failed.status, data=None, error=failed.error)
    except ImproperlyConfigured as exc:
        log.error("%s", exc)
        return HttpResult(ok=False, status=None, data=None, error=MISCONFIGURED)
    except Exception:
        log.exception("outbound HTTP request failed")
        return HttpResult(ok=False, status=None, data=None, error="request failed")
    if not 200 <= answer.status < 300:
        return HttpResult(ok=False, status=answer.status, data=None, error=f"HTTP {answer.status}")
    try:
        text = answer.body.decode(answer.charset or "utf-8")
        data = json.loads(text) if text.strip() else None
    except (ValueError, LookupError):
        return HttpResult(ok=False, status=answer.status, data=None, error=NOT_JSON)
    return HttpResult(ok=True, status=answer.status, data=data)


# --- which addresses a request may reach -----------------------------------------------------
def allowed_networks() -> tuple[IPNetwork, ...]:
    """HTTP_NODE_ALLOWED_NETWORKS parsed (a list of CIDRs, or one comma-separated string)."""
    value = settings.HTTP_NODE_ALLOWED_NETWORKS
    entries = value.split(",") if isinstance(value, str) else list(value or ())
    return _parse_networks(tuple(str(e).strip() for e in entries if str(e).strip()))


@functools.lru_cache(maxsize=16)
def _parse_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"HTTP_NODE_ALLOWED_NETWORKS: {entry!r} is not a network in CIDR notation "
                "(e.g. 10.20.0.0/16 or 127.0.0.1/32)"
            ) from None
    return tuple(networks)


def permitted(address: IPAddress) -> IPAddress | None:
    """The address to connect to for `address` (an IPv4-mapped IPv6 address gives its IPv4
    one), or None when it is not public and no allowed network holds it."""
    allowed = allowed_networks()
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    target = mapped or address
    if any(a in net for net in allowed for a in (address, target)):
        return target
    if _not_public(target):
        return None
    for inner in _embedded_ipv4(target):
        if _not_public(inner) and not any(inner in net for net in allowed):
            return None
    return target


def _not_public(address: IPAddress) -> bool:
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def _embedded_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries to (6to4, Teredo, NAT64, IPv4-compatible)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return ()
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo
    if any(address in net for net in _NAT64) or address in _IPV4_COMPATIBLE:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    return ()


# --- time ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Clock:
    """When a request must be over, and what to call it when it is not."""

    at: float
    late: str

    @classmethod
    def of(cls, timeout: float, deadline: Deadline) -> _Clock:
        own = time.monotonic() + timeout
        # what follows the last request (the turn's writes, its TwiML) must fit before it
        webhook = deadline.http_until()
        return cls(own, TIMED_OUT) if own < webhook else cls(webhook, DEADLINE_EXCEEDED)

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise _Failed(self.late)
        return left


class _Timed:
    """A socket whose every wait is bounded by the time left before `deadline`."""

    deadline: float

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline")
        self.settimeout(left)  # type: ignore[attr-defined]

    def recv(self, *args: Any) -> bytes:
        self._arm()
        return super().recv(*args)  # type: ignore[misc]

    def recv_into(self, *args: Any) -> int:
        self._arm()
        return super().recv_into(*args)  # type: ignore[misc]

    def sendall(self, *args: Any) -> None:
        self._arm()
        return super().sendall(*args)  # type: ignore[misc]


class _TimedSocket(_Timed, socket.socket):
    pass


class _TimedTLSSocket(_Timed, ssl.SSLSocket):
    pass


class _TLSContext(ssl.SSLContext):
    sslsocket_class = _TimedTLSSocket


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """Certificates and host names checked, against certifi's roots (or REQUESTS_CA_BUNDLE /
    SSL_CERT_FILE, as for the service's other HTTPS clients)."""
    context = _TLSContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    context.load_verify_locations(cafile=bundle or certifi.where())
    return context


# --- one request, its redirects --------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA), without brackets
    port: int
    path: str
    auth: str | None  # a Basic Authorization from the URL's user:password

    @classmethod
    def of(cls, url: str) -> _Target:
        try:
            parts = urlsplit(url)
            port = parts.port
            host = parts.hostname or ""
            if host and not host.isascii():
                host = host.encode("idna").decode("ascii")
        except (ValueError, UnicodeError):
            raise _Failed(BAD_URL) from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not host:
            raise _Failed(BAD_URL)
        return cls(
            scheme=scheme,
            host=host,
            port=port or (443 if scheme == "https" else 80),
            path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            auth=_basic_auth(parts),
        )

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def _basic_auth(parts: SplitResult) -> str | None:
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


@dataclass(frozen=True)
class _Answer:
    status: int
    location: str | None
    body: bytes
    charset: str | None


def _follow(request: HttpRequest, clock: _Clock) -> _Answer:
    """The request, and the redirects it answers with (each target vetted again)."""
    method = request.method.upper()
    body, headers = _body_and_headers(request)
    url = request.url
    target = _Target.of(url)
    for _ in range(MAX_REDIRECTS + 1):
        clock.left()  # no time left: fail at once, before any lookup
        answer = _exchange(target, method, headers, body, clock)
        if answer.location is None:
            return answer
        url = urljoin(url, answer.location)
        try:
            following = _Target.of(url)
        except _Failed:
            raise _Failed(BAD_REDIRECT, answer.status) from None
        if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        if following.origin != target.origin:
            headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIALS}
        target = following
    raise _Failed(TOO_MANY_REDIRECTS)


def _body_and_headers(request: HttpRequest) -> tuple[bytes | None, dict[str, str]]:
    headers = {"User-Agent": "Callflow", "Accept": "*/*"}
    for name, value in request.headers:
        if name.lower() not in _OWN_HEADERS:
            headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
            headers[name] = value
    if request.body is not None:
        return request.body.encode(), headers
    if request.json_body is not None:
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        return json.dumps(request.json_body).encode(), headers
    return None, headers


def _exchange(
    target: _Target, method: str, headers: dict[str, str], body: bytes | None, clock: _Clock
) -> _Answer:
    """One request to one target, on the first of its vetted addresses that connects."""
    if target.auth and not any(k.lower() == "authorization" for k in headers):
        headers = {**headers, "Authorization": target.auth}
    addresses = _addresses(target, clock)
    for n, address in enumerate(addresses):
        connection = _Connection(target, address, clock)
        try:
            connection.connect()
        except (TimeoutError, _Failed):
            connection.close()
            raise _Failed(clock.late) from None
        except ssl.SSLCertVerificationError:
            connection.close()
            raise _Failed(BAD_CERTIFICATE) from None
        except OSError:
            connection.close()
            if n + 1 < len(addresses):
                continue
            raise _Failed(NO_CONNECTION) from None
        try:
            return _converse(connection, target, method, headers, body, clock)
        finally:
            connection.close()
    raise _Failed(NO_CONNECTION)


def _converse(
    connection: _Connection,
    target: _Target,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    clock: _Clock,
) -> _Answer:
    try:
        try:
            connection.request(method, target.path, body=body, headers=headers)
        except http.client.InvalidURL:  # a control character in the path
            raise _Failed(BAD_URL) from None
        except ValueError:  # a header name or value with a line break, or not Latin-1
            raise _Failed(BAD_HEADER) from None
        response = connection.getresponse()
        status = response.status
        location = response.getheader("Location") if status in _REDIRECTS else None
        if location is not None:
            return _Answer(status=status, location=location.strip(), body=b"", charset=None)
        return _Answer(
            status=status,
            location=None,
            body=_read(response, status, clock),
            charset=response.headers.get_content_charset(),
        )
    except TimeoutError:
        raise _Failed(clock.late) from None
    except http.client.HTTPException:
        raise _Failed(BAD_ANSWER) from None
    except OSError:
        raise _Failed(NO_CONNECTION) from None


def _read(response: http.client.HTTPResponse, status: int, clock: _Clock) -> bytes:
    """The body, one socket read at a time, each bounded by the time left."""
    if (response.length or 0) > MAX_BYTES:
        raise _Failed(TOO_LARGE, status)
    chunks: list[bytes] = []
    size = 0
    while True:
        clock.left()
        chunk = response.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BYTES:
            raise _Failed(TOO_LARGE, status)
        chunks.append(chunk)


def _addresses(target: _Target, clock: _Clock) -> list[IPAddress]:
    """The host's addresses that may be reached (resolved once); BLOCKED when none may."""
    try:
        found: list[IPAddress] = [ipaddress.ip_address(target.host)]
    except ValueError:
        found = _resolve(target.host, target.port, clock)
    addresses: list[IPAddress] = []
    for address in found:
        vetted = permitted(address)
        if vetted is not None and vetted not in addresses:
            addresses.append(vetted)
    if not addresses:
        raise _Failed(BLOCKED)
    return addresses


def _resolve(host: str, port: int, clock: _Clock) -> list[IPAddress]:
    """getaddrinfo, given no more than the time left (the resolver's own timeouts are
    longer): in a thread that is left to finish on its own if it takes longer."""
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            box["infos"] = []

    thread = threading.Thread(target=lookup, name="outbound-http-lookup", daemon=True)
    thread.start()
    thread.join(clock.left())
    if "infos" not in box:
        raise _Failed(clock.late)
    found = []
    for family, _, _, _, sockaddr in box["infos"]:
        if family in (socket.AF_INET, socket.AF_INET6):
            found.append(ipaddress.ip_address(sockaddr[0]))
    if not found:
        raise _Failed(NOT_FOUND)
    return found


class _Connection(http.client.HTTPConnection):
    """http.client's connection, made to one vetted address, named by the URL's host."""

    def __init__(self, target: _Target, address: IPAddress, clock: _Clock):
        super().__init__(target.host, target.port)
        self.default_port = 443 if target.scheme == "https" else 80
        self._target = target
        self._address = address
        self._clock = clock

    def connect(self) -> None:
        family = socket.AF_INET if self._address.version == 4 else socket.AF_INET6
        sock: socket.socket = _TimedSocket(family, socket.SOCK_STREAM)
        sock.deadline = self._clock.at  # type: ignore[attr-defined]
        try:
            sock.settimeout(self._clock.left())
            sock.connect((str(self._address), self._target.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._target.scheme == "https":
                sock.settimeout(self._clock.left())
                sock = _tls_context().wrap_socket(sock, server_hostname=self._target.host)
                sock.deadline = self._clock.at  # type: ignore[attr-defined]
        except BaseException:
            sock.close()
            raise
        self.sock = sock
