"""Outbound HTTP of `http` and `self_service` nodes: which addresses a request may reach
(checked on the resolved address, redirects included), and one deadline per webhook for all
of its requests, measured as total time. Against real local servers."""

from __future__ import annotations

import subprocess
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from flows.nodes.runtime import HttpRequest
from ivr_runtime import outbound_http
from ivr_runtime.models import CallStep
from ivr_runtime.turns.deadlines import Deadline

from .conftest import flow_definition, publish
from .fault_servers import DripServer, RouteServer, SilentServer, json_answer, redirect

NUMBER = "+442079460177"
LOOPBACK = ["127.0.0.1/32"]


def fetch(url: str, *, timeout: float = 3.0, deadline: float = 10.0, **request):
    return outbound_http.fetch(
        HttpRequest(url=url, timeout=timeout, **request), deadline=Deadline.after(deadline)
    )


@pytest.fixture
def target():
    server = RouteServer(
        {
            "/customer": lambda h, b: json_answer({"tier": "gold"}),
            "/echo": lambda h, b: json_answer(
                {
                    "method": h.command,
                    "host": h.headers.get("Host"),
                    "body": b.decode(),
                    "auth": h.headers.get("Authorization"),
                }
            ),
            "/error": lambda h, b: json_answer({"error": "boom"}, status=500),
            "/html": lambda h, b: (200, {"Content-Type": "text/html"}, b"<html></html>"),
            "/big": lambda h, b: json_answer({"pad": "x" * (300 * 1024)}),
            "/to": lambda h, b: redirect(h.path.split("url=", 1)[1]),
            "/see-other": lambda h, b: redirect("/echo", status=303),
            "/loop": lambda h, b: redirect("/loop"),
        }
    )
    yield server
    server.stop()


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.stop()


# --- which addresses ---------------------------------------------------------------------------
BLOCKED_HOSTS = [
    "127.0.0.1",  # loopback
    "localhost",  # a name that resolves to loopback (127.0.0.1 and ::1)
    "127.1",  # a shorthand the resolver turns into 127.0.0.1
    "[::1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
    "[64:ff9b::7f00:1]",  # NAT64 of loopback
    "[2002:7f00:1::]",  # 6to4 of loopback
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "[fc00::1]",  # unique local
    "169.254.169.254",  # link-local: the cloud metadata service
    "[fe80::1]",
    "224.0.0.1",  # multicast
    "[ff02::1]",
    "0.0.0.0",
    "100.64.0.1",  # shared address space (carrier NAT)
]


@pytest.mark.parametrize("host", BLOCKED_HOSTS)
def test_non_public_addresses_are_refused_by_default(target, host):
    started = time.monotonic()
    result = fetch(f"http://{host}:{target.port}/customer")
    assert (result.ok, result.status, result.data, result.error) == (
        False,
        None,
        None,
        "blocked address",
    )
    assert target.requests == []
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("port_state", ["open", "closed", "silent"])
def test_a_blocked_address_says_the_same_whatever_listens_there(target, silent, port_state):
    """No port scan through the error text: refused before connecting."""
    port = {"open": target.port, "closed": 1, "silent": silent.port}[port_state]
    started = time.monotonic()
    assert fetch(f"http://127.0.0.1:{port}/customer", deadline=2).error == "blocked address"
    assert time.monotonic() - started < 0.5
    assert silent.connections == 0


def test_allowed_networks_open_loopback(settings, target):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    for host in ("127.0.0.1", "localhost", "[::ffff:127.0.0.1]"):
        result = fetch(target.url("/customer", host=host.strip("[]")))
        assert (result.ok, result.status, result.data) == (True, 200, {"tier": "gold"}), host
    # the network listed, not the whole of loopback
    assert fetch(f"http://127.0.0.2:{target.port}/customer").error == "blocked address"


def test_allowed_networks_as_a_comma_separated_string(settings, target):
    settings.HTTP_NODE_ALLOWED_NETWORKS = "10.0.0.0/8, 127.0.0.0/8"
    assert fetch(target.url("/customer")).ok


def test_a_bad_allowed_network_is_named(settings, target):
    settings.HTTP_NODE_ALLOWED_NETWORKS = ["127.0.0.1/32", "intranet"]
    with pytest.raises(ImproperlyConfigured, match="HTTP_NODE_ALLOWED_NETWORKS: 'intranet'"):
        outbound_http.allowed_networks()
    result = fetch(target.url("/customer"))
    assert (result.ok, result.error) == (False, outbound_http.MISCONFIGURED)
    assert target.requests == []


# --- redirects ---------------------------------------------------------------------------------
@pytest.fixture
def other_loopback():
    """A server on 127.0.0.2: loopback, outside the allowed 127.0.0.1/32."""
    server = RouteServer({"/customer": lambda h, b: json_answer({"secret": 1})}, host="127.0.0.2")
    yield server
    server.stop()


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/customer",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/customer",
    ],
)
def test_a_redirect_to_a_blocked_address_is_refused(settings, target, other_loopback, location):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    result = fetch(target.url("/to?url=" + location.format(port=other_loopback.port)))
    assert (result.ok, result.error) == (False, "blocked address")
    assert [path for _, path, _, _ in target.requests] == [target.requests[0][1]]
    assert other_loopback.requests == []


def test_redirects_are_followed_and_vetted_again(settings, target):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    result = fetch(target.url("/to?url=" + target.url("/customer")))
    assert (result.ok, result.data) == (True, {"tier": "gold"})
    # 303 after a POST: the answer is fetched with GET, without the body
    result = fetch(target.url("/see-other"), method="POST", body="a=1")
    assert result.data == {
        "method": "GET",
        "host": f"127.0.0.1:{target.port}",
        "body": "",
        "auth": None,
    }
    assert fetch(target.url("/loop")).error == "too many redirects"
    assert len(target.requests) == 2 + 2 + 1 + outbound_http.MAX_REDIRECTS
    assert fetch(target.url("/to?url=file:///etc/passwd")).error == "redirect to an invalid URL"


def test_credentials_do_not_follow_a_redirect_to_another_origin(settings, target):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    other = target.url("/echo", host="localhost")  # another origin, the same server
    result = fetch(target.url("/to?url=" + other), headers=(("Authorization", "Bearer s3cret"),))
    assert result.data["auth"] is None and result.data["host"] == f"localhost:{target.port}"
    result = fetch(target.url("/to?url=/echo"), headers=(("Authorization", "Bearer s3cret"),))
    assert result.data["auth"] == "Bearer s3cret"


# --- answers -----------------------------------------------------------------------------------
def test_answers_and_their_errors(settings, target):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    result = fetch(target.url("/echo"), method="PUT", json_body={"a": 1})
    assert result.data == {
        "method": "PUT",
        "host": f"127.0.0.1:{target.port}",
        "body": '{"a": 1}',
        "auth": None,
    }
    assert (fetch(target.url("/error")).status, fetch(target.url("/error")).error) == (
        500,
        "HTTP 500",
    )
    assert fetch(target.url("/html")).error == "answer is not JSON"
    assert fetch(target.url("/big")).error == "answer too large"
    assert fetch(target.url("/echo"), headers=(("X-A", "1\r\nX-B: 2"),)).error == (
        "not a valid header"
    )
    assert fetch("http://127.0.0.1:1/").error == "connection failed"
    assert fetch("http://no-such-host.invalid/").error == "host not found"


# --- time --------------------------------------------------------------------------------------
def test_a_target_that_never_answers_ends_at_the_deadline(settings, silent):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    started = time.monotonic()
    result = fetch(silent.url(), timeout=5, deadline=1.0)
    elapsed = time.monotonic() - started
    assert (result.ok, result.error) == (False, "deadline exceeded")
    assert 0.85 - 0.05 < elapsed < 1.4  # the deadline, not the 5 s timeout (load adds a little)
    # the node's own timeout, when it comes first
    started = time.monotonic()
    assert fetch(silent.url(), timeout=0.5, deadline=10).error == "timed out"
    assert 0.45 < time.monotonic() - started < 0.8


@pytest.mark.parametrize("body", [False, True], ids=["headers", "body"])
def test_a_dripping_target_ends_at_the_deadline(settings, body):
    """A byte a second never lets one read time out: the deadline is total time."""
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    server = DripServer(interval=0.2, body=body)
    try:
        started = time.monotonic()
        result = fetch(server.url(), timeout=5, deadline=1.5)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert (result.ok, result.error) == (False, "deadline exceeded")
    assert elapsed < 1.5


def test_no_time_left_fails_at_once(settings, silent):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    started = time.monotonic()
    assert fetch(silent.url(), deadline=0).error == "deadline exceeded"
    assert fetch("http://no-such-host.invalid/", deadline=0).error == "deadline exceeded"
    assert time.monotonic() - started < 0.1
    assert silent.connections == 0


# --- TLS: the vetted address, the URL's name ---------------------------------------------------
@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A test CA and a server certificate for the name `localhost`."""
    folder = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        "req",
        "-x509",
        *key,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Callflow test CA",
    )
    openssl("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "ext.cnf").write_text(
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    return folder


@pytest.fixture
def tls_target(certificates, monkeypatch):
    import ssl

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates / "ca.pem"))
    outbound_http._tls_context.cache_clear()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates / "server.pem", certificates / "server.key")
    server = RouteServer(
        {"/echo": lambda h, b: json_answer({"host": h.headers["Host"]})}, tls=context
    )
    yield server
    server.stop()
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    outbound_http._tls_context.cache_clear()


def test_tls_is_checked_for_the_name_while_connecting_to_the_vetted_address(settings, tls_target):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    result = fetch(tls_target.url("/echo", host="localhost"))
    assert (result.ok, result.data) == (True, {"host": f"localhost:{tls_target.port}"})
    assert tls_target.server_names == ["localhost"]
    # the certificate names localhost, not the address
    assert fetch(tls_target.url("/echo")).error == "TLS certificate not valid"


# --- whole webhooks ----------------------------------------------------------------------------
def chain(url: str, *, count: int = 4, node: str = "http") -> None:
    """`count` http nodes in a row, each going on to the next whatever it answers."""
    nodes = []
    for n in range(count):
        following = f"h{n + 1}" if n + 1 < count else "end"
        nodes.append(
            {
                "id": f"h{n}",
                "type": "http",
                "config": {"url": url, "timeout": 5},
                "exits": {"success": following, "failure": following},
            }
        )
    nodes.append(
        {"id": "end", "type": "hangup", "config": {"text": "Thanks, goodbye."}, "exits": {}}
    )
    publish(flow_definition("chained", nodes), NUMBER)


def inputs(call) -> list[tuple[str, str, str]]:
    steps = CallStep.objects.filter(session__call_sid=call.sid).order_by("index")
    return list(steps.values_list("node_id", "exit", "input"))


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["silent", "drip"])
def test_chained_requests_share_the_webhook_deadline(settings, place_call, kind):
    """Four http nodes to a target that never answers (or drips a byte a second): the webhook
    answers in about WEBHOOK_DEADLINE_SECONDS, with the flow carried on by `failure`."""
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    # the turn is written between the requests' end (0.85 of it) and the watchdog (0.9 of
    # it): long enough a deadline that a loaded machine writes in that window
    settings.WEBHOOK_DEADLINE_SECONDS = 4.0
    server = SilentServer() if kind == "silent" else DripServer(interval=1.0)
    try:
        chain(server.url("/lookup"))
        place_call("+441632960000")  # a first webhook loads the URLs and views: not timed
        started = time.monotonic()
        call = place_call(NUMBER)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert call.requests == 1
    assert call.heard == ["Thanks, goodbye."] and call.ended
    assert 3.4 - 0.05 < elapsed < 4.4  # one shared deadline, not four timeouts (load adds a little)
    assert inputs(call)[:4] == [(f"h{n}", "failure", "deadline exceeded") for n in range(4)]
    assert server.connections == 1  # the later nodes had no time left: not even a connection


@pytest.mark.django_db
def test_an_http_node_cannot_reach_a_blocked_address(place_call, target):
    chain(target.url("/customer"), count=1)
    call = place_call(NUMBER)
    assert call.heard == ["Thanks, goodbye."]
    assert inputs(call)[0] == ("h0", "failure", "blocked address")
    assert target.requests == []


@pytest.mark.django_db
def test_a_self_service_lookup_cannot_reach_the_metadata_service(place_call):
    publish(
        flow_definition(
            "lookup",
            [
                {
                    "id": "balance",
                    "type": "self_service",
                    "config": {
                        "mode": "lookup_say",
                        "url": "http://169.254.169.254/latest/meta-data/iam/",
                        "say": "Your keys are {{ nodes.balance.response }}.",
                    },
                    "exits": {"done": "end", "failed": "end"},
                },
                {"id": "end", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    call = place_call(NUMBER)
    assert call.heard == ["Goodbye."]
    assert inputs(call)[0] == ("balance", "failed", "blocked address")


@pytest.mark.django_db
def test_the_simulator_cannot_read_a_blocked_address(editor_api, target):
    chain(target.url("/customer"), count=1)
    response = editor_api.post(
        "/api/flows/chained/simulate/", {"event": {"type": "start"}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert "gold" not in response.content.decode()
    assert target.requests == []


@pytest.mark.django_db
def test_a_failed_request_says_why_in_its_step(settings, place_call, target):
    settings.HTTP_NODE_ALLOWED_NETWORKS = LOOPBACK
    chain(target.url("/error"), count=1)
    assert inputs(place_call(NUMBER))[0] == ("h0", "failure", "HTTP 500")
    chain(target.url("/big"), count=1)
    assert inputs(place_call(NUMBER))[0] == ("h0", "failure", "answer too large")
    chain(target.url("/customer"), count=1)
    assert inputs(place_call(NUMBER))[0] == ("h0", "success", "200")
