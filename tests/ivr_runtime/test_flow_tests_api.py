"""Flow tests from the outside: stored with the flow (API, import), run by the command and
the API, and publishing refused while one fails."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from flows.models import Flow, FlowVersion
from ivr_runtime.models import CallSession

from .test_flow_tests import AFTER_HOURS, FIXTURES

pytestmark = pytest.mark.django_db

LUNCH = {
    "name": "lunch books a table",
    "at": "2026-12-01T13:00:00",
    "steps": [{"press": "1"}],
    "expect": {"path": ["main_menu", "booking_sms"], "ends": "self_served"},
}
BROKEN = {**LUNCH, "name": "staff answer", "expect": {"ends": "routed"}}


def document(*tests, flow="restaurant"):
    return {"format": "callflow-test/1", "flow": flow, "tests": list(tests)}


@pytest.fixture
def restaurant() -> Flow:
    definition = json.loads((FIXTURES / "restaurant.json").read_text())
    return Flow.objects.create(slug="restaurant", name="Restaurant", definition=definition)


def url_of(slug="restaurant", run=False):
    return f"/api/flows/{slug}/tests/" + ("run/" if run else "")


# --- stored with the flow -------------------------------------------------------------------
def test_the_flows_tests_are_read_and_replaced_through_the_api(restaurant, editor_api, viewer_api):
    assert viewer_api.get(url_of()).json() == document()
    response = editor_api.put(url_of(), document(AFTER_HOURS), format="json")
    assert response.status_code == 200, response.json()
    assert viewer_api.get(url_of()).json() == document(AFTER_HOURS)
    # or only the list
    assert editor_api.put(url_of(), {"tests": [LUNCH]}, format="json").status_code == 200
    assert Flow.objects.get().tests == [LUNCH]
    assert Flow.objects.get().revision == 1  # the draft is not changed by its tests


def test_bad_tests_are_refused_with_each_place_named_and_nothing_changes(restaurant, editor_api):
    editor_api.put(url_of(), document(AFTER_HOURS), format="json")
    bad = document({"name": "x", "steps": [{"press": "one"}], "at": "soon"}, {"name": "x"})
    response = editor_api.put(url_of(), bad, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The flow tests have errors: nothing was saved."
    paths = [p["path"] for p in body["problems"]]
    assert paths == ["$.tests[0].steps[0].press", "$.tests[0].at", "$.tests[1].name"]
    other = editor_api.put(url_of(), document(LUNCH, flow="crm"), format="json")
    assert other.json()["problems"][0] == {
        "message": "This file tests flow 'crm', not 'restaurant'.",
        "path": "$.flow",
        "node": None,
        "severity": "error",
    }
    assert editor_api.put(url_of(), [LUNCH], format="json").status_code == 400
    assert Flow.objects.get().tests == [AFTER_HOURS]


def test_viewers_read_the_tests_but_neither_change_nor_run_them(restaurant, viewer_api, anon_api):
    assert viewer_api.put(url_of(), document(), format="json").status_code == 403
    assert viewer_api.post(url_of(run=True), {}, format="json").status_code == 403
    assert anon_api.get(url_of()).status_code in (401, 403)


# --- run -------------------------------------------------------------------------------------
def test_the_api_runs_the_stored_tests_or_those_sent(restaurant, editor_api):
    restaurant.tests = [AFTER_HOURS, BROKEN]
    restaurant.save()
    result = editor_api.post(url_of(run=True), format="json").json()
    assert (result["total"], result["failed"], result["passed"]) == (2, 1, False)
    assert result["tests"][0]["passed"] is True
    assert result["tests"][1]["failures"] == [
        "expected the call to end 'routed' (routed to a person); it hung up, "
        "with outcome 'self_served' (self-served)"
    ]
    sent = editor_api.post(url_of(run=True), {"tests": [LUNCH]}, format="json").json()
    assert (sent["total"], sent["passed"]) == (1, True)
    bad = editor_api.post(url_of(run=True), {"tests": [{"steps": []}]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["detail"] == "The flow tests have errors: nothing was run."


def test_publishing_runs_the_tests_and_is_refused_while_one_fails(restaurant, publisher_api):
    restaurant.tests = [AFTER_HOURS, BROKEN]
    restaurant.save()
    response = publisher_api.post("/api/flows/restaurant/publish/", {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "1 of the flow's 2 test(s) fail: nothing was published."
    assert body["problems"][-1]["path"] == "$.tests[1]"
    assert (
        "Test 'staff answer' fails: expected the call to end 'routed'"
        in body["problems"][-1]["message"]
    )
    assert not FlowVersion.objects.exists()
    restaurant.tests = [AFTER_HOURS, LUNCH]
    restaurant.save()
    assert (
        publisher_api.post("/api/flows/restaurant/publish/", {}, format="json").status_code == 201
    )


# --- the command -------------------------------------------------------------------------------
def write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def test_the_command_runs_files_and_folders_and_writes_junit(restaurant, tmp_path):
    write(tmp_path, "restaurant.json", restaurant.definition)  # a flow file: left alone
    write(tmp_path, "restaurant.test.json", document(AFTER_HOURS, LUNCH))
    out = io.StringIO()
    call_command("test_flows", str(tmp_path), "--junit", str(tmp_path / "junit.xml"), stdout=out)
    assert "2 test(s) in 1 file(s): 2 passed, 0 failed." in out.getvalue()
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")


def test_the_command_exits_1_naming_what_failed(restaurant, tmp_path):
    path = write(tmp_path, "t.json", document(AFTER_HOURS, BROKEN))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("test_flows", str(path), "--junit", str(tmp_path / "j.xml"), stdout=out)
    assert exited.value.code == 1
    text = out.getvalue()
    assert "PASS after hours gets the booking link" in text
    assert "FAIL staff answer" in text and "expected the call to end 'routed'" in text
    assert "1 failed" in text
    failure = ET.parse(tmp_path / "j.xml").getroot().find(".//failure")
    assert failure is not None and "routed" in failure.get("message")


def test_the_command_refuses_files_it_cannot_run_before_running_any(restaurant, tmp_path):
    good = write(tmp_path, "good.json", document(AFTER_HOURS))
    bad = write(tmp_path, "bad.json", document({"name": "x", "steps": [{"press": "one"}]}))
    unknown = write(tmp_path, "unknown.json", document(LUNCH, flow="nowhere"))
    other = write(tmp_path, "other.json", {"hello": "world"})
    broken_flow = write(tmp_path, "broken.json", {**restaurant.definition, "start": "nowhere"})
    with pytest.raises(CommandError) as refused:
        call_command("test_flows", str(good), str(bad), str(unknown), str(other), str(broken_flow))
    message = str(refused.value)
    assert refused.value.returncode == 2
    assert f"{bad}: $.tests[0].steps[0].press:" in message
    assert f"{unknown}: $.flow: no flow 'nowhere': give its file too, or import it first" in message
    assert f"{other}: $.format: neither a flow test file (callflow-test/1) nor a flow" in message
    assert f"{broken_flow}: $.start:" in message
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="no \\*.json files"):
        call_command("test_flows", str(tmp_path / "empty"))
    write(tmp_path / "empty", "flow.json", restaurant.definition)
    with pytest.raises(CommandError, match="No flow test files"):
        call_command("test_flows", str(tmp_path / "empty"))


def test_the_command_tests_flow_files_from_git_without_importing_them(tmp_path):
    """CI on a fresh database: the flow files beside the tests are what is tested, and
    nothing of them is kept."""
    definition = json.loads((FIXTURES / "restaurant.json").read_text())
    write(tmp_path, "restaurant.json", definition)
    write(tmp_path, "restaurant.test.json", document(AFTER_HOURS, LUNCH))
    out = io.StringIO()
    call_command("test_flows", str(tmp_path), stdout=out)
    assert "(flow restaurant, as in " in out.getvalue()
    assert "2 test(s) in 1 file(s): 2 passed, 0 failed." in out.getvalue()
    assert not Flow.objects.exists() and not CallSession.objects.exists()
    # a flow here too: the file is what is tested, the draft here is left as it is
    here = Flow.objects.create(slug="restaurant", name="Old", definition=definition)
    closed_all_day = json.loads(json.dumps(definition))
    hours = next(n for n in closed_all_day["nodes"] if n["id"] == "hours")
    hours["config"]["schedule"] = {}
    write(tmp_path, "restaurant.json", closed_all_day)
    with pytest.raises(SystemExit):
        call_command("test_flows", str(tmp_path), stdout=(out := io.StringIO()))
    assert "FAIL lunch books a table" in out.getvalue()
    here.refresh_from_db()
    assert here.definition == definition and here.name == "Old"


# --- import -----------------------------------------------------------------------------------
def test_import_keeps_a_test_file_as_its_flows_tests_and_publishing_runs_them(tmp_path):
    definition = json.loads((FIXTURES / "restaurant.json").read_text())
    write(tmp_path, "restaurant.json", definition)
    write(tmp_path, "restaurant.test.json", document(AFTER_HOURS, BROKEN))
    with pytest.raises(CommandError) as refused:
        call_command("import_flows", str(tmp_path), "--publish")
    assert "restaurant.test.json: $.tests[1]: Test 'staff answer' fails" in str(refused.value)
    assert not Flow.objects.exists()  # all or nothing
    write(tmp_path, "restaurant.test.json", document(AFTER_HOURS, LUNCH))
    out = io.StringIO()
    call_command("import_flows", str(tmp_path), "--publish", stdout=out)
    assert "2 flow test(s) stored" in out.getvalue()
    flow = Flow.objects.get()
    assert flow.tests == [AFTER_HOURS, LUNCH] and flow.published_version.number == 1
    again = io.StringIO()
    call_command("import_flows", str(tmp_path), "--publish", stdout=again)
    assert "2 flow test(s) unchanged" in again.getvalue()


def test_import_refuses_tests_of_an_unknown_flow_or_twice_the_same(restaurant, tmp_path):
    write(tmp_path, "a.json", document(AFTER_HOURS, flow="nowhere"))
    with pytest.raises(CommandError, match=r"a.json: \$.flow: No flow 'nowhere'"):
        call_command("import_flows", str(tmp_path / "a.json"))
    write(tmp_path, "b.json", document(AFTER_HOURS))
    write(tmp_path, "c.json", document(LUNCH))
    with pytest.raises(CommandError, match="are also in"):
        call_command("import_flows", str(tmp_path / "b.json"), str(tmp_path / "c.json"))
    assert Flow.objects.get().tests == []
    call_command("import_flows", str(tmp_path / "b.json"), stdout=io.StringIO())
    assert Flow.objects.get().tests == [AFTER_HOURS]


def test_export_writes_the_tests_that_import_reads_back(restaurant, tmp_path):
    restaurant.tests = [AFTER_HOURS, LUNCH]
    restaurant.save()
    call_command("export_flow", "restaurant", "--tests", "-o", str(tmp_path / "r.test.json"))
    exported = json.loads((tmp_path / "r.test.json").read_text())
    assert exported == document(AFTER_HOURS, LUNCH)
    restaurant.tests = []
    restaurant.save()
    call_command("import_flows", str(tmp_path / "r.test.json"), stdout=io.StringIO())
    assert Flow.objects.get().tests == [AFTER_HOURS, LUNCH]
    with pytest.raises(CommandError, match="no versions"):
        call_command("export_flow", "restaurant", "--tests", "--flow-version", "1")


def test_tests_changed_while_publishing_are_run_again_inside_the_lock(restaurant, publisher):
    """The tests run before the flow is locked; a change to them in between (another
    supervisor saving) is caught: they run again on what is published."""
    from flows import services

    seen = []

    def check(flow, definition):
        seen.append([t["name"] for t in flow.tests])
        if len(seen) == 1:  # someone saves a failing test just after the first run
            Flow.objects.filter(pk=flow.pk).update(tests=[AFTER_HOURS, BROKEN])
        return []

    services.PUBLISH_CHECKS.insert(0, check)
    try:
        restaurant.tests = [AFTER_HOURS]
        restaurant.save()
        with pytest.raises(services.InvalidDefinition, match="1 of the flow's 2 test"):
            services.flow_publish(flow=restaurant, user=publisher)
    finally:
        services.PUBLISH_CHECKS.remove(check)
    assert seen == [[AFTER_HOURS["name"]], [AFTER_HOURS["name"], BROKEN["name"]]]
    assert not FlowVersion.objects.exists()


def test_a_run_in_a_request_is_bounded_and_publishing_fails_closed(
    restaurant, editor_api, publisher_api, settings, tmp_path
):
    settings.FLOW_TESTS_SECONDS = 0  # used up before the first test
    restaurant.tests = [AFTER_HOURS, LUNCH]
    restaurant.save()
    result = editor_api.post(url_of(run=True), format="json").json()
    assert (result["total"], result["failed"]) == (2, 2)
    assert result["tests"][0]["failures"] == [
        "not run: the run's 0 s (FLOW_TESTS_SECONDS) were used up; "
        "manage.py test_flows runs them all"
    ]
    refused = publisher_api.post("/api/flows/restaurant/publish/", {}, format="json")
    assert refused.status_code == 400  # not checked is not published
    assert not FlowVersion.objects.exists()
    out = io.StringIO()  # the command has no bound
    call_command("test_flows", str(write(tmp_path, "t.json", document(AFTER_HOURS))), stdout=out)
    assert "1 passed, 0 failed" in out.getvalue()
