"""The flows endpoints through the real API: drafts, validation, publishing, versions, diff."""

import copy
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows import numbers, services
from flows.models import Flow, FlowVersion

from .test_api_roles import acme_definition


def with_text(definition: dict, text: str) -> dict:
    changed = copy.deepcopy(definition)
    changed["nodes"][0]["config"]["text"] = text
    return changed


def with_orphan(definition: dict) -> dict:
    """A draft that saves (a warning) but cannot be published (an error on publish)."""
    changed = copy.deepcopy(definition)
    changed["nodes"].append({"id": "orphan", "type": "hangup", "config": {}, "exits": {}})
    return changed


@pytest.fixture
def created(editor_api) -> dict:
    response = editor_api.post("/api/flows/", {"definition": acme_definition()}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- create -------------------------------------------------------------------------------


def test_create_from_a_definition(created):
    assert created["slug"] == "acme"
    assert created["revision"] == 1
    assert created["status"] == "draft"
    assert created["published_version"] is None
    assert created["updated_by"] == "eddie"
    assert created["definition"] == acme_definition()
    assert created["problems"] == []
    assert created["numbers"] == []


def test_create_empty_flow_from_slug_and_name(editor_api):
    response = editor_api.post("/api/flows/", {"slug": "sales", "name": "Sales"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert [node["type"] for node in body["definition"]["nodes"]] == ["hangup"]
    assert body["definition"]["name"] == "Sales"


def test_create_taken_slug_is_409(created, editor_api):
    response = editor_api.post("/api/flows/", {"definition": acme_definition()}, format="json")
    assert response.status_code == 409
    assert response.json()["slug"] == "acme"


def test_create_from_an_empty_definition_is_400_with_problems(editor_api):
    response = editor_api.post("/api/flows/", {"definition": {}}, format="json")
    assert response.status_code == 400
    assert response.json()["problems"]


def test_create_with_errors_is_400_with_problems_and_creates_nothing(editor_api):
    broken = acme_definition()
    broken["start"] = "nowhere"
    response = editor_api.post("/api/flows/", {"definition": broken}, format="json")
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert any(p["path"] == "$.start" and p["severity"] == "error" for p in problems)
    assert not Flow.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"definition": "not an object"}, "definition"),
        ({"definition": [1, 2]}, "definition"),
        ({"definition": None}, "definition"),
        ({"slug": "only-a-slug"}, None),
        ({"slug": "Not A Slug!", "name": "x"}, "slug"),
    ],
)
def test_create_with_wrong_types_names_the_field(editor_api, body, field):
    response = editor_api.post("/api/flows/", body, format="json")
    assert response.status_code == 400
    error = response.json()
    if field:
        assert error["detail"].startswith(f"{field}: ")
        assert field in error["fields"]
    else:
        assert "definition" in error["detail"]


def test_non_json_body_is_a_json_400(editor_api):
    response = editor_api.post("/api/flows/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "JSON parse error" in response.json()["detail"]


def test_unknown_flow_is_a_json_404(viewer_api, db):
    response = viewer_api.get("/api/flows/nope/")
    assert response.status_code == 404
    assert response.json()["detail"]


# --- save the draft ------------------------------------------------------------------------


def put(client, definition, revision, **extra):
    body = {"definition": definition, "revision": revision, **extra}
    return client.put("/api/flows/acme/", body, format="json")


def test_save_bumps_revision(created, editor_api):
    response = put(editor_api, with_text(created["definition"], "Hi."), 1)
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    assert Flow.objects.get().definition["nodes"][0]["config"]["text"] == "Hi."


def test_stale_save_is_409_with_who_and_when_then_force_overwrites(
    created, editor_api, publisher_api
):
    assert put(publisher_api, with_text(created["definition"], "Pia's"), 1).status_code == 200

    stale = put(editor_api, with_text(created["definition"], "Eddie's"), 1)
    assert stale.status_code == 409
    body = stale.json()
    flow = Flow.objects.get()
    assert body["revision"] == 2
    assert body["updated_by"] == "pia"
    assert body["detail"] == (
        f"Changed by pia at {flow.updated_at:%Y-%m-%d %H:%M:%S UTC}. "
        "Reload, or overwrite their changes."
    )
    assert body["updated_at"].startswith(flow.updated_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert flow.definition["nodes"][0]["config"]["text"] == "Pia's"

    forced = put(editor_api, with_text(created["definition"], "Eddie's"), 1, force=True)
    assert forced.status_code == 200
    assert forced.json()["revision"] == 3
    assert forced.json()["updated_by"] == "eddie"
    assert Flow.objects.get().definition["nodes"][0]["config"]["text"] == "Eddie's"


def test_no_op_save_keeps_revision_and_writes_nothing(created, editor_api):
    before = Flow.objects.get()
    response = put(editor_api, created["definition"], 1)
    assert response.status_code == 200
    assert response.json()["revision"] == 1
    after = Flow.objects.get()
    assert (after.revision, after.updated_at) == (before.revision, before.updated_at)


def test_save_with_errors_is_400_and_keeps_the_draft(created, editor_api):
    broken = copy.deepcopy(created["definition"])
    broken["nodes"][0]["exits"]["next"] = "missing"
    response = put(editor_api, broken, 1)
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert any(p["node"] == "greeting" and p["severity"] == "error" for p in problems)
    flow = Flow.objects.get()
    assert flow.revision == 1 and flow.definition == created["definition"]


@pytest.mark.parametrize("fmt", [None, "callflow/9"])
def test_save_with_an_unknown_format_is_400_at_the_format(created, editor_api, fmt):
    definition = copy.deepcopy(created["definition"])
    definition.pop("format")
    if fmt:
        definition["format"] = fmt
    response = put(editor_api, definition, 1)
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "$.format"
    assert Flow.objects.get().revision == 1


def test_warnings_do_not_block_a_draft(created, editor_api):
    response = put(editor_api, with_orphan(created["definition"]), 1)
    assert response.status_code == 200
    problems = response.json()["problems"]
    assert [(p["node"], p["severity"]) for p in problems] == [("orphan", "warning")]
    # the detail view shows the same problems
    assert editor_api.get("/api/flows/acme/").json()["problems"] == problems


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"definition": acme_definition(), "revision": "abc"}, "revision"),
        ({"definition": acme_definition()}, "revision"),
        ({"revision": 1}, "definition"),
        ({"definition": acme_definition(), "revision": 1, "force": "maybe"}, "force"),
    ],
)
def test_save_with_wrong_types_names_the_field(created, editor_api, body, field):
    response = editor_api.put("/api/flows/acme/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: ")


def test_patch_is_not_offered(created, publisher_api):
    response = publisher_api.patch("/api/flows/acme/", {"revision": 1}, format="json")
    assert response.status_code == 405


# --- validate ------------------------------------------------------------------------------


def test_validate_the_draft_and_a_candidate(created, viewer_api):
    assert viewer_api.post("/api/flows/acme/validate/", {}, format="json").json() == {
        "valid": True,
        "problems": [],
    }
    broken = copy.deepcopy(created["definition"])
    broken["nodes"][1]["type"] = "teleport"
    result = viewer_api.post(
        "/api/flows/acme/validate/", {"definition": broken}, format="json"
    ).json()
    assert result["valid"] is False
    assert result["problems"][0]["path"].startswith("$.nodes[1]")
    assert Flow.objects.get().definition == created["definition"]  # validating saves nothing


def test_validate_with_publish_rules(created, editor_api, viewer_api):
    put(editor_api, with_orphan(created["definition"]), 1)
    draft = viewer_api.post("/api/flows/acme/validate/", {}, format="json").json()
    assert draft["valid"] is True
    assert draft["problems"][0]["severity"] == "warning"
    strict = viewer_api.post("/api/flows/acme/validate/?publish=1", {}, format="json").json()
    assert strict["valid"] is False
    assert strict["problems"][0]["severity"] == "error"


# --- publish, versions, rollback -----------------------------------------------------------


def publish(client, **body):
    return client.post("/api/flows/acme/publish/", body, format="json")


def test_publish_with_errors_is_400_and_creates_nothing(created, editor_api, publisher_api):
    put(editor_api, with_orphan(created["definition"]), 1)
    response = publish(publisher_api, note="try")
    assert response.status_code == 400
    assert response.json()["problems"][0]["node"] == "orphan"
    assert not FlowVersion.objects.exists()
    assert Flow.objects.get().published_version is None


def test_publish_then_status_follows_the_draft(created, editor_api, publisher_api, viewer_api):
    response = publish(publisher_api, note="first", revision=1)
    assert response.status_code == 201
    version = response.json()
    assert version["number"] == 1
    assert version["note"] == "first"
    assert version["published_by"] == "pia"
    assert version["is_current"] is True
    assert version["definition"] == created["definition"]
    assert viewer_api.get("/api/flows/acme/").json()["status"] == "published"

    put(editor_api, with_text(created["definition"], "New"), 1)
    detail = viewer_api.get("/api/flows/acme/").json()
    assert (detail["status"], detail["published_version"]) == ("changed", 1)

    # publishing the same draft twice makes no second version
    assert publish(publisher_api).status_code == 201
    again = publish(publisher_api)
    assert again.status_code == 200
    assert again.json()["number"] == 2
    assert FlowVersion.objects.count() == 2


def test_publish_guards_against_a_changed_draft(created, editor_api, publisher_api):
    put(editor_api, with_text(created["definition"], "New"), 1)
    response = publish(publisher_api, revision=1)
    assert response.status_code == 409
    assert response.json()["revision"] == 2
    assert not FlowVersion.objects.exists()


@pytest.fixture
def two_versions(created, editor_api, publisher_api) -> dict:
    publish(publisher_api, note="one")
    v2 = with_text(created["definition"], "Version two")
    v2["nodes"].insert(
        1, {"id": "extra", "type": "say", "config": {"text": "x"}, "exits": {"next": "bye"}}
    )
    v2["nodes"][0]["exits"]["next"] = "extra"
    put(editor_api, v2, 1)
    publish(publisher_api, note="two")
    return {"v1": created["definition"], "v2": v2}


def test_versions_newest_first_and_detail(two_versions, viewer_api):
    versions = viewer_api.get("/api/flows/acme/versions/").json()
    assert [(v["number"], v["note"], v["is_current"]) for v in versions] == [
        (2, "two", True),
        (1, "one", False),
    ]
    assert set(versions[0]) == {
        "number", "note", "checksum", "published_at", "published_by", "rolled_back_from",
        "is_current",
    }  # fmt: skip
    one = viewer_api.get("/api/flows/acme/versions/1/").json()
    assert one["definition"] == two_versions["v1"]
    assert one["is_current"] is False
    missing = viewer_api.get("/api/flows/acme/versions/9/")
    assert missing.status_code == 404 and "9" in missing.json()["detail"]


def test_rollback_publishes_a_new_version_and_resets_the_draft(two_versions, publisher_api):
    response = publisher_api.post("/api/flows/acme/rollback/", {"version": 1}, format="json")
    assert response.status_code == 201
    version = response.json()
    assert (version["number"], version["rolled_back_from"], version["is_current"]) == (3, 1, True)
    assert version["definition"] == two_versions["v1"]
    flow = Flow.objects.get()
    assert flow.definition == two_versions["v1"]
    assert flow.published_version.number == 3
    assert FlowVersion.objects.count() == 3


def test_rollback_to_a_missing_version_is_404(two_versions, publisher_api):
    response = publisher_api.post("/api/flows/acme/rollback/", {"version": 7}, format="json")
    assert response.status_code == 404
    assert FlowVersion.objects.count() == 2
    bad = publisher_api.post("/api/flows/acme/rollback/", {"version": "x"}, format="json")
    assert bad.status_code == 400 and bad.json()["detail"].startswith("version: ")


# --- diff ----------------------------------------------------------------------------------


def test_diff_between_versions_and_the_draft(two_versions, editor_api, viewer_api):
    diff = viewer_api.get("/api/flows/acme/diff/?from=1&to=2").json()
    assert (diff["from"], diff["to"]) == (1, 2)
    assert diff["nodes"] == {
        "added": ["extra"],
        "removed": [],
        "changed": [{"id": "greeting", "fields": ["config.text"]}],
    }
    assert diff["exits"]["changed"] == [
        {"node": "greeting", "exit": "next", "from": "bye", "to": "extra"}
    ]
    assert diff["exits"]["added"] == [{"node": "extra", "exit": "next", "to": "bye"}]

    # default: published (2) -> draft
    draft = copy.deepcopy(two_versions["v2"])
    draft["name"] = "Renamed"
    put(editor_api, draft, 2)
    default = viewer_api.get("/api/flows/acme/diff/").json()
    assert (default["from"], default["to"], default["settings"]) == (2, "draft", ["name"])
    assert default["nodes"] == {"added": [], "removed": [], "changed": []}

    assert viewer_api.get("/api/flows/acme/diff/?from=&to=").json() == default

    backwards = viewer_api.get("/api/flows/acme/diff/?from=draft&to=1").json()
    assert backwards["nodes"]["removed"] == ["extra"]


def test_diff_before_anything_is_published(created, viewer_api):
    diff = viewer_api.get("/api/flows/acme/diff/").json()
    assert diff["from"] is None
    assert diff["nodes"]["added"] == ["greeting", "bye"]


@pytest.mark.parametrize(
    ("query", "status"), [("?from=abc", 400), ("?to=0", 400), ("?from=5", 404)]
)
def test_diff_bad_references(created, viewer_api, query, status):
    response = viewer_api.get(f"/api/flows/acme/diff/{query}")
    assert response.status_code == status
    assert response.json()["detail"]


# --- export --------------------------------------------------------------------------------


def test_export_the_draft_and_a_version(two_versions, viewer_api):
    draft = viewer_api.get("/api/flows/acme/export/")
    assert draft.status_code == 200
    assert draft["Content-Disposition"] == 'attachment; filename="acme.json"'
    assert draft["Content-Type"].startswith("application/json")
    assert json.loads(draft.content) == two_versions["v2"]

    one = viewer_api.get("/api/flows/acme/export/?version=1")
    assert one["Content-Disposition"] == 'attachment; filename="acme-v1.json"'
    assert json.loads(one.content) == two_versions["v1"]

    assert viewer_api.get("/api/flows/acme/export/?version=9").status_code == 404
    assert viewer_api.get("/api/flows/acme/export/?version=x").status_code == 400


def test_export_ignores_the_browser_accept_header(created, viewer_api):
    response = viewer_api.get("/api/flows/acme/export/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert json.loads(response.content) == created["definition"]


# --- list, search, delete ------------------------------------------------------------------


DESKS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def make_flows(count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        definition = acme_definition(f"flow-{i}")
        definition["description"] = f"The {DESKS[i]} desk"
        flow = services.flow_create(definition=definition)
        if i % 2:
            services.flow_publish(flow=flow)
        numbers.number_bind(number=f"+4416123450{i:02d}", flow=flow)


def test_list_is_paginated_with_status(db, viewer_api):
    make_flows(2)
    page = viewer_api.get("/api/flows/").json()
    assert page["count"] == 2 and page["next"] is None and page["previous"] is None
    first, second = page["results"]
    assert set(first) == {
        "slug", "name", "description", "revision", "status", "published_version", "numbers",
        "updated_at", "updated_by", "node_count",
    }  # fmt: skip
    assert (first["slug"], first["status"], first["published_version"]) == ("flow-0", "draft", None)
    assert (second["status"], second["published_version"]) == ("published", 1)
    assert first["numbers"] == ["+441612345000"]
    assert first["node_count"] == 2


def test_list_queries_do_not_grow_with_flows(db, viewer_api):
    make_flows(2)
    viewer_api.get("/api/flows/")  # warm the permission cache
    with CaptureQueriesContext(connection) as few:
        assert viewer_api.get("/api/flows/").status_code == 200
    make_flows(6, start=2)
    with CaptureQueriesContext(connection) as many:
        response = viewer_api.get("/api/flows/")
    assert response.json()["count"] == 8
    assert len(many.captured_queries) == len(few.captured_queries) <= 3  # count, page, numbers


@pytest.mark.parametrize(
    ("search", "slugs"),
    [
        ("flow-1", ["flow-1"]),
        ("FLOW-2 support", ["flow-2"]),  # name, case-insensitive, every word must match
        ("Delta desk", ["flow-3"]),  # description
        ("+441612345002", ["flow-2"]),  # a bound number, "+" sent encoded
        ("nothing-like-this", []),
    ],
)
def test_search(db, viewer_api, search, slugs):
    make_flows(4)
    response = viewer_api.get("/api/flows/", {"search": search})
    assert [flow["slug"] for flow in response.json()["results"]] == slugs


def test_delete_a_flow(created, publisher_api):
    assert publisher_api.delete("/api/flows/acme/").status_code == 204
    assert not Flow.objects.exists()
    assert publisher_api.delete("/api/flows/acme/").status_code == 404
