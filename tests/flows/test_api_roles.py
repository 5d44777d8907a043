"""Every endpoint of the flows API against every role: who gets in, who is refused."""

import copy

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from flows import numbers, services
from flows.models import Flow
from ivr_runtime.models import CallSession

ROLES = ["anon", "viewer", "editor", "publisher"]
RANK = {role: rank for rank, role in enumerate(ROLES)}


def acme_definition(slug: str = "acme", text: str = "Thanks for calling Acme.") -> dict:
    return {
        "format": "callflow/1",
        "slug": slug,
        "name": f"{slug.title()} support",
        "start": "greeting",
        "nodes": [
            {"id": "greeting", "type": "say", "config": {"text": text}, "exits": {"next": "bye"}},
            {"id": "bye", "type": "hangup", "config": {}, "exits": {}},
        ],
    }


@pytest.fixture
def acme(db) -> Flow:
    """Published as version 1, then the draft changed: there is something to publish."""
    flow = services.flow_create(definition=acme_definition())
    services.flow_publish(flow=flow)
    services.flow_update_draft(
        flow=flow, definition=acme_definition(text="Hello again."), base_revision=flow.revision
    )
    numbers.number_bind(number="+441612345678", flow=flow)
    # a call on a flow of its own (a flow with calls cannot be deleted)
    called = services.flow_create(definition=acme_definition("called"))
    services.flow_publish(flow=called)
    CallSession.objects.create(
        call_sid="CA0123456789abcdef0123456789abcdef",
        flow=called,
        flow_version=called.published_version,
        from_number="+447700900123",
        to_number="+441612345678",
        state={},
    )
    return flow


def _current_draft(flow_slug: str = "acme") -> dict:
    flow = Flow.objects.get(slug=flow_slug)
    changed = copy.deepcopy(flow.definition)
    changed["nodes"][0]["config"]["text"] = "Changed."
    return {"definition": changed, "revision": flow.revision}


# (least role, method, url, body or a function returning it, status when allowed)
ENDPOINTS = [
    ("viewer", "get", "/api/flows/", None, 200),
    ("editor", "post", "/api/flows/", {"slug": "new-flow", "name": "New"}, 201),
    ("viewer", "get", "/api/flows/acme/", None, 200),
    ("editor", "put", "/api/flows/acme/", _current_draft, 200),
    ("publisher", "delete", "/api/flows/acme/", None, 204),
    ("viewer", "post", "/api/flows/acme/validate/", {}, 200),
    ("publisher", "post", "/api/flows/acme/publish/", {"note": "v2"}, 201),
    ("viewer", "get", "/api/flows/acme/versions/", None, 200),
    ("viewer", "get", "/api/flows/acme/versions/1/", None, 200),
    ("publisher", "post", "/api/flows/acme/rollback/", {"version": 1}, 201),
    ("viewer", "get", "/api/flows/acme/drafts/", None, 200),
    # no kept draft 1 here: an allowed role gets past the permission to the 404
    # (tests/flows/test_kept_drafts.py restores real ones in each role)
    ("viewer", "get", "/api/flows/acme/drafts/1/", None, 404),
    ("editor", "post", "/api/flows/acme/drafts/1/restore/", {"revision": 1}, 404),
    ("viewer", "get", "/api/flows/acme/diff/", None, 200),
    ("viewer", "get", "/api/flows/acme/export/", None, 200),
    ("viewer", "get", "/api/flows/acme/tests/", None, 200),
    ("editor", "put", "/api/flows/acme/tests/", {"tests": []}, 200),
    ("editor", "post", "/api/flows/acme/tests/run/", {"tests": []}, 200),
    ("publisher", "post", "/api/import/", {"definitions": [acme_definition("other")]}, 200),
    ("viewer", "get", "/api/node-types/", None, 200),
    ("viewer", "get", "/api/node-types/say/", None, 200),
    ("viewer", "get", "/api/format/", None, 200),
    ("viewer", "get", "/api/numbers/", None, 200),
    ("publisher", "post", "/api/numbers/", {"number": "+442071838750", "flow": "acme"}, 201),
    ("publisher", "delete", "/api/numbers/+441612345678/", None, 204),
    ("viewer", "get", "/api/me/", None, 200),
    ("viewer", "get", "/api/calls/", None, 200),
    ("viewer", "get", "/api/calls/CA0123456789abcdef0123456789abcdef/", None, 200),
    ("viewer", "get", "/api/calls/export.csv", None, 200),
    ("viewer", "get", "/api/timeline/?number=%2B447700900123", None, 200),
    ("viewer", "get", "/api/flows/acme/stats/", None, 200),
    ("editor", "post", "/api/flows/acme/simulate/", {"event": {"type": "start"}}, 200),
    # a number not ours: an allowed role gets past the permission to the 400 (no call placed)
    (
        "publisher",
        "post",
        "/api/flows/acme/calls/",
        {"to": "+447700900123", "from": "+15005550006"},
        400,
    ),
    # no outbound call 1 here: an allowed role gets past the permission to the 404
    ("viewer", "get", "/api/flows/acme/calls/1/", None, 404),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("least", "method", "url", "body", "allowed"),
    ENDPOINTS,
    ids=[f"{e[1].upper()} {e[2]}" for e in ENDPOINTS],
)
def test_role_matrix(request, acme, role, least, method, url, body, allowed):
    client = APIClient() if role == "anon" else request.getfixturevalue(f"{role}_api")
    data = body() if callable(body) else body
    response = getattr(client, method)(url, data, format="json")
    if role == "anon":
        assert response.status_code in (401, 403)
    elif RANK[role] < RANK[least]:
        assert response.status_code == 403, response.content
        assert response.json()["detail"]
    else:
        assert response.status_code == allowed, response.content


def _pattern(url: str) -> str:
    """The schema's path template an endpoint's URL stands for."""
    path = url.split("?")[0]
    for concrete, template in (
        ("/acme/", "/{slug}/"),
        ("/versions/1/", "/versions/{number}/"),
        ("/node-types/say/", "/node-types/{type}/"),
        ("/numbers/+441612345678/", "/numbers/{number}/"),
        ("/calls/CA0123456789abcdef0123456789abcdef/", "/calls/{sid}/"),
        ("/drafts/1/", "/drafts/{id}/"),
        ("/calls/1/", "/calls/{id}/"),
    ):
        path = path.replace(concrete, template)
    return path


def test_every_endpoint_of_the_schema_is_in_the_role_matrix(viewer_api):
    """An endpoint added without a row here fails: each one's roles are checked above."""
    schema = viewer_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    published = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    covered = {(_pattern(url), method) for _, method, url, _, _ in ENDPOINTS}
    assert published - covered == set(), "endpoints with no row in ENDPOINTS"
    assert covered - published == set(), "rows for endpoints the schema does not list"


def test_a_refused_write_changes_nothing(acme, editor_api):
    assert editor_api.post("/api/flows/acme/publish/", {}, format="json").status_code == 403
    assert editor_api.delete("/api/flows/acme/").status_code == 403
    acme.refresh_from_db()
    assert acme.versions.count() == 1


def test_signed_in_without_a_role_reaches_only_me(db):
    client = APIClient()
    client.force_authenticate(User.objects.create_user("nobody"))
    assert client.get("/api/flows/").status_code == 403
    me = client.get("/api/me/").json()
    assert me == {"username": "nobody", "roles": [], "can_edit": False, "can_publish": False}


def test_permissions_not_group_names_decide(acme):
    """A user given `publish_flow` directly (no group) can publish; the groups are a convenience."""
    user = User.objects.create_user("solo")
    user.user_permissions.add(
        Permission.objects.get(codename="view_flow"),
        Permission.objects.get(codename="publish_flow"),
    )
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/flows/acme/").status_code == 200
    assert client.post("/api/flows/acme/publish/", {}, format="json").status_code == 201
    # ... but not change_flow, so no draft edits
    assert client.put("/api/flows/acme/", _current_draft(), format="json").status_code == 403


def test_superuser_passes(acme):
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("root", password="x"))
    assert client.post("/api/flows/acme/publish/", {}, format="json").status_code == 201
    me = client.get("/api/me/").json()
    assert me["can_publish"] and me["can_edit"]


def test_inactive_user_is_refused(acme, viewer):
    viewer.is_active = False
    viewer.save(update_fields=["is_active"])
    client = APIClient()
    client.force_authenticate(viewer)
    assert client.get("/api/flows/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("fixture", "roles", "can_edit", "can_publish"),
    [
        ("viewer_api", ["viewer"], False, False),
        ("editor_api", ["editor"], True, False),
        ("publisher_api", ["publisher"], True, True),
    ],
)
def test_me(request, fixture, roles, can_edit, can_publish):
    me = request.getfixturevalue(fixture).get("/api/me/").json()
    assert me["roles"] == roles
    assert (me["can_edit"], me["can_publish"]) == (can_edit, can_publish)
