"""The call history pages (no browser): access, the list's search and filters, a call's
timeline, a customer's timeline."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ivr_runtime.models import Customer

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def calls_on(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('data-call="')[1:]]


def test_anonymous_users_are_sent_to_the_login_page(history):
    customer = Customer.objects.get()
    for url in (
        "/designer/calls/",
        f"/designer/calls/{history['routed']}/",
        f"/designer/customers/{customer.pk}/",
    ):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/accounts/login/?next={url}")


def test_a_user_without_a_role_is_refused(history):
    client = client_for(User.objects.create_user("nobody"))
    assert client.get("/designer/calls/").status_code == 403
    assert client.get(f"/designer/calls/{history['routed']}/").status_code == 403


def test_the_list_searches_and_filters(history, viewer):
    client = client_for(viewer)
    html = client.get("/designer/calls/").content.decode()
    assert calls_on(html) == [
        history[o] for o in ("callback", "voicemail", "abandoned", "self_served", "routed")
    ]
    assert "Routed to a person" in html and "at queue" in html
    html = client.get("/designer/calls/?search=07700+900123&outcome=voicemail").content.decode()
    assert calls_on(html) == [history["voicemail"]]
    assert 'href="/api/calls/export.csv?search=07700+900123&amp;outcome=voicemail"' in html
    html = client.get("/designer/calls/?period=day&direction=inbound&flow=support").content.decode()
    assert len(calls_on(html)) == 5
    html = client.get("/designer/calls/?since=2999-01-01").content.decode()
    assert calls_on(html) == [] and "No call matches these filters." in html


def test_bad_filters_say_which(history, viewer):
    client = client_for(viewer)
    html = client.get("/designer/calls/?since=soon").content.decode()
    assert 'id="filter-errors"' in html and "<li>since: an ISO 8601 date" in html
    html = client.get("/designer/calls/?version=2").content.decode()
    assert "<li>version: a version needs its flow" in html and calls_on(html) == []


def test_the_list_pages_by_keyset(history, viewer, monkeypatch):
    from designer_ui import history_views

    monkeypatch.setattr(history_views, "PAGE", 2)
    client = client_for(viewer)
    seen, url = [], "/designer/calls/"
    while url:
        html = client.get(url).content.decode()
        seen += calls_on(html)
        url = (
            (
                "/designer/calls/"
                + html.split('id="older-calls"')[0]
                .rsplit('href="', 1)[1]
                .split('"')[0]
                .replace("&amp;", "&")
            )
            if 'id="older-calls"' in html
            else ""
        )
    assert seen == [
        history[o] for o in ("callback", "voicemail", "abandoned", "self_served", "routed")
    ]


def test_a_call_page_shows_its_timeline(history, viewer):
    html = client_for(viewer).get(f"/designer/calls/{history['routed']}/").content.decode()
    assert "Hello Ann, you are gold." in html  # heard
    assert '<dd class="cf-entered">1</dd>' in html  # entered
    assert "/customer?phone=%2B447700900123</code> → 200" in html  # the HTTP request
    assert f'href="/designer/flows/support/?call={history["routed"]}"' in html
    customer = Customer.objects.get()
    assert f'href="/designer/customers/{customer.pk}/"' in html


def test_a_voicemail_plays_with_its_transcription(history, viewer):
    html = client_for(viewer).get(f"/designer/calls/{history['voicemail']}/").content.decode()
    assert '<audio controls preload="none" src="https://api.twilio.com/' in html
    assert "My card was declined." in html


def test_an_unknown_call_is_a_404(viewer):
    assert client_for(viewer).get("/designer/calls/CAnope/").status_code == 404


def test_a_customer_page_is_their_timeline(history, viewer):
    customer = Customer.objects.get()
    html = client_for(viewer).get(f"/designer/customers/{customer.pk}/").content.decode()
    assert "Ann Example" in html and "My card was declined." in html
    assert 'data-kind="callback"' in html and 'data-kind="voicemail"' in html
    assert history["abandoned"] not in html  # another number's call
    assert client_for(viewer).get("/designer/customers/999/").status_code == 404
