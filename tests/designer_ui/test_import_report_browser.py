"""The flow list's import shows the conversion report: per node what was converted,
approximated, left out or left as a placeholder, and what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.models import Flow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONNECT = Path(__file__).parents[1] / "flows" / "connect"


def test_the_import_shows_the_report_of_a_connect_export(sessions, publisher_user):
    s = sessions()
    s.login("pia")
    page = s.page
    page.set_input_files(
        "#import-files",
        [
            str(CONNECT / "with-placeholders" / "queue-experiments.json"),
            str(CONNECT / "support-line.json"),
        ],
    )
    page.click("#import-flows input[type=submit]")
    report = page.wait_for_selector("#import-result:not([hidden])")
    assert "Imported queue-experiments, support-line" in report.inner_text()
    drafts = page.locator('[data-report-flow="queue-experiments"]')
    assert "created as a draft" in drafts.locator("h3").inner_text()
    assert "Converted from Amazon Connect: 5 placeholders, 2 converted" in drafts.inner_text()
    loop = drafts.locator('tr[data-node="loop"]')
    assert loop.get_attribute("data-report-line") == "placeholder"
    assert "Loop loop" in loop.inner_text() and "no loop counter" in loop.inner_text()
    assert "Placeholder" in loop.locator(".cf-kind").inner_text()
    assert (
        "Imported as a draft: 5 placeholder node(s) (split, loop, bot, staffed, view)"
        in drafts.inner_text()
    )
    support = page.locator('[data-report-flow="support-line"]')
    hours = support.locator('tr[data-node="check_hours_of_operation"]')
    assert hours.get_attribute("data-report-line") == "approximated"
    assert "Set the opening hours" in hours.inner_text()
    dropped = support.locator('tr[data-report-line="dropped"]')
    assert "UpdateFlowLoggingBehavior" in dropped.inner_text()
    converted = support.locator("details.cf-report-converted")
    assert "nodes converted as they were" in converted.locator("summary").inner_text()
    converted.locator("summary").click()
    assert converted.locator('tr[data-node="get_customer_input"]').is_visible()
    s.shot("import-report")
    assert Flow.objects.get(slug="queue-experiments").published_version is None
    row = page.locator('tr[data-flow="queue-experiments"]')
    assert row.locator("[data-status]").inner_text() == "draft"

    held_file = str(CONNECT / "with-placeholders" / "queue-experiments.json")
    page.set_input_files("#import-files", held_file)
    page.check("#import-publish")
    page.click("#import-flows input[type=submit]")
    page.wait_for_selector("#import-result:has-text('Not published')")
    held = page.locator('[data-report-flow="queue-experiments"] .cf-report-placeholders')
    assert "Not published: the flow has 5 placeholder node(s) (split, loop" in held.inner_text()
    s.shot("publish-held")
    assert Flow.objects.get(slug="queue-experiments").published_version is None
    page.set_input_files("#import-files", held_file)
    page.check("#import-publish")
    page.check("#import-allow-placeholders")
    page.click("#import-flows input[type=submit]")
    page.wait_for_selector("#import-result:has-text('published as version 1')")
    assert Flow.objects.get(slug="queue-experiments").published_version.number == 1
    assert s.console.unexpected() == []


def test_publishing_placeholders_from_the_editor_needs_publish_anyway(sessions, publisher_user):
    from flows.imports import ImportSource, flows_import

    path = CONNECT / "with-placeholders" / "queue-experiments.json"
    flows_import(sources=[ImportSource(path.name, path.read_bytes())])
    s = sessions()
    s.login("pia")
    s.open_flow("queue-experiments")
    page = s.page
    s.console.allow_status(400)
    page.click('[data-action="publish"]')
    page.click("[data-confirm-publish]")
    refused = page.wait_for_selector("[data-publish-refused]")
    assert "5 placeholder node(s) left by an import" in refused.inner_text()
    assert page.locator("[data-placeholder-warning]").is_visible()
    s.shot("placeholders-refused")
    assert Flow.objects.get(slug="queue-experiments").published_version is None
    page.click("[data-publish-anyway]")
    page.wait_for_selector("[data-status]:has-text('published v1')")
    assert Flow.objects.get(slug="queue-experiments").published_version.number == 1
    assert s.console.unexpected() == []


def test_an_imported_connect_flow_opens_laid_out_as_in_connect(sessions, publisher_user):
    from flows.imports import ImportSource, flows_import

    path = CONNECT / "acme-contact-centre.json"
    flows_import(sources=[ImportSource(path.name, path.read_bytes())])
    s = sessions()
    s.login("pia")
    s.open_flow("acme-contact-centre")
    page = s.page
    boxes = {
        node_id: page.locator(f'[data-node-id="{node_id}"]').bounding_box()
        for node_id in ("welcome", "lookup", "main_menu", "order_number")
    }
    # welcome and lookup side by side on the first row, the menu and order number below
    assert boxes["welcome"]["x"] < boxes["lookup"]["x"]
    assert abs(boxes["welcome"]["y"] - boxes["lookup"]["y"]) < 5
    assert boxes["main_menu"]["y"] > boxes["welcome"]["y"] + 50
    s.shot("acme-canvas")
    assert s.console.unexpected() == []


def test_the_import_keeps_a_flows_test_file_and_says_so(sessions, publisher_user, tmp_path):
    fixtures = Path(__file__).parents[2] / "fixtures"
    tests = {
        "format": "callflow-test/1",
        "flow": "restaurant",
        "tests": [
            {
                "name": "after hours",
                "at": "2026-12-01T23:00:00",
                "expect": {"path": ["hours", "after_hours_sms"]},
            }
        ],
    }
    (tmp_path / "restaurant.test.json").write_text(json.dumps(tests))
    s = sessions()
    s.login("pia")
    page = s.page
    page.set_input_files(
        "#import-files", [str(fixtures / "restaurant.json"), str(tmp_path / "restaurant.test.json")]
    )
    page.check("#import-publish")
    page.click("#import-flows input[type=submit]")
    report = page.wait_for_selector("[data-imported-tests=restaurant]")
    assert report.inner_text() == (
        "restaurant: 1 flow test(s) from restaurant.test.json, kept with the flow; "
        "publishing runs them."
    )
    flow = Flow.objects.get(slug="restaurant")
    assert flow.tests == tests["tests"] and flow.published_version.number == 1
