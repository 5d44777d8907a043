"""The flow list: create and import through the API from the page, export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.models import Flow

from .conftest import HERE, load_definition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_flow_and_open_it(sessions, publisher_user):
    s = sessions()
    s.login("pia")
    page = s.page
    page.fill("#new-name", "Night line")
    page.fill("#new-slug", "night-line")
    page.click("#create-flow input[type=submit]")
    page.wait_for_url("**/designer/flows/night-line/")
    page.wait_for_selector("[data-node-id]")
    assert Flow.objects.get(slug="night-line").name == "Night line"
    page.goto("/designer/")
    page.fill("#new-name", "Again")
    page.fill("#new-slug", "night-line")
    page.click("#create-flow input[type=submit]")
    s.console.allow_status(409)
    page.wait_for_selector("#create-errors:not([hidden])")
    assert Flow.objects.filter(slug="night-line").count() == 1
    assert s.console.unexpected() == []


def test_import_a_file_and_export_it(sessions, publisher_user, tmp_path):
    definition = load_definition()
    definition.update(slug="imported-line", name="Imported line")
    upload = tmp_path / "imported-line.json"
    upload.write_text(json.dumps(definition))
    s = sessions()
    s.login("pia")
    page = s.page
    page.set_input_files("#import-files", str(upload))
    page.check("#import-publish")
    page.click("#import-flows input[type=submit]")
    page.wait_for_selector("#import-result:has-text('imported-line')")
    row = page.locator('tr[data-flow="imported-line"]')
    assert row.locator("[data-status]").inner_text() == "published v1"
    s.shot("imported")

    with page.expect_download() as download:
        row.locator("a:has-text('JSON')").click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["slug"] == "imported-line"
    assert [n["id"] for n in exported["nodes"]] == [n["id"] for n in definition["nodes"]]

    broken = tmp_path / "broken.json"
    broken.write_text(
        (HERE / "flow_small.json").read_text().replace('"start": "greeting"', '"start": "nowhere"')
    )
    s.console.allow_status(400)
    page.set_input_files("#import-files", str(broken))
    page.click("#import-flows input[type=submit]")
    errors = page.wait_for_selector("#import-errors:not([hidden])")
    assert "nowhere" in errors.inner_text()
    assert not Flow.objects.filter(slug="designer-test").exists()
    assert s.console.unexpected() == []
