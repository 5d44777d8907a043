"""Nothing lost: a rollback or a restore keeps the unpublished draft it replaces, the history
lists it, and restoring it is an optimistic draft save."""

import copy

import pytest
from django.contrib.auth.models import User
from django.utils.dateparse import parse_datetime
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from flows import drafts, services
from flows.models import Flow, FlowVersion, KeptDraft

from .test_api_roles import acme_definition

pytestmark = pytest.mark.django_db


def with_text(definition: dict, text: str) -> dict:
    changed = copy.deepcopy(definition)
    changed["nodes"][0]["config"]["text"] = text
    return changed


def fresh(slug: str = "acme") -> Flow:
    return Flow.objects.select_related("published_version").get(slug=slug)


def save(client: APIClient, definition: dict, revision: int | None = None):
    revision = fresh().revision if revision is None else revision
    response = client.put(
        "/api/flows/acme/", {"definition": definition, "revision": revision}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def rollback(client: APIClient, version: int):
    return client.post("/api/flows/acme/rollback/", {"version": version}, format="json")


def restore(client: APIClient, kept_id: int, revision: int | None = None, **extra):
    revision = fresh().revision if revision is None else revision
    return client.post(
        f"/api/flows/acme/drafts/{kept_id}/restore/", {"revision": revision, **extra}, format="json"
    )


V1 = acme_definition(text="Version one.")
V2 = acme_definition(text="Version two.")
WORK = acme_definition(text="Half-finished work, never published.")


@pytest.fixture
def published(editor, publisher) -> Flow:
    """Version 1 and version 2 (live) published; the draft is version 2."""
    flow = services.flow_create(definition=V1, user=editor)
    services.flow_publish(flow=flow, user=publisher)
    services.flow_update_draft(flow=flow, definition=V2, base_revision=flow.revision, user=editor)
    services.flow_publish(flow=flow, user=publisher)
    return fresh()


@pytest.fixture
def with_work(published, editor_api) -> dict:
    """The editor saved unpublished work over version 2."""
    return save(editor_api, WORK)


# --- rollback keeps the work -----------------------------------------------------------------


def test_rollback_keeps_the_unpublished_draft_and_says_so(with_work, publisher_api):
    response = rollback(publisher_api, 1)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["rolled_back_from"], body["definition"]) == (3, 1, V1)

    kept = body["kept_draft"]
    assert kept is not None
    row = KeptDraft.objects.get()
    assert kept["id"] == row.pk
    assert kept["revision"] == with_work["revision"] == 3
    assert parse_datetime(kept["saved_at"]) == parse_datetime(with_work["updated_at"])
    assert (kept["saved_by"], kept["kept_by"], kept["reason"]) == ("eddie", "pia", "rollback")
    assert kept["rollback_version"] == 3
    assert kept["why"] == "Replaced by the rollback to version 1 (published again as version 3)."
    assert kept["restored_at"] is None and kept["restored_by"] is None
    assert row.definition == WORK
    assert row.rollback_version == FlowVersion.objects.get(number=3)

    flow = fresh()
    assert flow.definition == V1 and flow.published_version.number == 3


def test_rollback_of_a_draft_that_was_published_keeps_nothing(published, publisher_api):
    response = rollback(publisher_api, 1)
    assert response.status_code == 201
    assert response.json()["kept_draft"] is None
    assert not KeptDraft.objects.exists()


def test_rollback_to_the_version_the_draft_already_is_keeps_nothing(
    published, editor_api, publisher_api
):
    # the draft equals version 1 but not the live version 2: rolling back to 1 loses nothing
    save(editor_api, V1)
    revision = fresh().revision
    response = rollback(publisher_api, 1)
    assert response.json()["kept_draft"] is None
    assert not KeptDraft.objects.exists()
    assert fresh().revision == revision  # the draft was already version 1: not rewritten


def test_a_failed_rollback_keeps_nothing(with_work, publisher_api):
    assert rollback(publisher_api, 9).status_code == 404
    assert not KeptDraft.objects.exists()
    assert fresh().definition == WORK


def test_the_service_keeps_who_saved_and_who_replaced(with_work, publisher):
    flow = fresh()
    version = services.flow_rollback(flow=flow, version_number=1, user=publisher)
    kept = KeptDraft.objects.get()
    assert (kept.flow, kept.revision, kept.saved_by.username, kept.kept_by) == (
        flow,
        3,
        "eddie",
        publisher,
    )
    assert kept.rollback_version == version
    assert kept.kept_at >= kept.saved_at
    assert flow.definition == V1  # the caller's instance sees the new draft


# --- the history ----------------------------------------------------------------------------


def test_the_history_lists_kept_drafts_newest_first(
    with_work, editor_api, publisher_api, viewer_api
):
    rollback(publisher_api, 1)
    second = acme_definition(text="More work.")
    save(editor_api, second)
    rollback(publisher_api, 2)

    listed = viewer_api.get("/api/flows/acme/drafts/")
    assert listed.status_code == 200
    rows = listed.json()
    assert [(r["revision"], r["rollback_version"]) for r in rows] == [(5, 4), (3, 3)]
    assert "definition" not in rows[0]
    assert rows[0]["node_count"] == 2

    detail = viewer_api.get(f"/api/flows/acme/drafts/{rows[1]['id']}/").json()
    assert detail["definition"] == WORK
    assert detail["id"] == rows[1]["id"]


def test_unknown_flows_and_drafts_are_404(with_work, publisher_api, viewer_api, editor):
    rollback(publisher_api, 1)
    kept = KeptDraft.objects.get()
    services.flow_create(definition=acme_definition("other"), user=editor)
    missing = viewer_api.get(f"/api/flows/other/drafts/{kept.pk}/")
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"Flow 'other' has no kept draft {kept.pk}."
    assert viewer_api.get("/api/flows/other/drafts/").json() == []
    nowhere = viewer_api.get("/api/flows/nowhere/drafts/")
    assert nowhere.status_code == 404 and nowhere.json()["detail"] == "There is no flow 'nowhere'."
    restored = restore(_client(editor), 999)
    assert restored.status_code == 404


# --- restoring ------------------------------------------------------------------------------


@pytest.fixture
def rolled_back(with_work, publisher_api) -> KeptDraft:
    """The work was kept by a rollback to version 1 (live as version 3, the draft)."""
    assert rollback(publisher_api, 1).status_code == 201
    return KeptDraft.objects.get()


def test_restore_makes_the_kept_draft_the_draft_without_publishing(rolled_back, editor_api):
    before = fresh()
    response = restore(editor_api, rolled_back.pk, before.revision)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["definition"] == WORK
    assert (body["revision"], body["status"], body["updated_by"]) == (
        before.revision + 1,
        "changed",
        "eddie",
    )
    assert body["problems"] == []
    # the draft it replaced was version 3 as published: nothing to keep
    assert body["kept_draft"] is None

    flow = fresh()
    assert flow.definition == WORK and flow.published_version.number == 3
    assert FlowVersion.objects.count() == 3
    rolled_back.refresh_from_db()
    assert rolled_back.restored_at is not None and rolled_back.restored_by.username == "eddie"
    listed = editor_api.get("/api/flows/acme/drafts/").json()
    assert [(r["id"], r["restored_by"]) for r in listed] == [(rolled_back.pk, "eddie")]


def test_restore_on_a_stale_revision_is_409_and_changes_nothing(rolled_back, editor_api):
    stale = fresh().revision
    save(editor_api, acme_definition(text="Someone saved meanwhile."))
    response = restore(editor_api, rolled_back.pk, stale)
    assert response.status_code == 409
    body = response.json()
    assert body["revision"] == stale + 1 and body["updated_by"] == "eddie"
    assert body["detail"].startswith("Changed by eddie at ")
    assert fresh().definition == acme_definition(text="Someone saved meanwhile.")
    assert KeptDraft.objects.count() == 1
    rolled_back.refresh_from_db()
    assert rolled_back.restored_at is None


def test_restore_over_unpublished_work_keeps_that_work_too(rolled_back, editor_api):
    newer = acme_definition(text="Newer unpublished work.")
    saved = save(editor_api, newer)
    response = restore(editor_api, rolled_back.pk, saved["revision"])
    assert response.status_code == 200
    kept = response.json()["kept_draft"]
    assert kept is not None
    assert (kept["revision"], kept["reason"], kept["saved_by"], kept["kept_by"]) == (
        saved["revision"],
        "restore",
        "eddie",
        "eddie",
    )
    assert kept["why"] == "Replaced when the kept draft of revision 3 was restored."
    assert KeptDraft.objects.get(pk=kept["id"]).definition == newer
    assert fresh().definition == WORK

    # and back again: the newer work is restored, the first work kept once more
    back = restore(editor_api, kept["id"]).json()
    assert back["definition"] == newer
    assert KeptDraft.objects.get(pk=back["kept_draft"]["id"]).definition == WORK


def test_forced_restore_over_a_newer_revision_keeps_the_newer_work(rolled_back, editor_api):
    stale = fresh().revision
    theirs = acme_definition(text="Their work.")
    save(editor_api, theirs)
    response = restore(editor_api, rolled_back.pk, stale, force=True)
    assert response.status_code == 200
    assert KeptDraft.objects.get(pk=response.json()["kept_draft"]["id"]).definition == theirs


def test_restoring_what_already_is_the_draft_writes_nothing(rolled_back, editor_api):
    first = restore(editor_api, rolled_back.pk).json()
    flow = fresh()
    again = restore(editor_api, rolled_back.pk, flow.revision)
    assert again.status_code == 200
    assert again.json()["kept_draft"] is None
    after = fresh()
    assert (after.revision, after.updated_at) == (first["revision"], flow.updated_at)
    assert KeptDraft.objects.count() == 1


def test_a_kept_draft_that_no_longer_validates_is_refused(rolled_back, editor_api, publisher):
    flow = fresh()
    broken = KeptDraft.objects.create(
        flow=flow,
        definition={**WORK, "start": "missing"},
        revision=1,
        saved_at=flow.updated_at,
        reason=KeptDraft.Reason.ROLLBACK,
    )
    before = (flow.revision, flow.definition)
    response = restore(editor_api, broken.pk, flow.revision)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The kept draft has errors now; it was not restored."
    assert [p["path"] for p in body["problems"] if p["severity"] == "error"] == ["$.start"]
    after = fresh()
    assert (after.revision, after.definition) == before
    assert KeptDraft.objects.count() == 2


def test_restore_needs_a_revision(rolled_back, editor_api):
    response = editor_api.post(
        f"/api/flows/acme/drafts/{rolled_back.pk}/restore/", {}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("revision: ")


def test_the_restore_service_returns_the_flow_as_written(rolled_back, editor):
    result = drafts.kept_draft_restore(
        kept=rolled_back, base_revision=fresh().revision, user=editor
    )
    assert result.changed and result.kept_draft is None
    assert result.flow.definition == WORK == fresh().definition


# --- roles and schema -----------------------------------------------------------------------


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("role", "list_status", "restore_status"),
    [("anon", 403, 403), ("viewer", 200, 403), ("editor", 200, 200), ("publisher", 200, 200)],
)
def test_roles(request, rolled_back, role, list_status, restore_status):
    client = APIClient() if role == "anon" else request.getfixturevalue(f"{role}_api")
    listed = client.get("/api/flows/acme/drafts/")
    assert listed.status_code in ((401, 403) if role == "anon" else (list_status,))
    assert client.get(f"/api/flows/acme/drafts/{rolled_back.pk}/").status_code == (
        listed.status_code
    )
    restored = restore(client, rolled_back.pk)
    assert restored.status_code in ((401, 403) if role == "anon" else (restore_status,))
    assert (fresh().definition == WORK) is (restore_status == 200 and role != "anon")


def test_editors_cannot_roll_back(with_work, editor_api):
    assert rollback(editor_api, 1).status_code == 403
    assert not KeptDraft.objects.exists()


def test_openapi_schema_documents_kept_drafts(viewer_api):
    GENERATOR_STATS.reset()
    response = viewer_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = response.json()["paths"]
    assert {
        "/api/flows/{slug}/drafts/",
        "/api/flows/{slug}/drafts/{id}/",
        "/api/flows/{slug}/drafts/{id}/restore/",
    } <= set(paths)
    schemas = response.json()["components"]["schemas"]
    assert "kept_draft" in schemas["RollbackResult"]["properties"]
    ours = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "api_drafts" in message or "KeptDraft" in message
    ]
    assert ours == []


def test_the_admin_lists_kept_drafts(rolled_back, client):
    client.force_login(User.objects.create_superuser("root", password="pw"))
    page = client.get("/admin/flows/keptdraft/").content.decode()
    assert "acme" in page and "replaced by a rollback" in page
    detail = client.get(f"/admin/flows/keptdraft/{rolled_back.pk}/change/").content.decode()
    assert "Replaced by the rollback to version 1" in detail
    assert "Half-finished work" in detail
