"""Node forms read as words: labels from the schema's titles (or words for the key), units
on numbers, choices in words. In a real browser against the real node-types API."""

from __future__ import annotations

import pytest

from flows import nodes
from flows.services import flow_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def forms_flow():
    return {
        "format": "callflow/1",
        "slug": "forms",
        "name": "Forms",
        "start": "account",
        "nodes": [
            {
                "id": "account",
                "type": "input",
                "config": {
                    "prompt": "Key in your account number.",
                    "min_digits": 6,
                    "max_digits": 10,
                },
                "exits": {"valid": "bye", "invalid": "bye", "no_input": "bye"},
                "position": {"x": 0, "y": 0},
            },
            {
                "id": "bye",
                "type": "hangup",
                "config": {"text": "Goodbye."},
                "exits": {},
                "position": {"x": 300, "y": 0},
            },
        ],
    }


def labels(page) -> list[str]:
    return [t.strip() for t in page.locator(".cf-config-form label").all_inner_texts() if t.strip()]


def open_forms(sessions, publisher_user):
    flow_create(definition=forms_flow(), user=publisher_user)
    s = sessions()
    s.login("pia", "/designer/flows/forms/")
    s.page.wait_for_selector('[data-node-id="account"]')
    return s, s.page


def test_the_palette_lists_every_node_type(sessions, publisher_user):
    s, page = open_forms(sessions, publisher_user)
    palette = page.eval_on_selector_all(
        "[data-node-type]", "els => els.map(e => e.dataset.nodeType)"
    )
    assert sorted(palette) == sorted(nodes.all_types())
    assert s.console.unexpected() == []


def test_the_input_form_reads_as_words(sessions, publisher_user):
    s, page = open_forms(sessions, publisher_user)
    page.locator('[data-node-id="account"] .cf-node-label').click()
    page.wait_for_selector('[data-panel-node="account"]')
    shown = labels(page)
    for label in (
        "Prompt*",
        "Answer with",
        "Fewest keys",
        "Most keys",
        "Finish key",
        "Silence before no input (seconds)",
        "Ask again at most (times)",
        "Save as variable",
    ):
        assert label in shown, (label, shown)
    assert not [t for t in shown if "_" in t], shown  # no raw keys
    choices = page.locator("#root_input option").all_inner_texts()
    assert choices[-3:] == ["Keys", "Speech", "Keys or speech"], choices
    assert "Fewer keys are a wrong answer" in page.locator(".cf-config-form").inner_text()
    assert "6\u201310 keys" in page.locator('[data-node-id="account"]').inner_text()
    s.shot("input-form")
    assert s.console.unexpected() == []


@pytest.mark.parametrize(
    ("type_name", "expected", "choice_field", "choice"),
    [
        ("record_call", ["Recording*", "Channels"], "#root_action", "Stop recording the call"),
        (
            "redirect",
            ["Wait for the call to come back (seconds)"],
            "#root_method",
            "GET",
        ),
    ],
)
def test_new_node_types_forms_read_as_words(
    sessions, publisher_user, type_name, expected, choice_field, choice
):
    if nodes.get(type_name) is None:
        pytest.skip(f"no {type_name} node type on this branch")
    s, page = open_forms(sessions, publisher_user)
    page.click(f'[data-node-type="{type_name}"]')
    page.wait_for_selector(f'[data-panel-node="{type_name}_1"]')
    shown = labels(page)
    for label in expected:
        assert label in shown, (label, shown)
    assert not [t for t in shown if "_" in t], shown
    assert choice in page.locator(f"{choice_field} option").all_inner_texts()
    s.shot(type_name)
    assert s.console.unexpected() == []


def test_the_route_form_words_what_happens_when_the_caller_hangs_up(sessions, publisher_user):
    s, page = open_forms(sessions, publisher_user)
    page.click('[data-node-type="route"]')
    page.wait_for_selector('[data-panel-node="route_1"]')
    shown = labels(page)
    for label in (
        "Text to send",
        "Offer to call them back",
        "Text a number at most once in (hours)",
    ):
        assert label in shown, (label, shown)
    assert not [t for t in shown if "_" in t], shown
    assert "If the caller hangs up while waiting" in page.locator(".cf-config-form").inner_text()
    page.locator(".cf-config-form").get_by_text("Text to send").scroll_into_view_if_needed()
    s.shot("route-on-abandon")
    assert s.console.unexpected() == []
