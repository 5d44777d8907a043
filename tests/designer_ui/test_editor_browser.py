"""The editor in a real browser against the real server, database and API."""

from __future__ import annotations

import copy

import pytest

from flows.models import Flow
from flows.services import flow_publish, flow_update_draft

from .conftest import load_definition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL_IDS = ["greeting", "main_menu", "sales_bye", "support_bye", "goodbye"]


def node(page, node_id: str):
    return page.locator(f'[data-node-id="{node_id}"]')


def select(page, node_id: str) -> None:
    node(page, node_id).locator(".cf-node-label").click()
    page.wait_for_selector(f'[data-panel-node="{node_id}"]')


def drag_connect(page, source: str, exit_name: str, target: str) -> None:
    """Drag from a node's exit handle onto another node's input handle."""
    start = (
        node(page, source).locator(f'[data-exit="{exit_name}"] .react-flow__handle').bounding_box()
    )
    end = node(page, target).locator(".react-flow__handle.target").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def drop_from_palette(page, node_type: str, node_id: str) -> None:
    """Drag a node type from the palette onto the canvas's lower left, until it is drawn."""
    canvas = page.locator(".cf-canvas").bounding_box()
    page.drag_and_drop(
        f'[data-node-type="{node_type}"]',
        ".cf-canvas .react-flow__pane",
        target_position={"x": 120, "y": canvas["height"] - 120},
    )
    page.wait_for_selector(f'[data-node-id="{node_id}"]')


def draft(slug: str) -> dict:
    return Flow.objects.get(slug=slug).definition


def nodes_by_id(definition: dict) -> dict[str, dict]:
    return {n["id"]: n for n in definition["nodes"]}


def assert_clean(*sessions) -> None:
    errors = [e for s in sessions for e in s.console.unexpected()]
    assert errors == [], f"console errors: {errors}"


def test_login_form_leads_to_the_flow_list(sessions, small_flow, publisher_user):
    s = sessions()
    s.page.goto("/designer/")
    assert "/accounts/login/" in s.page.url  # signed out: sent to Django's login
    s.shot("login")
    s.login("pia")
    row = s.page.locator('tr[data-flow="designer-test"]')
    assert row.locator("[data-status]").inner_text() == "draft"
    assert "Designer test line" in row.inner_text()
    assert s.page.locator("[data-roles]").text_content() == "(publisher)"
    s.page.fill("#searchbar", "no-such-flow")
    s.page.press("#searchbar", "Enter")
    s.page.wait_for_url("**q=no-such-flow")
    assert s.page.locator('tr[data-flow="designer-test"]').count() == 0
    s.shot("search")
    assert_clean(s)


def test_every_node_is_drawn_with_its_exits(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    s.page.wait_for_selector('[data-node-id="goodbye"]')
    drawn = s.page.eval_on_selector_all("[data-node-id]", "els => els.map(e => e.dataset.nodeId)")
    assert sorted(drawn) == sorted(SMALL_IDS)
    exits = (
        node(s.page, "main_menu")
        .locator("[data-exit]")
        .evaluate_all("els => els.map(e => e.dataset.exit)")
    )
    assert exits == ["1", "2", "no_input", "no_match"]
    assert "start" in node(s.page, "greeting").inner_text()
    palette = s.page.eval_on_selector_all(
        "[data-node-type]", "els => els.map(e => e.dataset.nodeType)"
    )
    assert {"say", "menu", "hangup", "branch", "route", "time_of_day"} <= set(palette)
    assert len(palette) >= 14
    s.shot("opened")
    assert_clean(s)


def test_add_connect_edit_save_and_reload(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    page.click('[data-node-type="sms"]')
    page.wait_for_selector('[data-node-id="sms_1"]')
    page.wait_for_selector('[data-panel-node="sms_1"]')
    assert page.locator("[data-dirty]").is_visible()

    drag_connect(page, "sms_1", "next", "goodbye")
    drag_connect(page, "main_menu", "no_match", "sms_1")
    page.fill("#root_body", "Your reference is {{ call.to }}.")
    page.fill("#cf-node-label", "Text a reference")
    s.shot("edited")
    page.keyboard.press("Control+s")
    page.wait_for_selector("[data-notice]:has-text('Saved')")
    assert page.locator("[data-dirty]").count() == 0

    saved = nodes_by_id(draft("designer-test"))
    assert saved["sms_1"]["type"] == "sms"
    assert saved["sms_1"]["label"] == "Text a reference"
    assert saved["sms_1"]["config"]["body"] == "Your reference is {{ call.to }}."
    assert saved["sms_1"]["exits"] == {"next": "goodbye"}
    assert saved["main_menu"]["exits"]["no_match"] == "sms_1"
    assert saved["main_menu"]["exits"]["no_input"] == "goodbye"  # untouched

    page.reload()
    page.wait_for_selector('[data-node-id="sms_1"]')
    assert "Text a reference" in node(page, "sms_1").inner_text()
    select(page, "sms_1")
    assert page.input_value("#root_body") == "Your reference is {{ call.to }}."
    s.shot("reloaded")
    assert_clean(s)


def test_a_route_from_the_palette_texts_no_abandoned_caller_until_asked_to(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    drop_from_palette(page, "route", "route_1")
    page.click("[data-action=save]")
    page.wait_for_selector("[data-notice]:has-text('Saved')")
    config = nodes_by_id(draft("designer-test"))["route_1"]["config"]
    assert config["target"] and "on_abandon" not in config
    assert_clean(s)


def test_drop_from_palette_and_menu_options_change_exits(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    drop_from_palette(page, "branch", "branch_1")

    select(page, "main_menu")
    page.click("#root_options__add")
    page.fill("#root_options_2_key", "9")
    page.wait_for_selector('[data-node-id="main_menu"] [data-exit="9"]')
    drag_connect(page, "main_menu", "9", "goodbye")
    s.shot("option-added")
    page.click("[data-action=save]")
    page.wait_for_selector("[data-notice]:has-text('Saved')")
    menu = nodes_by_id(draft("designer-test"))["main_menu"]
    assert menu["exits"]["9"] == "goodbye"
    assert "branch_1" in nodes_by_id(draft("designer-test"))

    # Retyping an option's key keeps its connection; reordering options keeps them all.
    page.fill("#root_options_2_key", "")
    page.wait_for_selector('[data-node-id="main_menu"] [data-exit="9"]', state="detached")
    page.type("#root_options_2_key", "7")
    page.wait_for_selector('[data-node-id="main_menu"] [data-exit="7"]')
    page.click("#root_options_0__moveDown")
    page.click("[data-action=save]")
    page.wait_for_selector("[data-notice]:has-text('revision 3')")
    menu = nodes_by_id(draft("designer-test"))["main_menu"]
    assert [o["key"] for o in menu["config"]["options"]] == ["2", "1", "7"]
    assert menu["exits"] == {
        "1": "sales_bye", "2": "support_bye", "7": "goodbye", "no_input": "goodbye", "no_match": "goodbye",
    }  # fmt: skip

    # Removing the option removes its exit, on the canvas and in the saved draft.
    page.click("#root_options_2__remove")
    page.wait_for_selector('[data-node-id="main_menu"] [data-exit="7"]', state="detached")
    page.click("[data-action=save]")
    page.wait_for_selector("[data-notice]:has-text('revision 4')")
    assert "7" not in nodes_by_id(draft("designer-test"))["main_menu"]["exits"]
    assert_clean(s)


def test_keyboard_delete_undo_redo_copy_paste_duplicate(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    select(page, "goodbye")
    page.keyboard.press("Delete")
    page.wait_for_selector('[data-node-id="goodbye"]', state="detached")
    page.keyboard.press("Control+z")
    page.wait_for_selector('[data-node-id="goodbye"]')
    page.keyboard.press("Control+Shift+z")
    page.wait_for_selector('[data-node-id="goodbye"]', state="detached")
    page.keyboard.press("Control+z")
    page.wait_for_selector('[data-node-id="goodbye"]')

    # Arrow keys move the selected node; the move is one undo step.
    select(page, "greeting")
    before = node(page, "greeting").bounding_box()["x"]
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert node(page, "greeting").bounding_box()["x"] > before
    assert page.locator("[data-dirty]").is_visible()
    page.keyboard.press("Control+z")
    assert node(page, "greeting").bounding_box()["x"] == pytest.approx(before, abs=0.5)

    # A line can be selected and deleted too.
    edge = page.locator('[data-testid="rf__edge-main_menu\u21922"]')
    edge.locator(".react-flow__edge-interaction").click()
    page.keyboard.press("Delete")
    edge.wait_for(state="detached")
    page.keyboard.press("Control+z")
    edge.wait_for()

    select(page, "goodbye")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    page.wait_for_selector('[data-node-id="hangup_1"]')
    page.keyboard.press("Control+d")
    page.wait_for_selector('[data-node-id="hangup_2"]')
    s.shot("pasted")
    page.keyboard.press("Control+s")
    page.wait_for_selector("[data-notice]:has-text('Saved')")
    saved = nodes_by_id(draft("designer-test"))
    assert saved["hangup_1"]["config"] == saved["goodbye"]["config"] == saved["hangup_2"]["config"]
    assert saved["main_menu"]["exits"]["2"] == "support_bye"

    # The clipboard outlives the page: paste into another flow.
    other = load_definition()
    other.update(slug="other-line", name="Other line")
    Flow.objects.create(slug="other-line", name="Other line", definition=other)
    s.open_flow("other-line")
    page.click(".cf-canvas .react-flow__pane", position={"x": 30, "y": 30})
    page.keyboard.press("Control+v")
    page.wait_for_selector('[data-node-id="hangup_1"]')
    assert_clean(s)


def test_second_save_of_a_stale_draft_is_refused(sessions, small_flow, editor_user):
    first, second = sessions(), sessions()
    first.login("pia", "/designer/flows/designer-test/")
    second.login("eddie", "/designer/flows/designer-test/")
    second.console.allow_status(409)
    for s, label in ((first, "Hello from Pia"), (second, "Hello from Eddie")):
        s.page.wait_for_selector('[data-node-id="greeting"]')
        select(s.page, "greeting")
        s.page.fill("#cf-node-label", label)

    first.page.click("[data-action=save]")
    first.page.wait_for_selector("[data-notice]:has-text('Saved')")
    second.page.click("[data-action=save]")
    message = second.page.wait_for_selector("[data-conflict]").inner_text()
    assert "Changed by pia" in message
    second.shot("conflict")
    assert nodes_by_id(draft("designer-test"))["greeting"]["label"] == "Hello from Pia"
    assert second.page.locator("[data-dirty]").is_visible()

    second.page.click("button:has-text('Reload')")
    second.page.wait_for_selector("[data-conflict]", state="detached")
    assert "Hello from Pia" in node(second.page, "greeting").inner_text()
    assert second.page.locator("[data-dirty]").count() == 0
    assert nodes_by_id(draft("designer-test"))["greeting"]["label"] == "Hello from Pia"
    assert_clean(first, second)


def test_overwrite_after_a_conflict_is_explicit(sessions, small_flow, publisher_user):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    s.console.allow_status(409)
    page = s.page
    page.wait_for_selector('[data-node-id="greeting"]')
    changed = copy.deepcopy(small_flow.definition)
    changed["name"] = "Renamed elsewhere"
    flow_update_draft(
        flow=small_flow, definition=changed, base_revision=small_flow.revision, user=publisher_user
    )
    select(page, "greeting")
    page.fill("#cf-node-label", "Mine")
    page.click("[data-action=save]")
    page.wait_for_selector("[data-conflict]")
    page.click("button:has-text('Overwrite')")
    page.wait_for_selector("[data-notice]:has-text('Saved')")
    saved = draft("designer-test")
    assert nodes_by_id(saved)["greeting"]["label"] == "Mine"
    assert saved["name"] == "Designer test line"
    assert_clean(s)


def test_publish_with_an_error_is_refused_with_the_list(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    s.console.allow_status(400)
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    page.click('[data-node-type="hangup"]')  # nothing leads to it: unreachable
    page.wait_for_selector('[data-node-id="hangup_1"]')
    badge = node(page, "hangup_1").locator("[data-badge]")
    badge.wait_for()
    assert badge.get_attribute("data-badge") == "warning"  # a warning on a draft

    page.click("[data-action=publish]")
    page.fill("[aria-label='Publish note']", "with an orphan")
    page.click("[data-confirm-publish]")
    refused = page.wait_for_selector("[data-publish-refused]")
    assert "hangup_1" in refused.inner_text()
    s.shot("refused")
    flow = Flow.objects.get(slug="designer-test")
    assert flow.published_version is None and flow.versions.count() == 0
    assert "hangup_1" in nodes_by_id(flow.definition)  # saved first, as the dialog said

    # Clicking the problem selects the node it concerns, marked as an error now.
    refused.query_selector("[data-problem-node='hangup_1'] button").click()
    page.wait_for_selector('[data-panel-node="hangup_1"]')
    assert node(page, "hangup_1").locator("[data-badge]").get_attribute("data-badge") == "error"
    assert_clean(s)


def test_problems_panel_selects_the_node(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    select(page, "greeting")
    page.fill("#root_text", "")  # say needs text or audio_url
    page.click("[data-tab=problems]")
    problem = page.locator("[data-problem-node='greeting'] button").first
    problem.wait_for()
    page.click("[data-tab=flow]")
    page.click("[data-tab=problems]")
    page.locator("[data-problem-node='greeting'] button").first.click()
    page.wait_for_selector('[data-panel-node="greeting"]')
    assert node(page, "greeting").locator("[data-badge='error']").count() == 1

    # A problem the server finds in a field shows under that field.
    select(page, "main_menu")
    page.fill("#root_options_1_key", "no_input")
    page.locator(".cf-config-form :text('clashes with the exit')").wait_for()
    assert node(page, "main_menu").locator("[data-badge='error']").count() == 1
    s.shot("problem")
    assert_clean(s)


def test_publish_diff_and_roll_back(sessions, small_flow, publisher_user):
    flow_publish(flow=small_flow, user=publisher_user, note="first")
    second = copy.deepcopy(small_flow.definition)
    nodes = nodes_by_id(second)
    nodes["main_menu"]["config"]["prompt"] = "Press 1 for sales, 2 for support, 3 for news."
    nodes["main_menu"]["config"]["options"].append({"key": "3", "label": "News"})
    nodes["main_menu"]["exits"]["3"] = "news"
    second["nodes"].append(
        {
            "id": "news",
            "type": "say",
            "config": {"text": "No news today."},
            "exits": {"next": "goodbye"},
            "position": {"x": 600, "y": 360},
        }
    )
    flow = Flow.objects.get(pk=small_flow.pk)
    flow_update_draft(
        flow=flow, definition=second, base_revision=flow.revision, user=publisher_user
    )
    flow_publish(flow=Flow.objects.get(pk=flow.pk), user=publisher_user, note="news line")

    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="news"]')
    assert page.locator("[data-status]").inner_text() == "published v2"
    page.click("[data-tab=versions]")
    page.wait_for_selector("[data-version='2']")
    page.select_option("[aria-label='Compare from']", "1")
    page.select_option("[aria-label='Compare to']", "2")
    page.click("button:has-text('Show difference')")
    page.wait_for_selector("[data-diff-added]:has-text('news')")
    assert "main_menu" in page.locator("[data-diff-changed]").inner_text()
    assert page.locator('.cf-diff-added[data-node-id="news"]').count() == 1
    assert page.locator('.cf-diff-changed[data-node-id="main_menu"]').count() == 1
    s.shot("diff")

    page.click("[data-version='1'] button:has-text('Roll back')")
    page.click("[data-confirm]")
    page.wait_for_selector('[data-node-id="news"]', state="detached")
    page.wait_for_selector("[data-version='3']")
    flow = Flow.objects.get(pk=flow.pk)
    assert flow.published_version.number == 3
    assert flow.published_version.rolled_back_from == 1
    assert "news" not in nodes_by_id(flow.definition)
    assert page.locator("[data-status]").inner_text() == "published v3"
    s.shot("rolled-back")
    assert_clean(s)


def test_viewer_sees_no_edit_controls(sessions, small_flow, viewer_user):
    s = sessions()
    s.login("vera", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    assert page.locator("[data-readonly]").is_visible()
    for control in (
        "[data-node-type]",
        "[data-action=save]",
        "[data-action=publish]",
        "[data-action=undo]",
        "[data-tab=simulator]",
    ):
        assert page.locator(control).count() == 0, control
    select(page, "greeting")
    assert page.locator("#cf-node-label").get_attribute("readonly") is not None
    assert page.locator("#root_text").is_disabled()
    page.keyboard.press("Delete")
    assert node(page, "greeting").count() == 1
    page.click("[data-tab=versions]")
    assert page.locator("button:has-text('Roll back')").count() == 0
    s.shot("viewer")
    page.goto("/designer/")
    assert page.locator("#create-flow").count() == 0 and page.locator("#import-flows").count() == 0
    assert_clean(s)


@pytest.mark.parametrize("who, unsaved", [("vera", False), ("pia", True)])
def test_a_flow_without_positions_is_laid_out_unsaved_only_for_who_can_save_it(
    sessions, publisher_user, viewer_user, who, unsaved
):
    from flows.services import flow_create

    definition = load_definition()
    definition["slug"] = "unplaced"
    for each in definition["nodes"]:
        each.pop("position", None)
    flow_create(definition=definition, user=publisher_user)
    s = sessions()
    s.login(who, "/designer/flows/unplaced/")
    s.page.wait_for_selector('[data-node-id="goodbye"]')
    assert s.page.locator("[data-dirty]").count() == (1 if unsaved else 0)
    assert_clean(s)


def test_editor_can_save_but_not_publish_or_import(
    sessions, small_flow, editor_user, publisher_user
):
    flow_publish(flow=small_flow, user=publisher_user)
    s = sessions()
    s.login("eddie", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    assert page.locator("[data-action=save]").count() == 1
    assert page.locator("[data-action=publish]").count() == 0
    assert page.locator("[data-node-type]").count() >= 14
    page.click("[data-tab=versions]")
    page.wait_for_selector("[data-version='1']")
    assert page.locator("button:has-text('Roll back')").count() == 0
    page.goto("/designer/")
    assert page.locator("#create-flow").count() == 1
    assert page.locator("#import-flows").count() == 0
    assert_clean(s)


def test_rename_settings_branch_rules_and_unsaved_guard(sessions, small_flow):
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')

    # Renaming a node carries its edges and the start along.
    select(page, "greeting")
    page.fill("#cf-node-id", "hello")
    page.press("#cf-node-id", "Enter")
    page.wait_for_selector('[data-node-id="hello"]')
    assert "start" in node(page, "hello").inner_text()

    # A branch's rules are its exits; the value field takes numbers as numbers.
    page.click('[data-node-type="branch"]')
    page.wait_for_selector('[data-panel-node="branch_1"]')
    page.fill("#root_rules_0_exit", "vip")
    page.wait_for_selector('[data-node-id="branch_1"] [data-exit="vip"]')
    page.fill("#root_rules_1_value", "21")
    exits = (
        node(page, "branch_1")
        .locator("[data-exit]")
        .evaluate_all("els => els.map(e => e.dataset.exit)")
    )
    assert exits == ["vip", "late", "else"]

    page.click("[data-tab=flow]")
    page.fill("#cf-flow-name", "Designer test line (renamed)")
    page.select_option("#cf-flow-fallback", "goodbye")
    page.fill("#cf-flow-fallback-sms", "Sorry, please call back later.")
    page.check("#cf-flow-subflow")
    s.shot("flow-settings")

    # Leaving with unsaved changes asks first.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"] and not page.is_closed()

    page.keyboard.press("Control+s")
    page.wait_for_selector("[data-notice]:has-text('Saved')")
    saved = draft("designer-test")
    assert saved["start"] == "hello" and saved["name"] == "Designer test line (renamed)"
    assert saved["fallback"] == {"node": "goodbye", "sms": "Sorry, please call back later."}
    assert saved["subflow"] is True
    by_id = nodes_by_id(saved)
    assert "greeting" not in by_id and by_id["hello"]["exits"] == {"next": "main_menu"}
    rules = by_id["branch_1"]["config"]["rules"]
    assert [r["exit"] for r in rules] == ["vip", "late"] and rules[1]["value"] == 21
    assert set(by_id["branch_1"]["exits"]) == {"vip", "late", "else"}
    assert_clean(s)


def test_flow_without_positions_is_laid_out_and_tidy_up_relays_it(sessions, publisher_user):
    from flows.services import flow_create

    definition = load_definition()
    for n in definition["nodes"]:
        del n["position"]
    flow_create(definition=definition, user=publisher_user)
    s = sessions()
    s.login("pia", "/designer/flows/designer-test/")
    page = s.page
    page.wait_for_selector('[data-node-id="goodbye"]')
    boxes = {i: node(page, i).bounding_box() for i in SMALL_IDS}
    assert boxes["greeting"]["x"] < boxes["main_menu"]["x"] < boxes["goodbye"]["x"]
    for a in SMALL_IDS:
        for b in SMALL_IDS:
            if a < b:
                ba, bb = boxes[a], boxes[b]
                apart = (
                    ba["x"] + ba["width"] <= bb["x"] or bb["x"] + bb["width"] <= ba["x"]
                    or ba["y"] + ba["height"] <= bb["y"] or bb["y"] + bb["height"] <= ba["y"]
                )  # fmt: skip
                assert apart, f"{a} overlaps {b}"
    assert page.locator("[data-dirty]").is_visible()  # the new layout is worth saving
    s.shot("laid-out")

    # Scatter a node, tidy up: it goes back into its column.
    handle = node(page, "goodbye").locator(".cf-node-label")
    start = handle.bounding_box()
    page.mouse.move(start["x"] + 10, start["y"] + 5)
    page.mouse.down()
    page.mouse.move(start["x"] - 400, start["y"] + 200, steps=8)
    page.mouse.up()
    assert node(page, "goodbye").bounding_box()["x"] < boxes["main_menu"]["x"]
    page.click("[data-action=tidy]")
    page.wait_for_timeout(600)
    assert node(page, "goodbye").bounding_box()["x"] > node(page, "main_menu").bounding_box()["x"]
    page.keyboard.press("Control+s")
    page.wait_for_selector("[data-notice]:has-text('Saved')")
    assert all("position" in n for n in draft("designer-test")["nodes"])
    assert_clean(s)
