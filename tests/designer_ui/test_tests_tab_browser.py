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


def open_tests(sessions, user, slug="restaurant", *, as_json=True):
    session = sessions()
    session.login(user.username, f"/designer/flows/{slug}/")
    session.open_flow(slug)
    session.page.click("[data-tab=tests]")
    session.page.wait_for_selector("[data-panel=tests]")
    if as_json:
        session.page.click("[data-tests-view=json]")
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
    session = open_tests(sessions, viewer_user, as_json=False)
    page = session.page
    page.wait_for_selector(f"[data-test-card='{PASSING['name']}']")
    for control in ("[data-test-edit]", "[data-test-delete]", "[data-tests-add]"):
        assert page.query_selector(control) is None
    page.click("[data-tests-view=json]")
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


def call_in_the_simulator(sessions, user, slug):
    """A supervisor places a test call on a flow in its Simulate tab."""
    session = sessions()
    session.login(user.username, f"/designer/flows/{slug}/")
    session.open_flow(slug)
    session.page.click("[data-tab=simulator]")
    session.page.click("[data-sim-start]")
    return session


def test_a_simulated_call_is_kept_as_a_test_that_passes(sessions, editor_user, small_flow):
    session = call_in_the_simulator(sessions, editor_user, "designer-test")
    page = session.page
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
    # the Tests tab shows it in words and runs it: it passes
    page.click("[data-tab=tests]")
    card = page.wait_for_selector("[data-test-card='support is told they will be called back']")
    assert "presses 2" in card.inner_text()
    assert "passes greeting › main_menu › support_bye" in card.inner_text()
    page.click("[data-tests-run]")
    page.wait_for_selector("[data-test-result=pass]")
    assert page.inner_text("[data-tests-message]") == "1 of 1 test(s) passed."


def test_a_supervisor_writes_a_test_in_the_form_and_reads_it_in_words(
    sessions, editor_user, restaurant
):
    session = open_tests(sessions, editor_user, as_json=False)
    page = session.page
    page.wait_for_selector("text=No tests yet.")
    page.click("[data-tests-add]")
    page.fill("[data-test-name]", "lunch: staff are rung")
    page.fill("[data-test-at]", "2026-12-01T13:00")
    page.fill("[data-test-caller]", "+447700900555")
    page.click("[data-test-add-step]")
    page.fill("[aria-label='Step 1: e.g. 1 or 1234#']", "3")
    page.click("[data-test-add-step]")
    page.select_option("[aria-label='Step 2: what the caller does']", "dial")
    page.select_option("[aria-label='Step 2: how']", "no-answer")
    page.fill("[data-test-path]", "greeting, nowhere")
    page.select_option("[data-test-ends]", "hangup")
    page.click("[data-test-done]")
    assert page.inner_text("[role=alert]") == (
        "The path names “nowhere”, which the flow does not have."
    )
    page.fill("[data-test-path]", "greeting, hours")
    session.shot("form")
    page.click("[data-test-done]")
    card = page.wait_for_selector("[data-test-card='lunch: staff are rung']").inner_text()
    assert "Tue 1 Dec 2026, 13:00: +447700900555 calls" in card
    assert "presses 3" in card and "the call put through: not answered" in card
    assert "Expects: passes greeting › hours; ends: the call is over." in card
    page.click("[data-tests-run]")
    page.wait_for_selector("[data-test-card][data-test-result]")
    session.shot("cards")
    assert page.inner_text("[data-tests-message]") == "1 of 1 test(s) passed."
    page.click("[data-tests-save]")
    page.wait_for_selector("text=1 test(s) saved")
    assert Flow.objects.get().tests == [
        {
            "name": "lunch: staff are rung",
            "at": "2026-12-01T13:00:00",
            "caller": "+447700900555",
            "steps": [{"press": "3"}, {"dial": "no-answer"}],
            "expect": {"path": ["greeting", "hours"], "ends": "hangup"},
        }
    ]
    # HTTP answers and vars are in the form too
    page.click("[data-test-edit]")
    page.click("[data-test-add-answer]")
    page.fill("[aria-label='HTTP answer 1: URL']", "https://crm.example.com/*")
    page.fill("[aria-label='HTTP answer 1: JSON body']", "{tier")
    page.click("[data-test-add-var=Var]")
    page.fill("[aria-label='Var 1: name']", "name")
    page.fill("[aria-label='Var 1: value']", "Ann")
    page.click("[data-test-add-var='Expected var']")
    page.fill("[aria-label='Expected var 1: name']", "visits")
    page.fill("[aria-label='Expected var 1: value']", "2")
    page.click("[data-test-done]")
    assert page.inner_text("[role=alert]").startswith("HTTP answer 1: its body is not JSON")
    page.fill("[aria-label='HTTP answer 1: JSON body']", '{"tier": "gold"}')
    assert page.query_selector("[role=alert]") is None  # a change clears what was wrong
    session.shot("form-answers")
    page.click("[data-test-done]")
    card = page.wait_for_selector("[data-test-card='lunch: staff are rung']").inner_text()
    assert "Also: 1 HTTP answer(s); starts with vars name." in card
    assert "vars: visits" in card
    page.click("[data-tests-view=json]")
    (document,) = json.loads(page.input_value("[data-tests-json]"))
    assert document["http"] == [{"url": "https://crm.example.com/*", "json": {"tier": "gold"}}]
    assert document["vars"] == {"name": "Ann"} and document["expect"]["vars"] == {"visits": 2}
    # a time the form cannot show is kept as written when the test is edited
    document["at"] = "2026-12-01T13:00:00+00:00"
    page.fill("[data-tests-json]", json.dumps([document]))
    page.click("[data-tests-view=cards]")
    page.click("[data-test-edit]")
    assert "Kept as written: 2026-12-01T13:00:00+00:00" in page.inner_text("[data-test-form]")
    page.fill("[data-test-name]", "lunch: staff are rung, unanswered")
    page.click("[data-test-done]")
    page.click("[data-tests-view=json]")
    (edited,) = json.loads(page.input_value("[data-tests-json]"))
    assert edited == {**document, "name": "lunch: staff are rung, unanswered"}
    page.click("[data-tests-view=cards]")
    page.click("[data-test-delete]")
    page.wait_for_selector("text=No tests yet.")


def test_a_call_whose_flow_asks_a_system_is_kept_with_its_answers(sessions, editor_user, settings):
    """The kept test answers the flow's requests as the system did in the call: it passes
    without reaching the system again."""
    from tests.ivr_runtime.http_server import RecordServer

    settings.HTTP_NODE_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = RecordServer()
    customer = server.url + "/customer"
    try:
        definition = json.loads((FIXTURES / "restaurant.json").read_text())
        definition.update(
            slug="crm-check",
            name="CRM check",
            start="lookup",
            nodes=[
                {
                    "id": "lookup",
                    "type": "http",
                    "config": {"url": customer},
                    "exits": {"success": "tier", "failure": "sorry"},
                },
                {
                    "id": "tier",
                    "type": "hangup",
                    "config": {"text": "Hello {{ nodes.lookup.response.tier }} member."},
                    "exits": {},
                },
                {"id": "sorry", "type": "hangup", "config": {"text": "Sorry."}, "exits": {}},
            ],
        )
        for key in ("layout", "fallback"):
            definition.pop(key, None)
        flow_create(definition=definition, user=editor_user)
        page = call_in_the_simulator(sessions, editor_user, "crm-check").page
        page.locator("[aria-label=Transcript]").locator("text=Hello gold member.").wait_for()
        page.fill("[aria-label='Test name']", "a gold member is greeted as one")
        page.click("[data-keep-test] button")
        page.wait_for_selector("text=Kept as the test")
        assert len(server.requests) == 1
    finally:
        server.stop()
    (kept,) = Flow.objects.get(slug="crm-check").tests
    assert kept["http"] == [{"url": customer, "json": {"tier": "gold", "name": "Ada"}}]
    page.click("[data-tab=tests]")
    card = page.wait_for_selector("[data-test-card='a gold member is greeted as one']")
    assert "1 HTTP answer(s)" in card.inner_text()
    page.click("[data-tests-run]")
    page.wait_for_selector("[data-test-card][data-test-result=pass]")
    assert page.inner_text("[data-tests-message]") == "1 of 1 test(s) passed."
