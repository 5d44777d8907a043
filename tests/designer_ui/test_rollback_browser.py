"""Nothing lost, in a real browser: rolling back keeps the draft's unpublished work, the
confirmation says so, the Versions tab lists it, and Restore brings it back."""

from __future__ import annotations

import copy

import pytest

from flows.models import Flow, KeptDraft
from flows.services import flow_publish, flow_rollback, flow_update_draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "designer-test"


def node(page, node_id: str):
    return page.locator(f'[data-node-id="{node_id}"]')


def fresh() -> Flow:
    return Flow.objects.select_related("published_version").get(slug=SLUG)


def save_draft(definition: dict, user) -> Flow:
    flow = fresh()
    flow_update_draft(flow=flow, definition=definition, base_revision=flow.revision, user=user)
    return fresh()


def with_node(definition: dict, node_id: str, text: str) -> dict:
    """The definition with a say node between the greeting and the menu."""
    changed = copy.deepcopy(definition)
    greeting = next(n for n in changed["nodes"] if n["id"] == "greeting")
    changed["nodes"].append(
        {
            "id": node_id,
            "type": "say",
            "label": text,
            "config": {"text": text},
            "exits": {"next": greeting["exits"]["next"]},
            "position": {"x": 150, "y": 200},
        }
    )
    greeting["exits"]["next"] = node_id
    return changed


@pytest.fixture
def two_versions(small_flow, publisher_user) -> dict:
    """v1, then v2 (live, with an offers node); the draft is v2."""
    flow_publish(flow=small_flow, user=publisher_user, note="first")
    v2 = with_node(small_flow.definition, "offers", "Ask about our offers")
    save_draft(v2, publisher_user)
    flow_publish(flow=fresh(), user=publisher_user, note="offers")
    return {"v1": small_flow.definition, "v2": v2}


def open_versions(s, username: str) -> None:
    s.login(username, f"/designer/flows/{SLUG}/")
    s.page.wait_for_selector('[data-node-id="greeting"]')
    s.page.click("[data-tab=versions]")
    s.page.wait_for_selector("[data-version='1']")


def assert_clean(*sessions) -> None:
    errors = [e for s in sessions for e in s.console.unexpected()]
    assert errors == [], f"console errors: {errors}"


def test_roll_back_keeps_unpublished_work_and_restore_brings_it_back(
    sessions, two_versions, editor_user
):
    work = with_node(two_versions["v2"], "holiday", "Holiday hours notice")
    saved = save_draft(work, editor_user)

    s = sessions()
    open_versions(s, "pia")
    page = s.page
    node(page, "holiday").wait_for()
    assert page.locator("[data-status]").inner_text() == "changed since v2"
    assert page.locator("[data-kept-drafts]").count() == 0

    page.click("[data-version='1'] button:has-text('Roll back')")
    dialog = page.locator("[role=dialog]")
    note = dialog.locator("[data-kept-note]")
    assert "never published" in note.inner_text()
    assert "kept in the history" in note.inner_text()
    assert "restore them" in note.inner_text()
    s.shot("rollback-confirmation")
    page.click("[data-confirm]")

    node(page, "holiday").wait_for(state="detached")
    page.wait_for_selector("[data-version='3']")
    notice = page.locator("[data-notice]").inner_text()
    assert "Version 1 is live again as v3." in notice
    assert f"revision {saved.revision}" in notice and "Kept drafts" in notice
    kept_item = page.locator("[data-kept-draft]")
    kept_item.wait_for()
    assert f"Draft, revision {saved.revision}" in kept_item.inner_text()
    assert "by eddie" in kept_item.inner_text()
    assert "Replaced by the rollback to version 1 (published again as version 3)" in (
        kept_item.inner_text()
    )
    s.shot("kept-in-history")

    kept = KeptDraft.objects.get()
    assert kept.definition == work and kept.revision == saved.revision
    assert (kept.saved_by.username, kept.kept_by.username) == ("eddie", "pia")
    flow = fresh()
    assert flow.definition == two_versions["v1"] and flow.published_version.number == 3

    # the draft is v3 as published: restoring keeps nothing more, and publishes nothing
    kept_item.locator("[data-restore]").click()
    dialog = page.locator("[role=dialog]")
    assert f"Restore the draft of revision {saved.revision}?" in dialog.inner_text()
    assert "Nothing is published: new calls keep running v3." in dialog.inner_text()
    assert dialog.locator("[data-kept-note]").count() == 0
    s.shot("restore-confirmation")
    page.click("[data-confirm]")
    node(page, "holiday").wait_for()
    page.wait_for_selector("[data-kept-draft] .cf-tag:has-text('restored')")
    assert "nothing was published" in page.locator("[data-notice]").inner_text()
    assert page.locator("[data-status]").inner_text() == "changed since v3"
    flow = fresh()
    assert flow.definition == work and flow.published_version.number == 3
    assert KeptDraft.objects.count() == 1
    s.shot("restored")
    assert_clean(s)


def test_unsaved_changes_are_saved_first_and_kept(sessions, two_versions):
    s = sessions()
    open_versions(s, "pia")
    page = s.page
    node(page, "offers").locator(".cf-node-label").click()
    page.wait_for_selector('[data-panel-node="offers"]')
    page.fill("#cf-node-label", "Offers, edited but not saved")
    page.wait_for_selector("[data-dirty]")

    page.click("[data-tab=versions]")
    page.click("[data-version='1'] button:has-text('Roll back')")
    note = page.locator("[role=dialog] [data-kept-note]").inner_text()
    assert "Your unsaved changes are saved first" in note and "kept in the history" in note
    s.shot("unsaved-confirmation")
    page.click("[data-confirm]")
    page.wait_for_selector("[data-version='3']")
    page.locator("[data-kept-draft]").wait_for()
    assert page.locator("[data-dirty]").count() == 0

    kept = KeptDraft.objects.get()
    labels = {n["id"]: n.get("label") for n in kept.definition["nodes"]}
    assert labels["offers"] == "Offers, edited but not saved"
    assert "offers" not in {n["id"] for n in fresh().definition["nodes"]}
    assert_clean(s)


def test_nothing_to_keep_says_nothing_and_lists_nothing(sessions, two_versions):
    s = sessions()
    open_versions(s, "pia")
    page = s.page
    page.click("[data-version='1'] button:has-text('Roll back')")
    assert page.locator("[role=dialog] [data-kept-note]").count() == 0
    page.click("[data-confirm]")
    page.wait_for_selector("[data-version='3']")
    assert "is kept" not in page.locator("[data-notice]").inner_text()
    assert page.locator("[data-kept-drafts]").count() == 0
    assert not KeptDraft.objects.exists()
    assert_clean(s)


def test_editors_restore_viewers_only_read_and_a_stale_restore_is_refused(
    sessions, two_versions, editor_user, publisher_user, viewer_user
):
    save_draft(with_node(two_versions["v2"], "holiday", "Holiday hours notice"), editor_user)
    flow_rollback(flow=fresh(), version_number=1, user=publisher_user)

    viewer = sessions()
    open_versions(viewer, "vera")
    viewer.page.locator("[data-kept-draft]").wait_for()
    assert viewer.page.locator("[data-restore]").count() == 0
    assert viewer.page.locator("button:has-text('Roll back')").count() == 0

    s = sessions()
    s.console.allow_status(409)
    open_versions(s, "eddie")
    page = s.page
    assert page.locator("button:has-text('Roll back')").count() == 0
    page.locator("[data-kept-draft] [data-restore]").wait_for()

    # someone saves the draft after the editor opened it: the restore is refused
    save_draft(with_node(fresh().definition, "late", "A late change"), publisher_user)
    page.click("[data-kept-draft] [data-restore]")
    note = page.locator("[role=dialog] [data-kept-note]")
    assert note.count() == 0  # the editor still sees the draft as published v3
    page.click("[data-confirm]")
    refused = page.locator("[data-notice].cf-notice-error")
    refused.wait_for()
    assert "Not restored: the draft was changed by pia" in refused.inner_text()
    assert "Reload, then try again." in refused.inner_text()
    s.shot("stale-restore")
    assert "late" in {n["id"] for n in fresh().definition["nodes"]}
    assert KeptDraft.objects.count() == 1

    # after a reload the restore goes through and keeps the late change
    page.reload()
    page.wait_for_selector('[data-node-id="late"]')
    page.click("[data-tab=versions]")
    page.click("[data-kept-draft] [data-restore]")
    note = page.locator("[role=dialog] [data-kept-note]").inner_text()
    assert "The current draft has changes that were never published" in note
    page.click("[data-confirm]")
    page.wait_for_selector('[data-node-id="holiday"]')
    page.wait_for_selector("[data-kept-draft]:nth-child(2)")
    assert KeptDraft.objects.count() == 2
    newest = KeptDraft.objects.order_by("-kept_at", "-pk").first()
    assert "late" in {n["id"] for n in newest.definition["nodes"]}
    s.shot("restored-over-work")
    assert_clean(viewer, s)
