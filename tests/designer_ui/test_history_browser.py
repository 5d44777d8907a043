"""The call history in a real browser: the list and its filters, a call's page, the path
of a call lit in the editor, a customer's page."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_runtime.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def listed(page) -> list[str]:
    return page.locator("#result_list tbody tr[data-call]").evaluate_all(
        "rows => rows.map(r => r.dataset.call)"
    )


def test_the_list_filters_and_searches(sessions, viewer_user, history):
    s = sessions()
    s.login("vera", "/designer/calls/")
    page = s.page
    everything = [
        history[o] for o in ("callback", "voicemail", "abandoned", "self_served", "routed")
    ]
    assert listed(page) == everything
    s.shot("calls")
    page.select_option("#f-outcome", "abandoned")
    page.click("#call-filters input[type=submit].default")
    page.wait_for_url("**outcome=abandoned**")
    assert listed(page) == [history["abandoned"]]
    assert "at queue" in page.locator("#result_list tbody").inner_text()
    page.goto("/designer/calls/")
    page.fill("#searchbar", "07700 900123")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**search=07700**")
    assert listed(page) == [c for c in everything if c != history["abandoned"]]
    href = page.locator("#export-csv").get_attribute("href")
    assert href == "/api/calls/export.csv?search=07700+900123"
    with page.expect_download() as download:
        page.click("#export-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("sid,started_at,") and text.count("\n") == 5
    assert s.console.unexpected() == []


def test_a_call_page_and_its_path_in_the_editor(sessions, viewer_user, history):
    s = sessions()
    s.login("vera", f"/designer/calls/{history['voicemail']}/")
    page = s.page
    timeline = page.locator("#call-timeline")
    assert "Hello Ann, you are gold." in timeline.inner_text()
    assert "/customer?phone=%2B447700900123" in timeline.inner_text()
    assert "My card was declined." in page.locator("#call-recordings").inner_text()
    assert page.locator("#call-recordings audio").count() == 1
    assert page.locator("#call-outcome").inner_text() == "Left a voicemail"
    s.shot("call")
    page.click("#open-in-editor")
    page.wait_for_selector('.cf-sim-visited[data-node-id="message"]')
    for visited in ("who", "crm", "hello", "main", "message", "bye"):
        assert "cf-sim-visited" in page.locator(f'[data-node-id="{visited}"]').get_attribute(
            "class"
        )
    assert "cf-sim-visited" not in page.locator('[data-node-id="agent"]').get_attribute("class")
    page.locator("text=is lit on the graph").wait_for()
    s.shot("editor-path")
    assert s.console.unexpected() == []


def test_a_customer_page_from_a_call(sessions, viewer_user, history):
    s = sessions()
    s.login("vera", f"/designer/calls/{history['routed']}/")
    page = s.page
    page.click("#customer-link")
    page.wait_for_url(f"**/designer/customers/{Customer.objects.get().pk}/")
    items = page.locator("#customer-timeline li[data-kind]")
    kinds = items.evaluate_all("items => items.map(i => i.dataset.kind)")
    assert kinds.count("call") == 4 and "callback" in kinds and "voicemail" in kinds
    assert "My card was declined." in page.locator("#customer-timeline").inner_text()
    s.shot("customer")
    page.locator("#customer-timeline li[data-kind=call] a").first.click()
    page.wait_for_url(f"**/designer/calls/{history['callback']}/")
    assert s.console.unexpected() == []


def test_anonymous_users_get_the_login_page(sessions, history):
    s = sessions()
    s.page.goto("/designer/calls/")
    s.page.wait_for_url("**/accounts/login/?next=/designer/calls/")
