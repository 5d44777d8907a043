"""The directory loader and command, and the runtime's admin pages."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from ivr_runtime.models import Agent, CallSession, Customer, OutboundMessage

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db


def test_load_directory_hashes_pins_and_is_idempotent(capsys):
    call_command("load_directory")
    ada = Customer.objects.get(account_number="12345678")
    assert ada.pin_hash.startswith("pbkdf2_sha256_pin$") and "4321" not in ada.pin_hash
    assert ada.check_pin("4321") and not ada.check_pin("1234")
    hashes = dict(Customer.objects.values_list("account_number", "pin_hash"))
    sam = Agent.objects.get(name="Sam Okafor")
    assert set(sam.skills.values_list("name", flat=True)) == {"cards", "fraud"}
    capsys.readouterr()
    call_command("load_directory")
    assert "0 created, 0 updated; agents: 0 created, 0 updated" in capsys.readouterr().out
    assert dict(Customer.objects.values_list("account_number", "pin_hash")) == hashes
    skills = {s for a in Agent.objects.all() for s in a.skills.values_list("name", flat=True)}
    assert {"cards", "fraud", "bookings", "complaints"} <= skills


@pytest.fixture
def admin_client_logged_in(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_admin_pages_render(admin_client_logged_in, place_call):
    publish(
        flow_definition(
            "adm",
            [
                {"id": "t", "type": "sms", "config": {"body": "hi"}, "exits": {"next": "b"}},
                {"id": "b", "type": "hangup", "config": {}, "exits": {}},
            ],
        ),
        "+442079460105",
    )
    call = place_call("+442079460105")
    call_command("load_directory")
    session = CallSession.objects.get(call_sid=call.sid)
    c = admin_client_logged_in
    for url in [
        "/admin/ivr_runtime/callsession/",
        f"/admin/ivr_runtime/callsession/{session.pk}/change/",
        "/admin/ivr_runtime/outboundmessage/",
        f"/admin/ivr_runtime/outboundmessage/{OutboundMessage.objects.get().pk}/change/",
        "/admin/ivr_runtime/callbackrequest/",
        "/admin/ivr_runtime/recording/",
        "/admin/ivr_runtime/customer/",
        "/admin/ivr_runtime/agent/",
        "/admin/ivr_runtime/agent/add/",
        "/admin/ivr_runtime/customer/add/",
    ]:
        response = c.get(url)
        assert response.status_code == 200, url
    assert b"hangup" in c.get(f"/admin/ivr_runtime/callsession/{session.pk}/change/").content


def test_admin_sets_a_customer_pin_hashed(admin_client_logged_in):
    response = admin_client_logged_in.post(
        "/admin/ivr_runtime/customer/add/",
        {
            "name": "Eve",
            "phone": "+447700900321",
            "account_number": "99887766",
            "tier": "gold",
            "active": "on",
            "pin": "8642",
        },
    )
    assert response.status_code == 302, response.content[:500]
    eve = Customer.objects.get(account_number="99887766")
    assert eve.check_pin("8642") and "8642" not in eve.pin_hash
    response = admin_client_logged_in.post(
        f"/admin/ivr_runtime/customer/{eve.pk}/change/",
        {
            "name": "Eve A",
            "phone": "+447700900321",
            "account_number": "99887766",
            "tier": "gold",
            "active": "on",
            "pin": "",
        },
    )
    assert response.status_code == 302
    eve.refresh_from_db()
    assert eve.name == "Eve A" and eve.check_pin("8642")
    # "²" passes str.isdigit but no keypad can enter it
    refused = admin_client_logged_in.post(
        f"/admin/ivr_runtime/customer/{eve.pk}/change/",
        {"name": "Eve A", "account_number": "99887766", "tier": "gold", "pin": "²²²²"},
    )
    assert refused.status_code == 200 and "A PIN is digits only." in refused.content.decode()
    eve.refresh_from_db()
    assert eve.check_pin("8642")


def test_a_pin_hashed_as_a_password_is_still_checked():
    # PINs stored before they had a hasher of their own were password hashes
    from django.contrib.auth.hashers import make_password

    customer = Customer(name="Old", account_number="99", pin_hash=make_password("2468"))
    assert customer.check_pin("2468") and not customer.check_pin("1357")
    customer.set_pin("2468")
    assert customer.pin_hash.startswith("pbkdf2_sha256_pin$") and customer.check_pin("2468")
