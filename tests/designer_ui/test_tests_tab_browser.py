"""The editor's Tests tab in a real browser: a supervisor writes a flow's tests, runs them on
the saved draft, sees which fail and why, lights a test's path up, and saves them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.models import Flow
from flows.services import flow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PASSING = {
    "name": "after hours gets the booking link",
    "at": "2026-12-01T23:00:00",
    "steps": [{"expect_say": "closed right now"}],
    "expect": {"path": ["greeting", "hours", "after_hours_sms"], "ends": "hangup"},
}
FAILING = {
    "name": "lunch goes to staff",
    "at": "2026-12-01T13:00:00",
    "steps": [{"press": "1"}],
    "expect": {"ends": "routed"},
}


@pytest.fixture
def restaurant(publisher_user) -> Flow:
    definition = json.loads((FIXTURES / "restaurant.json").read_text())
    return flow_create(definition=definition, user=publisher_user)


def open_tests(sessions, user, slug="restaurant"):
    session = sessions()
    session.login(user.username, f"/designer/flows/{slug}/")
    session.open_flow(slug)
    session.page.click("[data-tab=tests]")
    session.page.wait_for_selector("[data-panel=tests]")
    return session


def test_a_supervisor_writes_runs_and_saves_a_flows_tests(sessions, editor_user, restaurant):
    session = open_tests(sessions, editor_user)
    page = session.page
    page.wait_for_function("document.querySelector('[data-tests-json]').value.trim() === '[]'")
    page.fill("[data-tests-json]", json.dumps([PASSING, FAILING], indent=2))
    page.click("[data-tests-run]")
    page.wait_for_selector("[data-test-result=fail]")
    assert page.inner_text("[data-tests-message]") == "1 of 2 test(s) passed."
    failed = page.inner_text("[data-test-result=fail]")
    assert "lunch goes to staff" in failed
    assert "expected the call to end 'routed'" in failed
    page.click("[data-test-result=pass] >> text=Show path")
    page.wait_for_selector('[data-node-id="after_hours_sms"].cf-sim-visited')
    assert "cf-sim-visited" not in page.locator('[data-node-id="main_menu"]').get_attribute("class")
    session.shot("results")
    # not saved yet: the flow keeps no tests until the supervisor saves them
    assert Flow.objects.get().tests == []
    page.click("[data-tests-save]")
    page.wait_for_selector("text=2 test(s) saved")
    assert [t["name"] for t in Flow.objects.get().tests] == [PASSING["name"], FAILING["name"]]


def test_bad_tests_are_named_where_they_are_wrong(sessions, editor_user, restaurant):
    session = open_tests(sessions, editor_user)
    session.console.allow_status(400)
    page = session.page
    page.fill("[data-tests-json]", '[{"name": "x", ')
    page.click("[data-tests-run]")
    page.wait_for_selector("[data-tests-message]")
    assert page.inner_text("[data-tests-message]").startswith("Not valid JSON")
    page.fill("[data-tests-json]", json.dumps([{"name": "x", "steps": [{"press": "one"}]}]))
    page.click("[data-tests-save]")
    page.wait_for_selector(".cf-inline-problems li")
    problem = page.inner_text(".cf-inline-problems li")
    assert problem.startswith("test 1, step 1, press: 'one' cannot be used here")
    session.shot("problems")
    assert Flow.objects.get().tests == []


def test_a_viewer_reads_the_tests_but_cannot_change_or_run_them(sessions, viewer_user, restaurant):
    restaurant.tests = [PASSING]
    restaurant.save()
    session = open_tests(sessions, viewer_user)
    page = session.page
    page.wait_for_function(
        "document.querySelector('[data-tests-json]').value.includes('after hours')"
    )
    assert page.get_attribute("[data-tests-json]", "readonly") is not None
    assert page.is_disabled("[data-tests-run]")
    assert page.query_selector("[data-tests-save]") is None


def test_publishing_is_refused_in_the_editor_while_a_test_fails(
    sessions, publisher_user, restaurant
):
    restaurant.tests = [PASSING, FAILING]
    restaurant.save()
    session = sessions()
    session.console.allow_status(400)
    session.login(publisher_user.username, "/designer/flows/restaurant/")
    session.open_flow("restaurant")
    page = session.page
    page.click("[data-action=publish]")
    page.fill("[aria-label='Publish note']", "first")
    page.click("[data-confirm-publish]")
    refused = page.wait_for_selector("[data-publish-refused]").inner_text()
    assert "1 of the flow's 2 test(s) fail: nothing was published." in refused
    assert "Test 'lunch goes to staff' fails" in refused
    session.shot("publish-refused")
    assert Flow.objects.get().published_version is None


def test_a_simulated_call_is_kept_as_a_test_that_passes(sessions, editor_user, small_flow):
    session = sessions()
    session.login(editor_user.username, "/designer/flows/designer-test/")
    session.open_flow("designer-test")
    page = session.page
    page.click("[data-tab=simulator]")
    page.click("[data-sim-start]")
    transcript = page.locator("[aria-label=Transcript]")
    transcript.locator("text=Press 1 for sales").wait_for()
    page.click("[data-key='2']")
    transcript.locator("text=Support will call you back.").wait_for()
    page.click("[data-keep-test] button")
    assert page.inner_text("[data-keep-test-message]") == "Name the test first."
    page.fill("[aria-label='Test name']", "support is told they will be called back")
    page.click("[data-keep-test] button")
    page.wait_for_selector("text=Kept as the test")
    (kept,) = Flow.objects.get(slug="designer-test").tests
    assert kept["caller"] == "+447700900123" and kept["steps"] == [{"press": "2"}]
    assert kept["expect"] == {
        "path": ["greeting", "main_menu", "support_bye"],
        "ends": "hangup",
        "no_sms": True,
    }
    session.shot("kept")
    page.fill("[aria-label='Test name']", "support is told they will be called back")
    page.click("[data-keep-test] button")
    page.wait_for_selector("text=A test is already named")
    # the Tests tab runs it: it passes
    page.click("[data-tab=tests]")
    page.wait_for_function(
        "document.querySelector('[data-tests-json]').value.includes('called back')"
    )
    page.click("[data-tests-run]")
    page.wait_for_selector("[data-test-result=pass]")
    assert page.inner_text("[data-tests-message]") == "1 of 1 test(s) passed."
