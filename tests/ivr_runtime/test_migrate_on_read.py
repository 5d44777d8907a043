"""The runtime migrates a version stored in an older format as it reads it: calls pinned to
that version run, the stored version is never rewritten, and a newer version runs beside it."""

import pytest

from flows.models import Flow, FlowVersion, PhoneNumber
from flows.spec.migrations import MIGRATIONS
from ivr_runtime.turns import definitions

from .conftest import flow_definition, publish
from .twilio_driver import Call

pytestmark = pytest.mark.django_db

NUMBER = "+442079460102"


@pytest.fixture
def old_format():
    """A made-up format before callflow/1 (nodes were `steps`, exits a single `next`),
    registered on the codebase's own registry for the test."""

    @MIGRATIONS.register("callflow/0.9", "callflow/1")
    def steps_to_nodes(definition):
        definition["nodes"] = definition.pop("steps")
        for node in definition["nodes"]:
            node["exits"] = {"next": node.pop("next")} if "next" in node else {}
        return definition

    definitions.clear()
    yield
    del MIGRATIONS.steps["callflow/0.9"]
    definitions.clear()


OLD = {
    "format": "callflow/0.9",
    "slug": "legacy",
    "name": "Legacy",
    "timezone": "Europe/London",
    "language": "en-GB",
    "start": "hello",
    "steps": [
        {"id": "hello", "type": "say", "config": {"text": "Old version."}, "next": "menu"},
        {
            "id": "menu",
            "type": "menu",
            "config": {"prompt": "Press 1.", "options": [{"key": "1"}]},
        },
    ],
}


def test_calls_on_a_version_in_an_older_format_run_migrated(old_format, signer):
    flow = Flow.objects.create(slug="legacy", name="Legacy", definition=OLD)
    version = FlowVersion.objects.create(flow=flow, number=1, definition=OLD)
    flow.published_version = version
    flow.save(update_fields=["published_version"])
    PhoneNumber.objects.create(number=NUMBER, flow=flow)
    pinned = Call(signer, to=NUMBER).start()
    assert pinned.heard == ["Old version.", "Press 1."]

    new = flow_definition(
        "legacy",
        [{"id": "hello", "type": "hangup", "config": {"text": "New version."}, "exits": {}}],
    )
    publish(new, NUMBER)
    assert Call(signer, to=NUMBER).start().heard == ["New version."]
    # the call that started on version 1 stays on it: its menu (no exits in the old
    # format) takes the fallback, never the new version's greeting
    pinned.press("1")
    assert pinned.ended and "New version." not in pinned.said
    assert FlowVersion.objects.get(pk=version.pk).definition["format"] == "callflow/0.9"


def test_without_the_migration_the_old_version_is_unknown_and_the_caller_is_answered(signer):
    flow = Flow.objects.create(slug="legacy", name="Legacy", definition=OLD)
    version = FlowVersion.objects.create(flow=flow, number=1, definition=OLD)
    flow.published_version = version
    flow.save(update_fields=["published_version"])
    PhoneNumber.objects.create(number=NUMBER, flow=flow)
    call = Call(signer, to=NUMBER).start()
    assert call.ended and "Sorry" in call.said
