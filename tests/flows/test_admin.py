"""The admin: flows link to the designer, versions are read-only."""

import pytest
from django.contrib.auth.models import User

from flows import numbers, services
from flows.models import FlowVersion
from tests.flows.spec_helpers import simple_flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("root", password="pw")
    client.force_login(user)
    return client


@pytest.fixture
def acme():
    flow = services.flow_create(definition=simple_flow("acme"))
    services.flow_publish(flow=flow, note="first")
    numbers.number_bind(number="+442079460001", flow=flow)
    return flow


def test_the_flow_list_shows_status_numbers_and_a_designer_link(admin_client, acme):
    page = admin_client.get("/admin/flows/flow/").content.decode()
    assert "+442079460001" in page and "published" in page
    assert '<a href="/designer/flows/acme/">Open in designer</a>' in page
    assert "acme" in admin_client.get("/admin/flows/flow/?q=4420794600").content.decode()


def test_the_flow_page_shows_the_draft_and_its_numbers(admin_client, acme):
    page = admin_client.get(f"/admin/flows/flow/{acme.pk}/change/").content.decode()
    assert "&quot;format&quot;: &quot;callflow/1&quot;" in page
    assert "+442079460001" in page
    assert 'name="name"' not in page and 'name="slug"' not in page  # changed with the definition
    assert 'name="numbers-0-number"' in page


def test_versions_are_read_only(admin_client, acme):
    version = FlowVersion.objects.get()
    page = admin_client.get(f"/admin/flows/flowversion/{version.pk}/change/")
    assert page.status_code == 200
    assert "&quot;slug&quot;: &quot;acme&quot;" in page.content.decode()
    assert admin_client.get("/admin/flows/flowversion/add/").status_code == 403
    admin_client.post(f"/admin/flows/flowversion/{version.pk}/change/", {"note": "edited"})
    admin_client.post(f"/admin/flows/flowversion/{version.pk}/delete/", {"post": "yes"})
    assert FlowVersion.objects.get().note == "first"


def test_a_number_that_is_not_e164_is_refused(admin_client, acme):
    page = admin_client.post(
        "/admin/flows/phonenumber/add/", {"number": "020 7946 0002", "flow": acme.pk, "label": ""}
    )
    assert page.status_code == 200 and "E.164" in page.content.decode()
    admin_client.post(
        "/admin/flows/phonenumber/add/", {"number": "+442079460002", "flow": acme.pk, "label": "x"}
    )
    assert acme.numbers.count() == 2
