"""The simulator and the traffic overlay, in a real browser against the real runtime."""

from __future__ import annotations

import pytest
from django.utils import timezone

from flows.services import flow_publish
from ivr_runtime.models import CallSession, CallStep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def node(page, node_id: str):
    return page.locator(f'[data-node-id="{node_id}"]')


def test_simulated_call_lights_up_the_path(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    page.click("[data-tab=simulator]")
    page.click("[data-sim-start]")
    transcript = page.locator("[aria-label=Transcript]")
    transcript.locator("text=Press 1 for sales, 2 for support.").wait_for()
    assert "Thanks for calling the test line." in transcript.inner_text()
    page.wait_for_selector('.cf-sim-current[data-node-id="main_menu"]')
    assert node(page, "greeting").get_attribute("class").count("cf-sim-visited") == 1

    page.click("[data-key='2']")
    transcript.locator("text=Support will call you back.").wait_for()
    transcript.locator("text=The call ended.").wait_for()
    for visited in ("greeting", "main_menu", "support_bye"):
        assert "cf-sim-visited" in node(page, visited).get_attribute("class"), visited
    assert "cf-sim-visited" not in node(page, "sales_bye").get_attribute("class")
    assert page.locator(".react-flow__edge.cf-edge-sim").count() == 2
    s.shot("simulated")
    assert not CallStep.objects.filter(simulated=False).exists()  # never counted as traffic
    assert s.console.unexpected() == []


def test_traffic_overlay_counts_real_calls(sessions, small_flow, publisher_user):
    version = flow_publish(flow=small_flow, user=publisher_user)
    now = timezone.now()
    for n, (choice, ending) in enumerate([("1", "sales_bye"), ("2", "support_bye"), ("2", None)]):
        call = CallSession.objects.create(
            call_sid=f"CA{n:032d}", flow=small_flow, flow_version=version, status="completed"
        )
        path = [("greeting", "next", False), ("main_menu", choice if ending else "", not ending)]
        if ending:
            path.append((ending, "", False))
        for index, (node_id, exit_name, hung_up) in enumerate(path):
            CallStep.objects.create(
                session=call, index=index, flow=small_flow, flow_version=version,
                node_id=node_id, exit=exit_name, hung_up=hung_up, at=now,
            )  # fmt: skip

    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    page.click("[data-action=stats]")
    page.wait_for_selector('[data-node-id="main_menu"] [data-stats-entered="3"]')
    menu = node(page, "main_menu")
    assert "1 hung up" in menu.locator("[data-stats-entered]").inner_text()
    assert menu.locator('[data-exit="2"] .cf-exit-count').inner_text() == "1"
    assert menu.locator('[data-exit="1"] .cf-exit-count').inner_text() == "1"
    assert node(page, "support_bye").locator("[data-stats-entered]").inner_text().startswith("1 in")
    page.wait_for_selector("[data-notice]:has-text('3 calls')")
    s.shot("traffic")
    page.click("[data-action=stats]")
    page.wait_for_selector("[data-stats-entered]", state="detached")
    assert s.console.unexpected() == []
