"""Fixtures for the runtime: a signed Twilio, published flows, clean caches (definitions,
the numbers' flows)."""

from __future__ import annotations

from typing import Any

import pytest

from flows.models import Flow, FlowVersion, PhoneNumber
from ivr_runtime.turns import definitions, sessions

from .twilio_driver import TOKEN, Call, Signer


@pytest.fixture(autouse=True)
def _twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = ""
    settings.TWILIO_VALIDATE_SIGNATURES = True
    settings.DEBUG = False
    # PINs are hashed like passwords; a fast hasher keeps the suite quick (production uses Django's default).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    definitions.clear()
    sessions.forget_flows()
    yield
    definitions.clear()
    sessions.forget_flows()


@pytest.fixture
def signer(client) -> Signer:
    return Signer(client)


#: a branch rule: a machine answered the call (answering-machine detection, call.answered_by)
ANSWERED_BY_MACHINE = {
    "exit": "machine",
    "var": "call.answered_by",
    "op": "starts_with",
    "value": "machine",
}


def flow_definition(slug: str, nodes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    definition = {
        "format": "callflow/1",
        "slug": slug,
        "name": slug.title(),
        "timezone": "Europe/London",
        "language": "en-GB",
        "start": nodes[0]["id"],
        "nodes": nodes,
    }
    definition.update(extra)
    return definition


def two_menus(slug: str, *, again_one: str = "bye") -> dict[str, Any]:
    """Two menus in a row then a hang-up: a call that waits twice (1 then 2 ends it)."""
    return flow_definition(
        slug,
        [
            {
                "id": "menu",
                "type": "menu",
                "config": {"prompt": "Press 1.", "options": [{"key": "1"}, {"key": "2"}]},
                "exits": {"1": "again", "2": "bye", "no_input": "bye", "no_match": "bye"},
            },
            {
                "id": "again",
                "type": "menu",
                "config": {"prompt": "Press 2.", "options": [{"key": "1"}, {"key": "2"}]},
                "exits": {"1": again_one, "2": "bye", "no_input": "bye", "no_match": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}},
        ],
    )


def publish(definition: dict[str, Any], number: str | None = None) -> FlowVersion:
    """Publish a definition as the next version of its flow (and bind a number)."""
    flow, _ = Flow.objects.get_or_create(
        slug=definition["slug"], defaults={"name": definition["name"], "definition": definition}
    )
    flow.definition = definition
    last = flow.versions.order_by("-number").first()
    version = FlowVersion.objects.create(
        flow=flow, number=(last.number + 1) if last else 1, definition=definition
    )
    flow.published_version = version
    flow.save(update_fields=["definition", "published_version"])
    if number:
        PhoneNumber.objects.update_or_create(number=number, defaults={"flow": flow})
    return version


@pytest.fixture
def place_call(signer):
    def place(to: str, caller: str = "+447700900123", path: str = "/ivr/voice") -> Call:
        return Call(signer, to=to, caller=caller).start(path)

    return place


@pytest.fixture
def record_server(settings):
    from .http_server import RecordServer

    # a local target: http nodes reach loopback only where it is allowed
    settings.HTTP_NODE_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = RecordServer()
    yield server
    server.stop()
