"""Flow services against the database: drafts, versions, import, numbers."""

import copy
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows import services
from flows.models import Flow, FlowVersion, PhoneNumber
from flows.services import ImportSource
from tests.flows.db_helpers import counts, snapshot
from tests.flows.spec_helpers import flow, hangup, node, say, simple_flow

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


# ---- import --------------------------------------------------------------------------------


def _src(definition, name=None):
    return ImportSource(name or f"{definition['slug']}.json", json.dumps(definition, indent=2))


def test_import_creates_publishes_and_is_idempotent():
    sources = [_src(simple_flow("a")), _src(simple_flow("b"))]
    report = services.flows_import(sources=sources, publish=True)
    assert [
        (f.slug, f.created, f.changed, f.published, f.published_version) for f in report.flows
    ] == [
        ("a", True, True, True, 1),
        ("b", True, True, True, 1),
    ]
    before = snapshot()
    again = services.flows_import(sources=sources, publish=True)
    assert [(f.created, f.changed, f.published, f.published_version) for f in again.flows] == [
        (False, False, False, 1)
    ] * 2
    assert snapshot() == before


def test_import_of_a_changed_file_bumps_the_revision_and_publishes_again():
    services.flows_import(sources=[_src(simple_flow("a"))], publish=True)
    report = services.flows_import(sources=[_src(simple_flow("a", "Changed."))], publish=True)
    assert [(f.created, f.changed, f.published_version) for f in report.flows] == [(False, True, 2)]
    assert Flow.objects.get(slug="a").revision == 2
    draft_only = services.flows_import(sources=[_src(simple_flow("a", "Draft."))])
    assert [(f.changed, f.published, f.published_version) for f in draft_only.flows] == [
        (True, False, 2)
    ]


def test_import_reports_warnings_on_drafts():
    definition = flow(say("hi", "bye"), hangup(), say("orphan", "bye"), slug="a")
    report = services.flows_import(sources=[_src(definition)])
    assert [(w.file, w.node) for w in report.warnings] == [("a.json", "orphan")]
    assert report.flows[0].as_dict()["warnings"][0]["severity"] == "warning"


def test_a_dry_run_reports_and_writes_nothing():
    services.flows_import(sources=[_src(simple_flow("a"))])
    before = snapshot()
    report = services.flows_import(
        sources=[_src(simple_flow("a", "New.")), _src(simple_flow("b"))], publish=True, dry_run=True
    )
    assert report.dry_run
    assert [(f.slug, f.created, f.changed, f.published_version) for f in report.flows] == [
        ("a", False, True, 1),
        ("b", True, True, 1),
    ]
    assert snapshot() == before


def test_flows_of_one_import_can_use_each_other_as_subflows():
    main = flow(
        node("go", "subflow", {"flow": "shared"}, **{"return": "bye"}), hangup(), slug="main"
    )
    report = services.flows_import(sources=[_src(main), _src(simple_flow("shared"))], publish=True)
    assert [f.published_version for f in report.flows] == [1, 1]


def test_publishing_needs_the_subflow_published():
    services.flow_create(definition=simple_flow("shared"))
    main = flow(
        node("go", "subflow", {"flow": "shared"}, **{"return": "bye"}), hangup(), slug="main"
    )
    created = services.flow_create(definition=main)  # a draft may use a draft
    with pytest.raises(services.InvalidDefinition) as raised:
        services.flow_publish(flow=created)
    assert [p.message for p in raised.value.problems] == [
        "Sub-flow 'go' names flow 'shared', which is not published."
    ]
    with pytest.raises(services.ImportFailed):
        services.flows_import(sources=[_src(main)], publish=True)
    services.flow_publish(flow=Flow.objects.get(slug="shared"))
    assert services.flow_publish(flow=created).number == 1
    assert services.flow_definition_lookup("shared", published_only=True) == simple_flow("shared")


def test_a_subflow_cycle_across_files_fails_the_import():
    a = flow(node("go", "subflow", {"flow": "b"}, **{"return": "bye"}), hangup(), slug="a")
    b = flow(node("go", "subflow", {"flow": "a"}, **{"return": "bye"}), hangup(), slug="b")
    with pytest.raises(services.ImportFailed) as raised:
        services.flows_import(sources=[_src(a), _src(b)])
    assert [str(e) for e in raised.value.errors] == [
        "a.json: $.nodes[0].config.flow (node 'go'): Sub-flow 'go' goes round in a circle of flows: a -> b -> a.",
        "b.json: $.nodes[0].config.flow (node 'go'): Sub-flow 'go' goes round in a circle of flows: b -> a -> b.",
    ]
    assert counts() == (0, 0, 0)


def test_the_same_slug_twice_in_one_import_is_an_error():
    with pytest.raises(services.ImportFailed) as raised:
        services.flows_import(
            sources=[_src(simple_flow("a"), "one.json"), _src(simple_flow("a"), "two.json")]
        )
    assert [e.as_dict() for e in raised.value.errors] == [
        {
            "file": "two.json",
            "path": "$.slug",
            "node": None,
            "message": "The slug 'a' is also used by one.json.",
        }
    ]
    assert counts() == (0, 0, 0)


STUDIO = {
    "description": "IVR",
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingCall", "next": "hello"}],
        },
        {"name": "hello", "type": "say-play", "properties": {"say": "Hello."}, "transitions": []},
    ],
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
}


@pytest.mark.parametrize(
    "export", [STUDIO, {"friendly_name": "IVR", "definition": STUDIO}], ids=["bare", "wrapped"]
)
def test_twilio_studio_exports_are_recognised_and_converted(export):
    report = services.flows_import(sources=[ImportSource("studio.json", json.dumps(export))])
    (imported,) = report.flows
    assert (imported.slug, imported.created, imported.converted_from) == (
        "studio",
        True,
        "Twilio Studio",
    )
    flow = Flow.objects.get(slug="studio")
    assert flow.name == "IVR"
    assert [(n["id"], n["type"]) for n in flow.definition["nodes"]] == [("hello", "say")]


def test_a_studio_export_without_a_call_path_is_refused_and_changes_nothing():
    export = {**STUDIO, "states": [{"name": "Trigger", "type": "trigger", "transitions": []}]}
    with pytest.raises(services.ImportFailed) as raised:
        services.flows_import(sources=[ImportSource("studio.json", json.dumps(export))])
    (error,) = raised.value.errors
    assert error.file == "studio.json"
    assert error.message.startswith("Twilio Studio export that cannot be converted:")
    assert "'Trigger' has no incoming call transition" in error.message
    assert counts() == (0, 0, 0)


def test_one_bad_file_imports_nothing_at_all():
    services.flows_import(sources=[_src(simple_flow("a"))], publish=True)
    services.number_bind(number="+442079460001", flow=Flow.objects.get(slug="a"))
    before = snapshot()
    with pytest.raises(services.ImportFailed) as raised:
        services.flows_import(
            sources=[
                _src(simple_flow("a", "Changed.")),
                _src(simple_flow("new")),
                ImportSource("bad.json", "{"),
            ],
            publish=True,
        )
    assert [e.file for e in raised.value.errors] == ["bad.json"]
    assert snapshot() == before


# ---- numbers --------------------------------------------------------------------------------


def test_binding_a_number_moves_it_and_rebinding_writes_nothing():
    a = services.flow_create(definition=simple_flow("a"))
    b = services.flow_create(definition=simple_flow("b"))
    bound = services.number_bind(number="+442079460001", flow=a, label="Main line")
    assert (bound.flow, bound.label) == (a, "Main line")
    moved = services.number_bind(number="+442079460001", flow=b)
    assert (moved.pk, moved.flow, moved.label) == (bound.pk, b, "Main line")
    before = snapshot()
    services.number_bind(number="+442079460001", flow=b)
    assert snapshot() == before
    assert PhoneNumber.objects.get().flow == b


@pytest.mark.parametrize(
    "number", ["442079460001", "+44 20 7946 0001", "+4420", "+999123456789", "call me"]
)
def test_binding_refuses_numbers_not_in_e164(number):
    a = services.flow_create(definition=simple_flow("a"))
    with pytest.raises(services.InvalidNumber, match="E.164"):
        services.number_bind(number=number, flow=a)
    assert PhoneNumber.objects.count() == 0


def test_unbinding():
    a = services.flow_create(definition=simple_flow("a"))
    services.number_bind(number="+442079460001", flow=a)
    services.number_unbind(number="+442079460001")
    assert PhoneNumber.objects.count() == 0
    with pytest.raises(services.NumberNotBound):
        services.number_unbind(number="+442079460001")


def test_empty_definition_is_a_valid_flow():
    definition = services.empty_definition(slug="new-line", name="New line")
    assert services.flow_create(definition=definition).definition["start"] == "goodbye"
    assert services.flow_publish(flow=Flow.objects.get(slug="new-line")).number == 1
