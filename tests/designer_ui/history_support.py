"""Calls placed through the signed webhooks for the history pages' tests."""

from __future__ import annotations

import pytest
from django.test import Client

from ivr_runtime.models import Customer
from ivr_runtime.turns import definitions
from tests.ivr_runtime.history_flows import CALLER, place_history
from tests.ivr_runtime.http_server import RecordServer
from tests.ivr_runtime.twilio_driver import TOKEN, Signer


@pytest.fixture
def history(settings) -> dict[str, str]:
    """The five calls of tests.ivr_runtime.history_flows, Ann's number calling: SID by outcome."""
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = ""
    settings.TWILIO_VALIDATE_SIGNATURES = True
    settings.HTTP_NODE_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    definitions.clear()
    Customer.objects.create(name="Ann Example", phone=CALLER, account_number="1001", tier="gold")
    server = RecordServer()
    try:
        yield place_history(Signer(Client()), server.url)
    finally:
        server.stop()
        definitions.clear()
