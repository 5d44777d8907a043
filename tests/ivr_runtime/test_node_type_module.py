"""A node type is one module: a type defined here, and nowhere else, is validated and
published, listed for the designer, runs on a call through the signed webhooks and in a
text conversation, and cleans up when the caller hangs up on it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import count

import pytest

from flows import nodes
from flows.nodes.base import Config, Node, NodeType
from flows.nodes.common import TEMPLATE, obj
from flows.nodes.runtime import Event, Gather, Next, Result, Run, SendSms, Wait
from ivr_runtime.models import CallSession, CallStep, OutboundMessage

pytestmark = pytest.mark.django_db

NUMBER = "+442079460177"
CALLER = "+447700900177"
_sids = count(1)


class Vote(NodeType):
    """Ask for one of a few choices, by key (1 for the first...) or, in a text, by name.

    Each choice is also the name of its exit; `none` when the answer is none of them.

    Example::

        {"id": "colour", "type": "vote_test",
         "config": {"question": "Which colour? 1 for red, 2 for blue.", "choices": ["red", "blue"]},
         "exits": {"red": "bye", "blue": "bye", "none": "bye"}}
    """

    type = "vote_test"
    title = "Vote"
    description = "Ask for one of a few choices."
    color = "#0f766e"
    icon = "Vo"
    summary = ("{#choices} choices \u00b7 {question:30|}",)
    fixed_exits = ("none",)
    exits_from = ("choices", None)
    waits_for_input = True
    config_schema = obj(
        {
            "question": TEMPLATE,
            "choices": {
                "type": "array",
                "minItems": 1,
                "maxItems": 9,
                "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"},
            },
        },
        required=("question", "choices"),
    )

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        question = run.speech(node["config"], "question")
        run.emit(Gather(seq=run.next_seq, prompts=(question,) if question else (), num_digits=1))
        return Wait("input")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        choices = node["config"]["choices"]
        index = int(event.digits) - 1 if event.digits.isdigit() else -1
        chosen = choices[index] if 0 <= index < len(choices) else "none"
        run.remember(node["id"], choice=chosen)
        return Next(chosen, input=event.digits or event.speech or None)

    @classmethod
    def on_hangup(cls, run: Run, node: Node) -> None:
        body = "You hung up before voting: text us your choice any time."
        run.effect(SendSms(to=run.call.caller, body=body, node=node["id"]))

    @classmethod
    def text_reply(cls, config: Config, text: str) -> Event:
        """A choice's name stands for its key."""
        named = text.strip().lower()
        if named in config["choices"]:
            return Event(kind="input", digits=str(config["choices"].index(named) + 1))
        return super().text_reply(config, text)

    @classmethod
    def text_options(cls, config: Config) -> list[str]:
        return ["Choices: " + " / ".join(config["choices"]) + "."]


@pytest.fixture
def vote_type():
    nodes.register(Vote)
    yield Vote
    nodes.unregister(Vote.type)


def definition() -> dict:
    example = Vote.example()
    chosen = {"red": "red_end", "blue": "blue_end", "none": "no_end"}
    return {
        "format": "callflow/1",
        "slug": "votes",
        "name": "Votes",
        "language": "en-GB",
        "start": "colour",
        "nodes": [
            {**example, "exits": chosen},
            {
                "id": "red_end",
                "type": "hangup",
                "config": {"text": "{{ nodes.colour.choice }} it is."},
                "exits": {},
            },
            {"id": "blue_end", "type": "hangup", "config": {"text": "Blue, noted."}, "exits": {}},
            {"id": "no_end", "type": "hangup", "config": {"text": "No vote."}, "exits": {}},
        ],
    }


@pytest.fixture
def published(vote_type, editor_api, publisher_api):
    created = editor_api.post("/api/flows/", {"definition": definition()}, format="json")
    assert created.status_code == 201, created.json()
    response = publisher_api.post("/api/flows/votes/publish/", {"note": "votes"}, format="json")
    assert response.status_code == 201, response.json()
    bound = publisher_api.post("/api/numbers/", {"number": NUMBER, "flow": "votes"}, format="json")
    assert bound.status_code == 201, bound.json()


def test_the_designer_lists_the_type_as_its_module_describes_it(vote_type, viewer_api):
    listed = {t["type"]: t for t in viewer_api.get("/api/node-types/").json()}
    vote = listed["vote_test"]
    assert (vote["title"], vote["fixed_exits"], vote["waits_for_input"]) == ("Vote", ["none"], True)
    assert vote["exits_from"] == {"field": "choices", "key": None}
    assert vote["style"] == {"color": "#0f766e", "icon": "Vo"}
    assert vote["summary"] == ["{#choices} choices \u00b7 {question:30|}"]
    assert vote["example"]["type"] == "vote_test"
    assert viewer_api.get("/api/node-types/vote_test/").json() == vote


def test_its_schema_and_exits_are_checked(vote_type, editor_api, publisher_api):
    bad = definition()
    bad["nodes"][0]["config"]["choices"].append("Not An Exit")
    response = editor_api.post("/api/flows/", {"definition": bad}, format="json")
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert (problem["node"], problem["path"]) == ("colour", "$.nodes[0].config.choices[2]")

    # an exit its config names (a choice) left unconnected: refused on publishing
    unconnected = definition()
    unconnected["nodes"][0]["exits"]["none"] = "blue_end"
    del unconnected["nodes"][0]["exits"]["red"]
    assert (
        editor_api.post("/api/flows/", {"definition": unconnected}, format="json").status_code
        == 201
    )
    response = publisher_api.post("/api/flows/votes/publish/", {}, format="json")
    assert response.status_code == 400
    refused = [(p["path"], p["severity"]) for p in response.json()["problems"]]
    assert ("$.nodes[0].exits.red", "error") in refused, refused


def test_a_call_votes_by_key(published, place_call):
    call = place_call(NUMBER, caller=CALLER)
    assert call.heard == ["Which colour? 1 for red, 2 for blue."]
    call.press("1")
    assert call.ended and call.heard[-1] == "red it is."
    session = CallSession.objects.get(call_sid=call.sid)
    steps = CallStep.objects.filter(session=session).order_by("index")
    assert [(s.node_id, s.node_type, s.exit, s.input) for s in steps] == [
        ("colour", "vote_test", "red", "1"),
        ("red_end", "hangup", "", ""),
    ]


def test_a_caller_who_hangs_up_at_the_vote_is_texted(published, place_call):
    call = place_call(NUMBER, caller=CALLER)
    call.hang_up()
    session = CallSession.objects.get(call_sid=call.sid)
    step = CallStep.objects.get(session=session, node_id="colour")
    assert step.hung_up and step.exit == ""
    message = OutboundMessage.objects.get()
    assert (message.to, message.step_id) == (CALLER, step.pk)
    assert message.body.startswith("You hung up before voting")


def text(signer, body: str) -> list[str]:
    """An incoming SMS, signed as Twilio posts it; the reply's texts."""
    params = {
        "MessageSid": f"SM{next(_sids):032x}",
        "AccountSid": "AC" + "0" * 32,
        "From": CALLER,
        "To": NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    response = signer.post("/ivr/sms", params)
    assert response.status_code == 200, response.content
    return [m.text or "" for m in ET.fromstring(response.content).findall("Message")]


@pytest.mark.parametrize(
    ("reply", "said", "exit_taken"),
    [("Blue", "Blue, noted.", "blue"), ("1", "red it is.", "red"), ("green", "No vote.", "none")],
)
def test_a_text_conversation_votes_by_name_or_key(published, signer, reply, said, exit_taken):
    assert text(signer, "hi") == ["Which colour? 1 for red, 2 for blue.\nChoices: red / blue."]
    assert text(signer, reply) == [said]
    session = CallSession.objects.get(channel="sms", from_number=CALLER)
    assert session.status == "completed"
    step = CallStep.objects.get(session=session, node_id="colour")
    assert step.exit == exit_taken
