"""Importing flow files against the database: all or nothing, idempotent, Studio exports."""

import json

import pytest

from flows import imports, numbers, services
from flows.imports import ImportSource
from flows.models import Flow
from tests.flows.db_helpers import counts, snapshot
from tests.flows.spec_helpers import flow, hangup, node, say, simple_flow

pytestmark = pytest.mark.django_db


def _src(definition, name=None):
    return ImportSource(name or f"{definition['slug']}.json", json.dumps(definition, indent=2))


def test_import_creates_publishes_and_is_idempotent():
    sources = [_src(simple_flow("a")), _src(simple_flow("b"))]
    report = imports.flows_import(sources=sources, publish=True)
    assert [
        (f.slug, f.created, f.changed, f.published, f.published_version) for f in report.flows
    ] == [
        ("a", True, True, True, 1),
        ("b", True, True, True, 1),
    ]
    before = snapshot()
    again = imports.flows_import(sources=sources, publish=True)
    assert [(f.created, f.changed, f.published, f.published_version) for f in again.flows] == [
        (False, False, False, 1)
    ] * 2
    assert snapshot() == before


def test_import_of_a_changed_file_bumps_the_revision_and_publishes_again():
    imports.flows_import(sources=[_src(simple_flow("a"))], publish=True)
    report = imports.flows_import(sources=[_src(simple_flow("a", "Changed."))], publish=True)
    assert [(f.created, f.changed, f.published_version) for f in report.flows] == [(False, True, 2)]
    assert Flow.objects.get(slug="a").revision == 2
    draft_only = imports.flows_import(sources=[_src(simple_flow("a", "Draft."))])
    assert [(f.changed, f.published, f.published_version) for f in draft_only.flows] == [
        (True, False, 2)
    ]


def test_import_reports_warnings_on_drafts():
    definition = flow(say("hi", "bye"), hangup(), say("orphan", "bye"), slug="a")
    report = imports.flows_import(sources=[_src(definition)])
    assert [(w.file, w.node) for w in report.warnings] == [("a.json", "orphan")]
    assert report.flows[0].as_dict()["warnings"][0]["severity"] == "warning"


def test_a_dry_run_reports_and_writes_nothing():
    imports.flows_import(sources=[_src(simple_flow("a"))])
    before = snapshot()
    report = imports.flows_import(
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
    report = imports.flows_import(sources=[_src(main), _src(simple_flow("shared"))], publish=True)
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
    with pytest.raises(imports.ImportFailed):
        imports.flows_import(sources=[_src(main)], publish=True)
    services.flow_publish(flow=Flow.objects.get(slug="shared"))
    assert services.flow_publish(flow=created).number == 1
    assert services.flow_definition_lookup("shared", published_only=True) == simple_flow("shared")


def test_a_subflow_cycle_across_files_fails_the_import():
    a = flow(node("go", "subflow", {"flow": "b"}, **{"return": "bye"}), hangup(), slug="a")
    b = flow(node("go", "subflow", {"flow": "a"}, **{"return": "bye"}), hangup(), slug="b")
    with pytest.raises(imports.ImportFailed) as raised:
        imports.flows_import(sources=[_src(a), _src(b)])
    assert [str(e) for e in raised.value.errors] == [
        "a.json: $.nodes[0].config.flow (node 'go'): Sub-flow 'go' goes round in a circle of flows: a -> b -> a.",
        "b.json: $.nodes[0].config.flow (node 'go'): Sub-flow 'go' goes round in a circle of flows: b -> a -> b.",
    ]
    assert counts() == (0, 0, 0)


def test_the_same_slug_twice_in_one_import_is_an_error():
    with pytest.raises(imports.ImportFailed) as raised:
        imports.flows_import(
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
    report = imports.flows_import(sources=[ImportSource("studio.json", json.dumps(export))])
    (imported,) = report.flows
    assert (imported.slug, imported.created, imported.converted_from) == (
        "studio",
        True,
        "Twilio Studio",
    )
    flow = Flow.objects.get(slug="studio")
    assert flow.name == "IVR"
    assert [(n["id"], n["type"]) for n in flow.definition["nodes"]] == [
        ("hello", "say"),
        ("end", "hangup"),  # Studio ends the call where a transition has no next
    ]


def test_a_studio_export_without_a_call_path_is_refused_and_changes_nothing():
    export = {**STUDIO, "states": [{"name": "Trigger", "type": "trigger", "transitions": []}]}
    with pytest.raises(imports.ImportFailed) as raised:
        imports.flows_import(sources=[ImportSource("studio.json", json.dumps(export))])
    (error,) = raised.value.errors
    assert error.file == "studio.json"
    assert error.message.startswith("Twilio Studio export that cannot be converted:")
    assert "'Trigger' leads nowhere" in error.message
    assert counts() == (0, 0, 0)


def test_one_bad_file_imports_nothing_at_all():
    imports.flows_import(sources=[_src(simple_flow("a"))], publish=True)
    numbers.number_bind(number="+442079460001", flow=Flow.objects.get(slug="a"))
    before = snapshot()
    with pytest.raises(imports.ImportFailed) as raised:
        imports.flows_import(
            sources=[
                _src(simple_flow("a", "Changed.")),
                _src(simple_flow("new")),
                ImportSource("bad.json", "{"),
            ],
            publish=True,
        )
    assert [e.file for e in raised.value.errors] == ["bad.json"]
    assert snapshot() == before


def _with_a_placeholder(slug):
    pay = node(
        "pay",
        "placeholder",
        {"source": "studio", "source_type": "capture-payments", "exit_names": ["success"]},
        success="bye",
    )
    return flow(say("hi", "pay"), pay, hangup(), slug=slug, subflow=True)


def _entering(slug, subflow):
    enter = node("enter", "subflow", {"flow": subflow}, **{"return": "bye"})
    return flow(enter, hangup(), slug=slug)


def test_a_flow_entering_a_sub_flow_held_for_its_placeholders_is_held_too():
    sources = [
        _src(_with_a_placeholder("payments")),
        _src(_entering("main-line", "payments")),
        _src(_entering("front-door", "main-line")),
        _src(simple_flow("other")),
    ]
    report = imports.flows_import(sources=sources, publish=True)
    by_slug = {f.slug: f for f in report.flows}
    assert {s: (f.published, f.held, f.held_by) for s, f in by_slug.items()} == {
        "payments": (False, True, []),
        "main-line": (False, True, ["payments"]),
        "front-door": (False, True, ["main-line"]),
        "other": (True, False, []),
    }
    assert by_slug["main-line"].as_dict()["held_by"] == ["payments"]
    allowed = imports.flows_import(sources=sources, publish=True, allow_placeholders=True)
    assert all(f.published for f in allowed.flows if f.slug != "other")


def test_the_command_says_why_a_flow_entering_a_held_sub_flow_is_not_published(tmp_path):
    import io

    from django.core.management import call_command

    for definition in (_with_a_placeholder("payments"), _entering("main-line", "payments")):
        (tmp_path / f"{definition['slug']}.json").write_text(json.dumps(definition))
    out = io.StringIO()
    call_command("import_flows", str(tmp_path), "--publish", stdout=out)
    assert (
        "  Not published: it enters payments, imported as a draft for its placeholder nodes: "
        "replace them there, or publish anyway with --publish --allow-placeholders."
    ) in out.getvalue().splitlines()
    assert Flow.objects.get(slug="main-line").published_version is None
