"""A flow's analytics page in a real browser: the tiles, the charts, the funnel, two versions
side by side, and the drop-off on the graph (the editor's traffic overlay)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from flows.services import flow_publish
from ivr_runtime.models import CallSession, CallStep

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Outcome = CallSession.Outcome


def calls(flow, version, paths, *, start):
    """Finished calls along `paths` [(choice, outcome)]: the menu's key, or None for a
    caller who hung up at the menu."""
    for n, (choice, outcome) in enumerate(paths):
        started = start + timedelta(hours=n)
        call = CallSession.objects.create(
            call_sid=f"CA{version.number}{n:031d}",
            flow=flow,
            flow_version=version,
            status="completed",
            outcome=outcome,
            outcome_node="" if choice else "main_menu",
        )
        CallSession.objects.filter(pk=call.pk).update(started_at=started)
        path = [("greeting", "next", False), ("main_menu", choice or "", not choice)]
        if choice:
            path.append(({"1": "sales_bye", "2": "support_bye"}[choice], "", False))
        for index, (node_id, exit_name, hung_up) in enumerate(path):
            CallStep.objects.create(
                session=call, index=index, flow=flow, flow_version=version, node_id=node_id,
                node_type="menu" if node_id == "main_menu" else "say", exit=exit_name,
                hung_up=hung_up, at=started + timedelta(seconds=5 * index),
            )  # fmt: skip


@pytest.fixture
def traffic(small_flow, publisher_user):
    v1 = flow_publish(flow=small_flow, user=publisher_user)
    small_flow.definition["nodes"][0]["config"]["text"] = "Welcome back."
    small_flow.save(update_fields=["definition"])
    v2 = flow_publish(flow=small_flow, user=publisher_user)
    start = timezone.now() - timedelta(days=2)
    gave_up = (None, Outcome.ABANDONED)
    calls(
        small_flow,
        v1,
        [("1", Outcome.ROUTED), gave_up, gave_up, ("2", Outcome.SELF_SERVED)],
        start=start,
    )
    calls(
        small_flow,
        v2,
        [("1", Outcome.ROUTED), ("2", Outcome.SELF_SERVED), ("2", Outcome.SELF_SERVED), gave_up],
        start=start + timedelta(days=1),
    )
    return small_flow


def tile(page, key: str) -> str:
    return page.locator(f'[data-kpi="{key}"] .cf-value').inner_text()


def test_the_analytics_page_shows_the_figures_and_the_charts(sessions, traffic, viewer_user):
    s = sessions()
    s.login("vera", "/designer/")
    page = s.page
    page.click('tr[data-flow="designer-test"] [data-analytics]')
    page.wait_for_url("**/designer/flows/designer-test/analytics/")
    page.wait_for_selector("#analytics[data-ready]")
    assert tile(page, "calls") == "8"
    assert tile(page, "abandoned") == "3"
    assert tile(page, "contained") == "3"
    assert tile(page, "routed") == "2"
    assert "37.5% of calls" in page.locator('[data-kpi="abandoned"]').inner_text()
    assert tile(page, "avg_seconds_to_agent") == "–"  # no route node connected anyone
    for chart in ("chart-by-hour", "chart-by-day"):
        canvas = page.locator(f"canvas#{chart}[data-rendered]")
        assert canvas.count() == 1
        box = canvas.bounding_box()
        assert box["width"] > 200 and box["height"] > 200
    by_hour = json.loads(page.locator("#chart-by-hour").get_attribute("data-series"))
    assert [sum(series) for series in by_hour] == [8, 3]
    by_day = json.loads(page.locator("#chart-by-day").get_attribute("data-series"))
    assert len(by_day[0]) == 30 and sum(by_day[0]) == 8  # the last 30 days, one point each
    # the chart drew something: its pixels are not all one colour
    assert (
        page.evaluate(
            """() => { const c = document.getElementById('chart-by-hour');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   const seen = new Set(); for (let i = 0; i < d.length; i += 400) seen.add(d[i]);
                   return seen.size; }"""
        )
        > 3
    )
    menu = page.locator('#funnel tr[data-node="main_menu"]')
    assert menu.locator("th").inner_text().startswith("Main menu")
    assert menu.locator("[data-entered]").inner_text() == "8"
    assert menu.locator("[data-hung-up]").inner_text() == "3"
    assert menu.locator("[data-drop-off]").inner_text() == "37.5%"
    assert menu.locator("[data-gave-up]").inner_text() == "3"
    s.shot("analytics")
    page.screenshot(path=str(ARTIFACTS / f"{s.test_name}-whole-page.png"), full_page=True)

    page.select_option("#pick-version", "2")
    page.select_option("#pick-compare", "1")
    page.click("#analytics-form input[type=submit]")
    page.wait_for_selector("#analytics[data-ready]")
    assert page.locator("#comparison-title").inner_text() == (
        "v2 lost fewer callers than v1: 25 points fewer abandoned."
    )
    abandoned = page.locator('[data-kpi="abandoned"]')
    assert tile(page, "abandoned") == "1"
    assert "v1: 2" in abandoned.inner_text()
    assert abandoned.locator(".cf-better[data-delta]").inner_text() == "\u22121 (\u221225 pts)"
    assert (
        page.locator('#funnel tr[data-node="main_menu"] td').nth(-1).inner_text() == "\u221225 pts"
    )
    by_hour = json.loads(page.locator("#chart-by-hour").get_attribute("data-series"))
    assert [sum(series) for series in by_hour] == [4, 2, 4, 1]
    s.shot("comparison")

    page.click("#graph-link")
    page.wait_for_selector('[data-node-id="main_menu"] [data-stats-entered="4"]')
    assert (
        "1 hung up" in page.locator('[data-node-id="main_menu"] [data-stats-entered]').inner_text()
    )
    assert page.locator("[data-action=stats]").get_attribute("aria-pressed") == "true"
    page.wait_for_selector("[data-notice]:has-text('4 calls on v2')")
    s.shot("graph")
    page.click("[data-action=analytics]")
    page.wait_for_url("**/designer/flows/designer-test/analytics/")
    page.wait_for_selector("#analytics[data-ready]")


def test_a_bad_period_is_explained(sessions, traffic, viewer_user):
    s = sessions()
    s.console.allow_status(400)
    s.login("vera")
    page = s.page
    page.goto("/designer/flows/designer-test/analytics/?since=2026-07-03&until=2026-07-01")
    error = page.locator("#analytics-error")
    error.wait_for()
    assert "until: must be later than since" in error.inner_text()
