"""POST /api/import/ with JSON bodies and uploaded files, and the export/import round trip."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from flows.models import Flow, FlowVersion

from .test_api_roles import acme_definition


def upload(name: str, content: str | bytes) -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="application/json")


def import_json(client, *definitions, **options):
    body = {"definitions": list(definitions), **options}
    return client.post("/api/import/", body, format="json")


def test_import_json_creates_then_changes_nothing_the_second_time(publisher_api):
    first = import_json(publisher_api, acme_definition("acme"), acme_definition("sales"))
    assert first.status_code == 200, first.content
    report = first.json()
    assert [(f["slug"], f["created"], f["changed"]) for f in report["flows"]] == [
        ("acme", True, True),
        ("sales", True, True),
    ]
    assert report["flows"][0]["file"] == "definitions[0]"
    assert report["dry_run"] is False
    revisions = list(Flow.objects.values_list("slug", "revision", "updated_at"))

    again = import_json(publisher_api, acme_definition("acme"), acme_definition("sales"))
    assert [(f["created"], f["changed"]) for f in again.json()["flows"]] == [(False, False)] * 2
    assert list(Flow.objects.values_list("slug", "revision", "updated_at")) == revisions


def test_import_and_publish(publisher_api):
    response = import_json(publisher_api, acme_definition(), publish=True)
    flow = response.json()["flows"][0]
    assert (flow["published"], flow["published_version"]) == (True, 1)
    assert Flow.objects.get().published_version.number == 1
    again = import_json(publisher_api, acme_definition(), publish=True).json()["flows"][0]
    assert (again["published"], again["published_version"]) == (False, 1)
    assert FlowVersion.objects.count() == 1


def test_dry_run_reports_and_writes_nothing(publisher_api):
    response = import_json(publisher_api, acme_definition(), dry_run=True, publish=True)
    assert response.status_code == 200
    report = response.json()
    assert report["dry_run"] is True
    assert report["flows"][0]["created"] is True
    assert not Flow.objects.exists() and not FlowVersion.objects.exists()


def test_import_multipart_files(publisher_api):
    response = publisher_api.post(
        "/api/import/",
        {
            "files": [
                upload("acme.json", json.dumps(acme_definition("acme"))),
                upload("sales.json", json.dumps(acme_definition("sales"))),
            ],
            "publish": "true",
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    flows = response.json()["flows"]
    assert [(f["file"], f["slug"], f["published_version"]) for f in flows] == [
        ("acme.json", "acme", 1),
        ("sales.json", "sales", 1),
    ]


def test_warnings_are_reported_with_their_file(publisher_api):
    definition = acme_definition()
    definition["nodes"].append({"id": "orphan", "type": "hangup", "config": {}})
    report = import_json(publisher_api, definition).json()
    assert report["warnings"] == [
        {
            "file": "definitions[0]",
            "path": "$.nodes[2]",
            "node": "orphan",
            "message": report["warnings"][0]["message"],
        }
    ]
    assert "orphan" in report["warnings"][0]["message"]


def test_bad_import_names_file_path_and_problem_and_changes_nothing(publisher_api):
    import_json(publisher_api, acme_definition("acme"))
    before = list(Flow.objects.values_list("slug", "revision", "definition"))
    good = acme_definition("sales")
    changed_acme = acme_definition("acme", text="Changed")
    broken = acme_definition("broken")
    broken["start"] = "nowhere"
    response = publisher_api.post(
        "/api/import/",
        {
            "files": [
                upload("sales.json", json.dumps(good)),
                upload("acme.json", json.dumps(changed_acme)),
                upload("broken.json", json.dumps(broken)),
                upload("garbage.json", "{not json"),
            ]
        },
        format="multipart",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    by_file = {error["file"]: error for error in body["errors"]}
    assert set(by_file) == {"broken.json", "garbage.json"}
    assert by_file["broken.json"]["path"] == "$.start"
    assert "nowhere" in by_file["broken.json"]["message"]
    assert "JSON" in by_file["garbage.json"]["message"]
    assert set(by_file["garbage.json"]) == {"file", "path", "node", "message"}
    assert list(Flow.objects.values_list("slug", "revision", "definition")) == before


def test_nothing_to_import_is_400(publisher_api):
    response = publisher_api.post("/api/import/", {"definitions": []}, format="json")
    assert response.status_code == 400
    assert "definitions" in response.json()["detail"]
    wrong = publisher_api.post("/api/import/", {"definitions": ["text"]}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["detail"].startswith("definitions[0]: ")


def test_export_then_import_round_trip(publisher_api, editor_api):
    definition = acme_definition()
    definition["description"] = "Ünïcode survives"
    definition["nodes"][0]["position"] = {"x": 10.5, "y": -3}
    editor_api.post("/api/flows/", {"definition": definition}, format="json")
    exported = publisher_api.get("/api/flows/acme/export/")
    assert json.loads(exported.content) == definition

    # importing the export over the same flow changes nothing
    same = publisher_api.post(
        "/api/import/", {"files": [upload("acme.json", exported.content)]}, format="multipart"
    )
    assert same.json()["flows"][0]["changed"] is False

    # into an empty database it recreates the flow, which exports byte for byte the same
    assert publisher_api.delete("/api/flows/acme/").status_code == 204
    again = publisher_api.post(
        "/api/import/", {"files": [upload("acme.json", exported.content)]}, format="multipart"
    )
    assert again.json()["flows"][0]["created"] is True
    assert publisher_api.get("/api/flows/acme/export/").content == exported.content
