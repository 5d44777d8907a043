"""Flow services against the database: drafts, versions, export."""

import copy
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows import services
from flows.models import Flow, FlowVersion
from tests.flows.db_helpers import counts
from tests.flows.spec_helpers import flow, hangup, say, simple_flow

pytestmark = pytest.mark.django_db


def _changed(definition, text):
    changed = copy.deepcopy(definition)
    changed["nodes"][0]["config"]["text"] = text
    return changed


# ---- create and drafts -----------------------------------------------------------------


def test_flow_create_stores_the_definition_as_given(editor):
    definition = simple_flow("acme")
    created = services.flow_create(definition=definition, user=editor)
    stored = Flow.objects.get(slug="acme")
    assert (stored.pk, stored.name, stored.revision, stored.updated_by) == (
        created.pk,
        "Flow acme",
        1,
        editor,
    )
    assert stored.definition == definition
    if connection.vendor == "sqlite":  # PostgreSQL's jsonb keeps the content, not the key order
        assert json.dumps(stored.definition) == json.dumps(definition)


def test_flow_create_refuses_a_taken_slug_and_errors():
    services.flow_create(definition=simple_flow("acme"))
    with pytest.raises(services.FlowExists, match="'acme' already exists"):
        services.flow_create(definition=simple_flow("acme"))
    with pytest.raises(services.InvalidDefinition) as raised:
        services.flow_create(definition=flow(say("hi", "nowhere"), slug="other"))
    assert [p.path for p in raised.value.errors] == ["$.nodes[0].exits.next"]
    assert counts() == (1, 0, 0)


def test_an_unknown_format_is_an_invalid_definition():
    with pytest.raises(services.InvalidDefinition) as raised:
        services.flow_create(definition={**simple_flow("acme"), "format": "callflow/2"})
    assert [(p.path, p.message) for p in raised.value.problems] == [
        ("$.format", "The format 'callflow/2' is not known; known formats: callflow/1.")
    ]
    acme = services.flow_create(definition=simple_flow("acme"))
    with pytest.raises(services.InvalidDefinition):
        services.flow_update_draft(
            flow=acme, definition={**simple_flow("acme"), "format": None}, base_revision=1
        )


def test_a_draft_save_bumps_the_revision_and_returns_warnings(editor):
    acme = services.flow_create(definition=simple_flow("acme"))
    with_orphan = flow(
        say("greeting", "bye"), hangup(), say("orphan", "bye"), slug="acme", name="Renamed"
    )
    result = services.flow_update_draft(
        flow=acme, definition=with_orphan, base_revision=1, user=editor
    )
    assert result.changed and result.flow.revision == 2 and result.flow.updated_by == editor
    assert [(p.severity, p.node) for p in result.problems] == [("warning", "orphan")]
    stored = Flow.objects.get(slug="acme")
    assert (stored.revision, stored.name, stored.definition) == (2, "Renamed", with_orphan)


def test_a_no_op_save_writes_nothing():
    acme = services.flow_create(definition=simple_flow("acme"))
    before = Flow.objects.get(pk=acme.pk)
    same_but_reordered = dict(reversed(list(simple_flow("acme").items())))
    with CaptureQueriesContext(connection) as queries:
        result = services.flow_update_draft(
            flow=acme, definition=same_but_reordered, base_revision=1
        )
    assert not result.changed
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    after = Flow.objects.get(pk=acme.pk)
    assert (after.revision, after.updated_at, after.definition) == (
        1,
        before.updated_at,
        before.definition,
    )


def test_a_save_based_on_an_old_revision_is_refused(editor, publisher):
    acme = services.flow_create(definition=simple_flow("acme"))
    services.flow_update_draft(
        flow=acme, definition=_changed(acme.definition, "Mine."), base_revision=1, user=editor
    )
    with pytest.raises(services.StaleRevision) as raised:
        services.flow_update_draft(
            flow=acme,
            definition=_changed(acme.definition, "Theirs."),
            base_revision=1,
            user=publisher,
        )
    stale = raised.value
    assert (stale.revision, stale.updated_by, stale.flow.slug) == (2, editor, "acme")
    assert stale.updated_at == Flow.objects.get(slug="acme").updated_at
    assert str(stale).startswith("Changed by eddie at ")
    assert Flow.objects.get(slug="acme").definition["nodes"][0]["config"]["text"] == "Mine."
    forced = services.flow_update_draft(
        flow=acme,
        definition=_changed(acme.definition, "Theirs."),
        base_revision=1,
        user=publisher,
        force=True,
    )
    assert forced.changed and forced.flow.revision == 3


def test_a_draft_with_errors_or_another_slug_is_refused():
    acme = services.flow_create(definition=simple_flow("acme"))
    with pytest.raises(services.InvalidDefinition) as raised:
        services.flow_update_draft(flow=acme, definition=simple_flow("other"), base_revision=1)
    assert [(p.path, p.message) for p in raised.value.problems] == [
        ("$.slug", "The slug must stay 'acme'; create a new flow to change it.")
    ]
    with pytest.raises(services.InvalidDefinition):
        services.flow_update_draft(
            flow=acme, definition=flow(say("hi", "hi"), slug="acme"), base_revision=1
        )
    assert Flow.objects.get(slug="acme").revision == 1


# ---- publish, rollback, export -------------------------------------------------------------


def test_publish_numbers_versions_and_skips_an_unchanged_draft(publisher):
    acme = services.flow_create(definition=simple_flow("acme"))
    v1 = services.flow_publish(flow=acme, user=publisher, note="first")
    assert (v1.number, v1.note, v1.published_by, acme.published_version) == (
        1,
        "first",
        publisher,
        v1,
    )
    assert services.flow_publish(flow=acme, user=publisher) == v1
    assert FlowVersion.objects.count() == 1
    services.flow_update_draft(
        flow=acme, definition=_changed(acme.definition, "New."), base_revision=1
    )
    v2 = services.flow_publish(flow=acme)
    assert v2.number == 2 and Flow.objects.get(pk=acme.pk).published_version == v2


def test_publish_applies_publish_rules_and_the_revision_guard():
    definition = flow(say("hi", "bye"), hangup(), say("orphan", "bye"), slug="acme")
    acme = services.flow_create(definition=definition)
    with pytest.raises(services.InvalidDefinition) as raised:
        services.flow_publish(flow=acme)
    assert [(p.severity, p.node) for p in raised.value.problems] == [("error", "orphan")]
    fixed = services.flow_update_draft(
        flow=acme, definition=simple_flow("acme"), base_revision=1
    ).flow
    with pytest.raises(services.StaleRevision):
        services.flow_publish(flow=fixed, base_revision=1)
    assert FlowVersion.objects.count() == 0
    assert services.flow_publish(flow=fixed, base_revision=2).number == 1


def test_rollback_publishes_the_old_definition_as_a_new_version():
    acme = services.flow_create(definition=simple_flow("acme", "One."))
    services.flow_publish(flow=acme)
    services.flow_update_draft(flow=acme, definition=simple_flow("acme", "Two."), base_revision=1)
    services.flow_publish(flow=acme)
    v3 = services.flow_rollback(flow=acme, version_number=1, note="two was wrong")
    assert (v3.number, v3.rolled_back_from, v3.note) == (3, 1, "two was wrong")
    stored = Flow.objects.get(pk=acme.pk)
    assert stored.definition == simple_flow("acme", "One.") == v3.definition
    assert stored.revision == 3 and stored.published_version == v3 and acme.revision == 3
    with pytest.raises(services.VersionNotFound, match="has no version 9"):
        services.flow_rollback(flow=acme, version_number=9)


def test_export_gives_the_draft_or_a_version():
    acme = services.flow_create(definition=simple_flow("acme", "One."))
    services.flow_publish(flow=acme)
    services.flow_update_draft(flow=acme, definition=simple_flow("acme", "Two."), base_revision=1)
    assert services.flow_export(flow=acme) == simple_flow("acme", "Two.")
    assert services.flow_export(flow=acme, version_number=1) == simple_flow("acme", "One.")
    with pytest.raises(services.VersionNotFound):
        services.flow_export(flow=acme, version_number=2)


def test_definition_lookup_prefers_the_published_version():
    assert services.flow_definition_lookup("acme") is None
    acme = services.flow_create(definition=simple_flow("acme", "One."))
    assert services.flow_definition_lookup("acme") == simple_flow("acme", "One.")
    services.flow_publish(flow=acme)
    services.flow_update_draft(flow=acme, definition=simple_flow("acme", "Two."), base_revision=1)
    assert services.flow_definition_lookup("acme") == simple_flow("acme", "One.")


def test_empty_definition_is_a_valid_flow():
    definition = services.empty_definition(slug="new-line", name="New line")
    assert services.flow_create(definition=definition).definition["start"] == "goodbye"
    assert services.flow_publish(flow=Flow.objects.get(slug="new-line")).number == 1
