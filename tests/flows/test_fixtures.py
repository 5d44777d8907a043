"""The demo flows: valid on publish without a single warning, every node type used."""

import json

import phonenumbers

from flows import nodes
from flows.spec import validate
from tests.flows.spec_helpers import FIXTURES, demo_flows

DEMOS = demo_flows()


def test_the_demo_flows_publish_without_errors_or_warnings():
    by_slug = {d["slug"]: d for d in DEMOS.values()}
    assert set(DEMOS) == {
        "card-services.json",
        "complaints.json",
        "order-status.json",
        "restaurant.json",
        "shared-auth.json",
    }
    for name, demo in DEMOS.items():
        assert name == f"{demo['slug']}.json"
        assert validate(demo, publish=True, flow_lookup=by_slug.get) == [], name


def test_the_demo_flows_fit_the_designer_and_the_uk():
    for name, demo in DEMOS.items():
        assert (demo["timezone"], demo["language"]) == ("Europe/London", "en-GB"), name
        assert demo["fallback"]["node"] and demo["fallback"]["sms"], name
        assert all("position" in node for node in demo["nodes"]), name
        start = next(n for n in demo["nodes"] if n["id"] == demo["start"])
        assert start["position"]["x"] == min(n["position"]["x"] for n in demo["nodes"]), name


def test_every_node_type_appears_in_a_demo():
    used = {node["type"] for demo in DEMOS.values() for node in demo["nodes"]}
    # a placeholder is what an import leaves where it could not convert: never in a demo
    assert used == set(nodes.all_types()) - {"placeholder"}


def test_the_demo_numbers_are_valid_and_name_demo_flows():
    numbers = json.loads((FIXTURES / "numbers.json").read_text())
    slugs = {d["slug"] for d in DEMOS.values()}
    assert {n["flow"] for n in numbers} == {
        "restaurant",
        "card-services",
        "complaints",
        "order-status",
    }
    assert len({n["number"] for n in numbers}) == len(numbers)
    for entry in numbers:
        assert phonenumbers.is_valid_number(phonenumbers.parse(entry["number"])), entry
        assert entry["flow"] in slugs
