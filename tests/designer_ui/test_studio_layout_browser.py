"""An imported Studio flow opens in the designer laid out as it was on Studio's canvas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from flows.imports import ImportSource, flows_import

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLINIC = Path(settings.BASE_DIR) / "tests" / "flows" / "studio" / "clinic-ivr.json"


def boxes(page) -> dict[str, dict]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.react-flow__node')].map(
            (n) => [n.dataset.id, n.getBoundingClientRect().toJSON()]))"""
    )


def test_the_clinic_ivr_keeps_its_studio_layout_and_no_nodes_overlap(sessions, publisher_user):
    flows_import(sources=[ImportSource(CLINIC.name, CLINIC.read_text())], user=publisher_user)
    s = sessions()
    s.login("pia")
    s.open_flow("clinic-ivr")
    page = s.page
    page.locator(".react-flow__controls-fitview").click()
    page.wait_for_timeout(300)
    s.shot("clinic")
    shown = boxes(page)
    widgets = {
        w["name"]: w["properties"]["offset"]
        for w in json.loads(CLINIC.read_text())["definition"]["states"]
    }
    # the order on the canvas is Studio's: above is above, left is left
    for upper, lower in (
        ("welcome", "lookup_patient"),
        ("main_menu", "appointments_menu"),
        ("book_request", "goodbye"),
    ):
        assert widgets[upper]["y"] < widgets[lower]["y"]
        assert shown[upper]["y"] < shown[lower]["y"], (upper, lower)
    for left, right in (
        ("appointments_menu", "prescriptions"),
        ("prescriptions", "results_id"),
        ("results_id", "front_desk"),
    ):
        assert widgets[left]["x"] < widgets[right]["x"]
        assert shown[left]["x"] < shown[right]["x"], (left, right)
    placed = [b for b in shown.values() if b["width"]]
    overlaps = [
        (a, b)
        for i, a in enumerate(placed)
        for b in placed[i + 1 :]
        if a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]
    ]  # fmt: skip
    assert overlaps == []
    page.locator('[data-id="main_menu"] .cf-node-label').click()
    for _ in range(3):
        page.locator(".react-flow__controls-zoomin").click()
    page.wait_for_timeout(300)
    s.shot("menu")
