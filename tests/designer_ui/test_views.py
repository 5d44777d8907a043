"""The designer's Django pages (no browser): access, the flow list, the editor's shell."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from flows.models import PhoneNumber
from flows.services import flow_create, flow_publish

from .conftest import load_definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(publisher):
    return flow_create(definition=load_definition(), user=publisher)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_users_are_sent_to_the_login_page(flow):
    for url in ("/designer/", "/designer/flows/designer-test/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/accounts/login/?next={url}")


def test_login_page_looks_like_the_admin():
    response = Client().get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "admin/css/login.css" in html and 'id="login-form"' in html and "Callflow" in html


def test_login_form_signs_in_and_goes_to_the_list(viewer):
    client = Client()
    response = client.post(
        "/accounts/login/?next=/designer/", {"username": "vera", "password": "pw-vera"}
    )
    assert response.status_code == 302 and response["Location"] == "/designer/"


def test_a_user_without_a_role_is_refused(flow):
    nobody = User.objects.create_user("nobody", password="x")
    assert client_for(nobody).get("/designer/").status_code == 403
    assert client_for(nobody).get("/designer/flows/designer-test/").status_code == 403


def test_flow_list_shows_status_versions_numbers_and_who_changed(flow, viewer, publisher):
    PhoneNumber.objects.create(number="+442079460999", flow=flow)
    response = client_for(viewer).get("/designer/")
    row = response.context["rows"][0]
    assert (row["status"], row["published"], row["numbers"], row["nodes"]) == (
        "draft", None, ["+442079460999"], 5,
    )  # fmt: skip
    html = response.content.decode()
    assert "by pia" in html and "/api/flows/designer-test/export/" in html
    assert 'id="create-flow"' not in html and 'id="import-flows"' not in html  # a viewer

    flow_publish(flow=flow, user=publisher)
    row = client_for(viewer).get("/designer/").context["rows"][0]
    assert (row["status"], row["published"]) == ("published", 1)


def test_flow_list_search_finds_by_name_slug_and_number(flow, viewer):
    PhoneNumber.objects.create(number="+442079460999", flow=flow)
    client = client_for(viewer)
    for query, found in (("test line", 1), ("designer-te", 1), ("9460999", 1), ("nothing", 0)):
        assert len(client.get("/designer/", {"q": query}).context["rows"]) == found, query


def test_list_offers_create_to_editors_and_import_to_publishers(flow, editor, publisher):
    html = client_for(editor).get("/designer/").content.decode()
    assert 'id="create-flow"' in html and 'id="import-flows"' not in html
    html = client_for(publisher).get("/designer/").content.decode()
    assert 'id="create-flow"' in html and 'id="import-flows"' in html


def test_editor_page_carries_the_flow_and_the_user_rights(flow, editor, viewer):
    response = client_for(editor).get("/designer/flows/designer-test/")
    html = response.content.decode()
    assert "designer_ui/build/editor.js" in html and "designer_ui/build/editor.css" in html
    start = html.index('id="designer-config"')
    config = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert config == {
        "slug": "designer-test",
        "list_url": "/designer/",
        "analytics_url": "/designer/flows/designer-test/analytics/",
        "perms": {"can_edit": True, "can_publish": False},
    }
    html = client_for(viewer).get("/designer/flows/designer-test/").content.decode()
    assert '"can_edit": false' in html


def test_editor_for_an_unknown_flow_is_404(viewer):
    assert client_for(viewer).get("/designer/flows/nope/").status_code == 404


def test_built_assets_are_served(built_assets, viewer):
    client = client_for(viewer)
    for name in ("editor.js", "editor.css", "flowlist.js"):
        response = client.get(f"/static/designer_ui/build/{name}")
        assert response.status_code == 200, name


def test_flow_absolute_url_is_the_editor(flow):
    assert flow.get_absolute_url() == "/designer/flows/designer-test/"


def _analytics_config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="analytics-config" type="application/json">') + 54
    return json.loads(html[start : html.index("</script>", start)])


def test_the_analytics_page_asks_the_api_for_the_picked_period_and_versions(
    flow, viewer, publisher
):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    flow_publish(flow=flow, user=publisher)
    client = client_for(viewer)
    response = client.get("/designer/flows/designer-test/analytics/")
    assert response.status_code == 200
    config = _analytics_config(response)
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    assert config["query"] == {
        "since": (today - timedelta(days=29)).isoformat(),
        "until": today.isoformat(),
    }
    assert config["timezone"] == "Europe/London" and config["published"] == 1
    assert config["labels"]["main_menu"] == {"label": "Main menu", "type": "Menu"}
    html = response.content.decode()
    assert "analytics.js" in html and '<option value="1">v1 (published)</option>' in html

    custom = _analytics_config(
        client.get("/designer/flows/designer-test/analytics/?since=2026-07-01&until=2026-07-31")
    )
    assert custom["query"] == {"since": "2026-07-01", "until": "2026-07-31"}
    compared = _analytics_config(
        client.get("/designer/flows/designer-test/analytics/?period=all&version=2&compare=1")
    )
    assert compared["query"] == {"version": "2", "compare": "1"}
    # the list and the editor link to it
    assert (
        'href="/designer/flows/designer-test/analytics/"'
        in client.get("/designer/").content.decode()
    )
    editor = client.get("/designer/flows/designer-test/").content.decode()
    assert '"analytics_url": "/designer/flows/designer-test/analytics/"' in editor


def test_the_analytics_page_needs_a_role(flow):
    url = "/designer/flows/designer-test/analytics/"
    assert Client().get(url)["Location"].startswith(f"/accounts/login/?next={url}")
    nobody = User.objects.create_user("nobody", password="x")
    assert client_for(nobody).get(url).status_code == 403
    assert client_for(nobody).get("/designer/flows/nope/analytics/").status_code == 403
