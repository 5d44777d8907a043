"""The node-type protocol: what each type answers for text conversations and the sweep, and
what every registered type declares (a behaviour, a summary of its own config)."""

import re

import pytest

from flows import nodes
from flows.nodes.base import NodeType
from flows.nodes.input import Input
from flows.nodes.menu import Menu
from flows.nodes.route import Route
from flows.nodes.runtime import Event

OPTIONS = [
    {"key": "1", "label": "Bookings", "speech": ["book", "table"]},
    {"key": "2", "label": "Opening hours"},
]


def keys(digits: str) -> Event:
    return Event(kind="input", digits=digits)


def words(speech: str) -> Event:
    return Event(kind="input", speech=speech, confidence=1.0)


def either(digits: str, speech: str) -> Event:
    """The generic reading: keys, or else the words, at full confidence."""
    return Event(kind="input", digits=digits, speech=speech, confidence=1.0)


@pytest.mark.parametrize(
    ("config", "text", "event"),
    [
        # a keypad menu: an option's key, word or label is its key
        ({"options": OPTIONS}, "1", keys("1")),
        ({"options": OPTIONS}, "2", keys("2")),
        ({"options": OPTIONS}, "Book a table", keys("1")),
        ({"options": OPTIONS}, "opening hours please", keys("2")),
        # keys no option has stay keys (a no_match); words matching none become keys no
        # option has, so that a keypad-only menu takes them as a wrong answer, not silence
        ({"options": OPTIONS}, "3", either("3", "")),
        ({"options": OPTIONS}, "pizza", either("#", "")),
        ({"options": [*OPTIONS, {"key": "#"}]}, "pizza", either("*#", "")),
        ({"options": OPTIONS}, "", either("", "")),
        # speech and both: a matched key by keypad where keys are taken, else as words
        ({"options": OPTIONS, "input": "speech"}, "1", words("1")),
        ({"options": OPTIONS, "input": "speech"}, "a table", words("1")),
        ({"options": OPTIONS, "input": "both"}, "book", keys("1")),
        ({"options": OPTIONS, "input": "both"}, "pizza", either("", "pizza")),
        ({"options": [{"key": "sales"}], "input": "both"}, "Sales!", words("sales")),
        ({"options": OPTIONS, "input": "both"}, "9 9", either("99", "")),
    ],
)
def test_a_menu_reads_a_text_as_the_option_it_names(config, text, event):
    assert Menu.text_reply(config, text) == event


@pytest.mark.parametrize(
    ("config", "text", "event"),
    [
        ({}, "123456", keys("123456")),
        ({"input": "both"}, "12 34-56", keys("123456")),
        ({"input": "both"}, "1234#", keys("1234#")),
        # words are the node's speech: a keys-only node refuses them as not valid
        ({}, "my order", words("my order")),
        ({"input": "both"}, "next Tuesday", words("next Tuesday")),
        ({"input": "speech"}, "1234", words("1234")),
        # a read-back's answer
        ({"confirm": True}, "YES", words("YES")),
        ({"confirm": True}, "1", keys("1")),
        ({}, "", words("")),
    ],
)
def test_an_input_reads_a_text_as_its_value(config, text, event):
    assert Input.text_reply(config, text) == event


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("1", either("1", "")),
        ("1 2-3", either("123", "")),
        ("*#", either("*#", "")),
        ("hello", either("", "hello")),
        ("1 a", either("", "1 a")),
        (" - ", either("", " - ")),
        ("", either("", "")),
    ],
)
def test_any_other_type_reads_a_text_as_keys_or_words(text, event):
    assert NodeType.text_reply({}, text) == event
    assert nodes.get("callback").text_reply({"prompt": "x"}, text) == event


@pytest.mark.parametrize(
    ("node_type", "config", "lines"),
    [
        (Menu, {"options": OPTIONS}, ["Reply 1 for Bookings, 2 for Opening hours."]),
        (
            Menu,
            {"options": [{"key": "1"}, {"key": "9", "label": "Anything else"}]},
            ["Reply 9 for Anything else."],
        ),
        (Menu, {"options": [{"key": "1"}, {"key": "2"}]}, []),
        (Menu, {}, []),
        (Input, {"prompt": "Your order number?"}, []),
        (NodeType, {}, []),
    ],
)
def test_only_a_menu_with_labels_adds_lines_to_a_text(node_type, config, lines):
    assert node_type.text_options(config) == lines


@pytest.mark.parametrize(
    ("node_type", "config", "waiting", "seconds"),
    [
        (Route, {"target": {"queue": "support"}, "max_wait": 900}, "queue", 900),
        (Route, {"target": {"queue": "support"}}, "queue", 300),
        (Route, {"target": {"number": "+441234567890"}}, "dial", 0),
        (Menu, {"options": OPTIONS}, "input", 0),
    ],
)
def test_only_a_queue_may_keep_a_call_silent_for_longer(node_type, config, waiting, seconds):
    assert node_type.silent_seconds(config, waiting) == seconds


@pytest.mark.parametrize("name", sorted(nodes.all_types()))
def test_every_type_runs_and_describes_itself(name):
    cls = nodes.get(name)
    assert cls.enter.__func__ is not NodeType.enter.__func__, f"{name} does not define enter"
    described = cls.describe()
    assert re.fullmatch(r"#[0-9a-f]{3}([0-9a-f]{3})?", described["style"]["color"])
    assert described["style"]["icon"]
    # every field a summary names is one of the type's config fields
    fields = cls.config_schema.get("properties", {})
    for template in described["summary"]:
        for ref in re.findall(r"\{([^}]*)\}", template):
            for end in ref.split(".."):
                path = end.lstrip("#?").split("=")[0].split("|")[0].split(":")[0]
                assert path.split(".")[0] in fields, (name, template, path)


def test_unregister_removes_a_type_and_says_when_there_is_none():
    class Probe(NodeType):
        type = "probe_protocol"
        title = "Probe"
        config_schema = {"type": "object"}

    assert nodes.register(Probe) is Probe
    assert nodes.get("probe_protocol") is Probe
    assert nodes.unregister("probe_protocol") is Probe
    assert nodes.get("probe_protocol") is None
    with pytest.raises(KeyError):
        nodes.unregister("probe_protocol")
