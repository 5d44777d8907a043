"""Generated flow documents through the command, the import API and the draft save: never
a 5xx, never a traceback, and a refused document changes nothing."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from flows import services
from flows.models import Flow
from tests.flows.db_helpers import snapshot
from tests.flows.spec_helpers import demo_flows

from .conftest import FLOW_EXAMPLES
from .mutations import json_values, mutated

pytestmark = pytest.mark.django_db

DEMOS = list(demo_flows().values())


@st.composite
def documents(draw) -> str:
    """A demo flow with a few values replaced, removed or added anywhere, as JSON text;
    sometimes text no JSON reader should accept quietly."""
    document = mutated(
        draw, draw(st.sampled_from(DEMOS)), values=json_values, keys=st.text(max_size=10)
    )
    text = json.dumps(document)
    twist = draw(st.sampled_from([None] * 6 + ["nan", "dupe", "deep", "surrogate", "cut"]))
    if twist == "nan":
        text = text.replace("{", '{"nan": NaN, ', 1)
    elif twist == "dupe":
        text = text.replace("{", '{"slug": "dupe", ', 1)
    elif twist == "deep":
        text = text.replace("{", '{"deep": ' + "[" * 1000 + "]" * 1000 + ", ", 1)
    elif twist == "surrogate":
        text = text.replace("{", '{"s": "\\ud800", ', 1)
    elif twist == "cut":
        text = text[: len(text) // 2]
    return text


FUZZ = hsettings(
    max_examples=FLOW_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def existing(db) -> Flow:
    flow = services.flow_create(definition=DEMOS[0])
    services.flow_publish(flow=flow)
    return flow


@FUZZ
@given(text=documents())
def test_import_command(existing, tmp_path, tracebacks, text):
    path = tmp_path / "flow.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    tracebacks.records.clear()
    before = snapshot()
    try:
        call_command("import_flows", str(path), "--publish", verbosity=0)
    except CommandError as exc:
        assert str(exc).strip(), text
        assert snapshot() == before
    assert not tracebacks.records, tracebacks.describe()


@FUZZ
@given(text=documents())
def test_import_api(existing, publisher_api, tracebacks, text):
    tracebacks.records.clear()
    before = snapshot()
    body = '{"publish": true, "definitions": [' + text + "]}"
    response = publisher_api.generic(
        "POST", "/api/import/", body.encode("utf-8", "surrogatepass"), "application/json"
    )
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.json()["detail"]
        assert snapshot() == before
    assert not tracebacks.records, tracebacks.describe()


@FUZZ
@given(text=documents())
def test_draft_save(existing, editor_api, tracebacks, text):
    existing.refresh_from_db()
    tracebacks.records.clear()
    before = snapshot()
    body = '{"revision": ' + str(existing.revision) + ', "definition": ' + text + "}"
    response = editor_api.generic(
        "PUT",
        f"/api/flows/{existing.slug}/",
        body.encode("utf-8", "surrogatepass"),
        "application/json",
    )
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.json()["detail"]
        assert snapshot() == before
    assert not tracebacks.records, tracebacks.describe()
