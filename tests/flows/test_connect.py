"""Amazon Connect flow exports: detection, conversion of every action, the report, broken
exports, and the import (command and API) with its placeholder rule."""

from __future__ import annotations

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from flows.imports import ImportSource, flows_import
from flows.models import Flow
from flows.spec import errors, validate
from flows.spec.connect import ConnectExportError, convert_connect, is_connect_export
from flows.spec.conversion import ConversionNote, conversion_report
from flows.spec.studio import convert_studio
from tests.flows.db_helpers import counts, snapshot

HERE = Path(__file__).parent / "connect"
PUBLISHABLE = sorted(HERE.glob("*.json"))
WITH_PLACEHOLDERS = HERE / "with-placeholders" / "queue-experiments.json"


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def export(*actions: dict, start: str | None = None, metadata: dict | None = None) -> dict:
    data = {"Version": "2019-10-30", "StartAction": start or actions[0]["Identifier"]}
    data["Actions"] = [*actions, action("bye", "DisconnectParticipant")]
    if metadata is not None:
        data["Metadata"] = metadata
    return data


def action(identifier, type_, params=None, next_=None, conditions=(), errors_=(), **extra) -> dict:
    transitions: dict = {}
    if next_:
        transitions["NextAction"] = next_
    if conditions:
        transitions["Conditions"] = [
            {"NextAction": target, "Condition": {"Operator": op, "Operands": [value]}}
            for op, value, target in conditions
        ]
    if errors_:
        transitions["Errors"] = [{"NextAction": t, "ErrorType": e} for e, t in errors_]
    return {"Identifier": identifier, "Type": type_, "Parameters": params or {},
            "Transitions": transitions, **extra}  # fmt: skip


def convert(*actions: dict, **kwargs):
    return convert_connect(export(*actions, **kwargs), source_name="test.json")


def node(result, node_id: str) -> dict:
    return next(n for n in result.definition["nodes"] if n["id"] == node_id)


def notes_of(result, node_id: str | None) -> list[ConversionNote]:
    return [n for n in result.notes if n.node == node_id]


# --- detection ------------------------------------------------------------------------------


def test_connect_exports_are_recognised_bare_or_as_the_api_answer():
    bare = load(HERE / "support-line.json")
    assert is_connect_export(bare)
    assert is_connect_export({"ContactFlow": {"Name": "x", "Content": json.dumps(bare)}})
    assert is_connect_export({"ContactFlowModule": {"Content": "{}"}})
    assert not is_connect_export({"format": "callflow/1", "StartAction": "x"})
    assert not is_connect_export({"states": [], "initial_state": "Trigger"})


def test_the_api_answer_converts_with_its_name_and_description():
    result = convert_connect(load(HERE / "two-lookups.json"), source_name="definitions[0]")
    assert result.definition["slug"] == "two-lookups"
    assert result.definition["name"] == "Two lookups"
    assert result.definition["description"].startswith("The DescribeContactFlow answer")


# --- one action at a time -----------------------------------------------------------------


@pytest.mark.parametrize(
    "params, config",
    [
        ({"Text": "Hello $.Attributes.name."}, {"text": "Hello {{ vars.name }}."}),
        ({"SSML": "<speak>Hi <break time='1s'/>there &amp; welcome</speak>"}, {"text": "Hi there & welcome"}),
        ({"PromptId": "arn:aws:connect:r:1:instance/i/prompt/p-1"}, {"audio_url": "https://prompts.invalid/p-1.wav"}),
        ({"Media": {"Uri": "https://cdn.example.com/hi.wav", "SourceType": "S3", "MediaType": "Audio"}},
         {"audio_url": "https://cdn.example.com/hi.wav"}),
    ],
)  # fmt: skip
def test_a_prompt_becomes_a_say(params, config):
    result = convert(
        action("hello", "MessageParticipant", params, "bye", errors_=[("NoMatchingError", "bye")])
    )
    assert node(result, "hello")["type"] == "say"
    assert node(result, "hello")["config"] == config
    assert node(result, "hello")["exits"] == {"next": "bye"}
    assert (not notes_of(result, "hello")) == ("Text" in params or "Media" in params)


def test_a_looping_prompt_is_a_say_played_three_times():
    messages = [{"Text": "Please hold."}, {"Text": "You are next."}]
    result = convert(
        action("hold", "MessageParticipantIteratively", {"Messages": messages}, "bye",
               [("Equals", "MessagesInterrupted", "bye")])
    )  # fmt: skip
    assert node(result, "hold")["config"] == {"text": "Please hold. You are next.", "loop": 3}
    assert any("3 times" in n for n in notes_of(result, "hold"))


def test_get_customer_input_with_fixed_keys_is_a_menu():
    result = convert(
        action("menu", "GetParticipantInput",
               {"Text": "Press 1 or 2.", "StoreInput": "False", "InputTimeLimitSeconds": "7"}, "bye",
               [("Equals", "1", "one"), ("Equals", "2", "bye"), ("Equals", "1", "bye")],
               [("InputTimeLimitExceeded", "bye"), ("NoMatchingCondition", "one")]),
        action("one", "MessageParticipant", {"Text": "One."}, "bye"),
    )  # fmt: skip
    menu = node(result, "menu")
    assert menu["type"] == "menu"
    assert menu["config"] == {
        "prompt": "Press 1 or 2.", "input": "dtmf", "options": [{"key": "1"}, {"key": "2"}],
        "timeout": 7, "retries": 0,
    }  # fmt: skip
    assert menu["exits"] == {"1": "one", "2": "bye", "no_match": "one", "no_input": "bye"}


def test_get_customer_input_tested_otherwise_is_an_input_and_a_branch():
    result = convert(
        action("ask", "GetParticipantInput", {"Text": "Rate us.", "InputTimeLimitSeconds": "5"}, "bye",
               [("NumberGreaterThan", "3", "happy")], [("NoMatchingCondition", "bye")]),
        action("happy", "MessageParticipant", {"Text": "Thanks!"}, "bye"),
    )  # fmt: skip
    ask = node(result, "ask")
    assert ask["type"] == "input"
    assert ask["config"]["max_digits"] == 1
    assert ask["exits"]["valid"] == "ask_check"
    check = node(result, "ask_check")
    assert check["config"]["rules"] == [
        {"exit": "gt_3", "var": "nodes.ask.value", "op": "gt", "value": "3"}
    ]
    assert check["exits"] == {"gt_3": "happy", "else": "bye"}


def test_store_customer_input_is_an_input_read_as_stored_customer_input():
    result = convert(
        action("account", "GetParticipantInput",
               {"Text": "Your account number, then hash.", "StoreInput": "True", "InputTimeLimitSeconds": "90",
                "InputValidation": {"CustomValidation": {"MaximumLength": "8"}},
                "DTMFConfiguration": {"InputTerminationSequence": "*"}}, "read",
               errors_=[("NoMatchingError", "bye")]),
        action("read", "MessageParticipant", {"Text": "You typed $.StoredCustomerInput."}, "bye"),
    )  # fmt: skip
    account = node(result, "account")
    assert account["type"] == "input"
    assert account["config"] == {
        "prompt": "Your account number, then hash.", "input": "dtmf", "max_digits": 8,
        "timeout": 60, "retries": 0, "finish_on_key": "*",
    }  # fmt: skip
    assert account["exits"] == {"valid": "read", "invalid": "bye", "no_input": "read"}
    assert node(result, "read")["config"]["text"] == "You typed {{ nodes.account.value }}."
    assert any("60" in n for n in notes_of(result, "account"))


def test_a_lex_bot_with_intents_becomes_a_speech_menu_and_without_a_placeholder():
    bot = {
        "LexV2Bot": {"AliasArn": "arn:aws:lex:r:1:bot-alias/BOT123/ALIAS1"},
        "Text": "How can I help?",
    }
    result = convert(
        action("assistant", "GetParticipantInput", bot, "bye",
               [("Equals", "CheckBalance", "bye"), ("Equals", "NoMatch", "bye")]),
        action("bot", "ConnectParticipantWithLexBot", bot, "bye"),
        start="assistant",
    )  # fmt: skip
    menu = node(result, "assistant")
    assert menu["type"] == "menu" and menu["config"]["input"] == "speech"
    assert menu["config"]["options"][0] == {
        "key": "check_balance",
        "label": "CheckBalance",
        "speech": ["check balance"],
    }
    assert menu["config"]["options"][1]["key"] == "no_match_2"
    placeholder = node(result, "bot")
    assert placeholder["type"] == "placeholder"
    assert "BOT123/ALIAS1" in placeholder["config"]["note"]
    assert placeholder["config"]["original"] == bot
    assert errors(validate(result.definition)) == []


def test_hours_of_operation_is_a_time_of_day_to_fill_in():
    result = convert(
        action("hours", "CheckHoursOfOperation", {"HoursOfOperationId": "arn:aws:connect:r:1:instance/i/operating-hours/h1"},
               "bye", [("Equals", "True", "open"), ("Equals", "False", "bye")]),
        action("open", "MessageParticipant", {"Text": "We are open."}, "bye"),
    )  # fmt: skip
    hours = node(result, "hours")
    assert hours["type"] == "time_of_day"
    assert set(hours["config"]["schedule"]) == {"mon", "tue", "wed", "thu", "fri"}
    assert hours["exits"] == {"open": "open", "closed": "bye", "holiday": None}
    (note,) = notes_of(result, "hours")
    assert note.kind == "approximated" and "'h1'" in note.message


def test_set_working_queue_and_transfer_become_a_route_to_the_named_queue():
    queue = "arn:aws:connect:r:1:instance/i/queue/q-42"
    metadata = {
        "ActionMetadata": {
            "set": {
                "position": {"x": 10, "y": 20},
                "parameters": {"QueueId": {"displayName": "Billing"}},
            }
        }
    }
    result = convert(
        action("set", "UpdateContactTargetQueue", {"QueueId": queue}, "transfer"),
        action("transfer", "TransferContactToQueue", {}, "bye", errors_=[("QueueAtCapacity", "full")]),
        action("full", "MessageParticipant", {"Text": "Full."}, "bye"),
        metadata=metadata,
    )  # fmt: skip
    assert node(result, "set")["config"] == {"vars": {"working_queue": "Billing"}}
    assert node(result, "set")["position"] == {"x": 10, "y": 20}
    route = node(result, "transfer")
    assert route["config"] == {"target": {"queue": "Billing"}}
    assert route["exits"] == {"connected": "end_of_call", "unavailable": "full", "timeout": "full"}
    without_name = convert(
        action("set", "UpdateContactTargetQueue", {"QueueId": queue}, "transfer"),
        action("transfer", "TransferContactToQueue", {}, "bye"),
    )
    assert node(without_name, "transfer")["config"]["target"] == {"queue": "q-42"}


def test_a_lambda_is_an_http_node_whose_url_is_to_fill_in_and_external_reads_its_answer():
    result = convert(
        action("lookup", "InvokeLambdaFunction",
               {"LambdaFunctionARN": "arn:aws:lambda:r:1:function:FindCustomer", "InvocationTimeLimitSeconds": "8",
                "LambdaInvocationAttributes": {"phone": "$.CustomerEndpoint.Address"}}, "hi",
               errors_=[("NoMatchingError", "bye")]),
        action("hi", "MessageParticipant", {"Text": "Hi $.External.name, you called $.SystemEndpoint.Address."}, "bye"),
    )  # fmt: skip
    http = node(result, "lookup")
    assert http["config"] == {
        "url": "https://lambda.invalid/findcustomer", "method": "POST", "timeout": 5,
        "body": {"caller": "{{ caller.number }}", "called": "{{ call.to }}", "phone": "{{ caller.number }}"},
    }  # fmt: skip
    assert http["exits"] == {"success": "hi", "failure": "bye"}
    assert node(result, "hi")["config"]["text"] == (
        "Hi {{ nodes.lookup.response.name }}, you called {{ call.to }}."
    )
    assert any("FindCustomer" in n and "URL" in n for n in notes_of(result, "lookup"))


def test_with_two_lambdas_and_two_stored_inputs_references_read_variables():
    result = convert_connect(load(HERE / "two-lookups.json"), source_name="two-lookups.json")
    assert node(result, "balance")["config"]["save_as"] == "external"
    assert node(result, "account")["config"]["save_as"] == "stored_customer_input"
    assert (
        node(result, "balance")["config"]["body"]["account"] == "{{ vars.stored_customer_input }}"
    )
    assert node(result, "say_balance")["config"]["text"] == (
        "Your balance is {{ vars.external.balance }} {{ vars.external.currency }}."
    )
    assert "$.Queue.Name" in node(result, "say_orders")["config"]["text"]
    assert any("$.Queue.Name" in n for n in notes_of(result, "say_orders"))


def test_attributes_and_contact_data_become_set_nodes():
    result = convert(
        action("attrs", "UpdateContactAttributes",
               {"Attributes": {"tier": "$.External.tier", "bad key": "x", "greeting": "Hello"}}, "data"),
        action("data", "UpdateContactData", {"Name": "Case $.Attributes.tier", "TargetContact": "Current"}, "bye"),
    )  # fmt: skip
    assert node(result, "attrs")["config"] == {
        "vars": {"tier": "{{ vars.external.tier }}", "greeting": "Hello"}
    }
    assert any("'bad key'" in n for n in notes_of(result, "attrs"))
    assert node(result, "data")["config"] == {"vars": {"Name": "Case {{ vars.tier }}"}}


@pytest.mark.parametrize(
    "operator, op, value",
    [
        ("Equals", "eq", "gold"),
        ("TextStartsWith", "starts_with", "go"),
        ("TextEndsWith", "matches", "(?i)ld$"),
        ("TextContains", "contains", "ol"),
        ("NumberGreaterThan", "gt", "5"),
        ("NumberGreaterOrEqualTo", "gte", "5"),
        ("NumberLessThan", "lt", "5"),
        ("NumberLessOrEqualTo", "lte", "5"),
    ],
)
def test_compare_becomes_a_branch_with_each_operator(operator, op, value):
    operand = value if op != "matches" else "ld"
    result = convert(
        action("check", "Compare", {"ComparisonValue": "$.Attributes.tier"}, "bye",
               [(operator, operand, "yes")], [("NoMatchingCondition", "bye")]),
        action("yes", "MessageParticipant", {"Text": "Yes."}, "bye"),
    )  # fmt: skip
    branch = node(result, "check")
    (rule,) = branch["config"]["rules"]
    assert (rule["var"], rule["op"], rule["value"]) == ("vars.tier", op, value)
    assert branch["exits"] == {rule["exit"]: "yes", "else": "bye"}
    assert errors(validate(result.definition)) == []


@pytest.mark.parametrize(
    "type_, params, node_type, config, exits",
    [
        ("InvokeFlowModule", {"FlowModuleId": "arn:aws:connect:r:1:instance/i/flow-module/Auth"},
         "subflow", {"flow": "auth"}, {"return": "bye"}),
        ("TransferToFlow", {"ContactFlowId": "arn:aws:connect:r:1:instance/i/contact-flow/Sales"},
         "subflow", {"flow": "sales"}, {"return": "end_of_call"}),
        ("CreateCallbackContact", {"InitialCallDelaySeconds": "7200", "QueueId": "arn:x/queue/cb"},
         "callback", {"prompt": "Press 1 and we will call you back on the number you are calling from.",
                      "confirm_number": False, "within_hours": 2.0, "target": {"queue": "cb"}},
         {"scheduled": "bye", "declined": "bye"}),
        ("TransferParticipantToThirdParty", {"ThirdPartyPhoneNumber": "+442071838750", "ThirdPartyConnectionTimeLimitSeconds": "20"},
         "route", {"target": {"number": "+442071838750"}, "timeout": 20},
         {"connected": "bye", "unavailable": "end_of_call", "timeout": "end_of_call"}),
        ("UpdateContactRecordingBehavior", {"RecordingBehavior": {"RecordedParticipants": ["Agent", "Customer"]}},
         "record_call", {"action": "start", "channels": "dual"}, {"next": "bye"}),
        ("UpdateContactRecordingBehavior", {"RecordingBehavior": {"RecordedParticipants": []}},
         "record_call", {"action": "stop"}, {"next": "bye"}),
        ("DisconnectParticipant", {}, "hangup", {}, {}),
        ("EndFlowExecution", {}, "hangup", {}, {}),
    ],
)  # fmt: skip
def test_other_actions(type_, params, node_type, config, exits):
    result = convert(action("it", type_, params, "bye" if exits else None))
    assert (node(result, "it")["type"], node(result, "it")["config"]) == (node_type, config)
    assert node(result, "it")["exits"] == exits


@pytest.mark.parametrize(
    "type_, params",
    [
        ("UpdateContactRoutingBehavior", {"QueuePriority": "1"}),
        ("UpdateFlowLoggingBehavior", {"FlowLoggingBehavior": "Enabled"}),
        ("TagContact", {"Tags": {"a": "b"}}),
    ],
)
def test_actions_with_no_effect_here_are_left_out_and_calls_go_past_them(type_, params):
    result = convert(
        action("before", "MessageParticipant", {"Text": "Hi."}, "it"),
        action("it", type_, params, "after"),
        action("after", "MessageParticipant", {"Text": "Then."}, "bye"),
    )
    assert [n["id"] for n in result.definition["nodes"]] == ["before", "after", "bye"]
    assert node(result, "before")["exits"] == {"next": "after"}
    (note,) = [n for n in result.notes if n.source == "it"]
    assert note.kind == "dropped" and note.node is None


def test_a_voice_becomes_the_flows_voice():
    result = convert(
        action("voice", "UpdateContactTextToSpeechVoice", {"TextToSpeechVoice": "Joanna", "TextToSpeechEngine": "Neural"}, "hi"),
        action("hi", "MessageParticipant", {"Text": "Hi."}, "bye"),
    )  # fmt: skip
    assert result.definition["voice"] == "Polly.Joanna-Neural"
    assert result.definition["start"] == "hi"


def test_an_unknown_action_becomes_a_placeholder_keeping_its_branches():
    result = convert(
        action("split", "DistributeByPercentage", {}, "bye", [("NumberLessThan", "21", "a")],
               [("NoMatchingCondition", "bye")]),
        action("a", "MessageParticipant", {"Text": "A."}, "bye"),
    )  # fmt: skip
    split = node(result, "split")
    assert split["type"] == "placeholder"
    assert split["config"]["source"] == "connect"
    assert split["config"]["source_type"] == "DistributeByPercentage"
    assert split["exits"] == {
        "next": "bye",
        "number_less_than_21": "a",
        "no_matching_condition": "bye",
    }
    assert split["config"]["exit_names"] == list(split["exits"])
    report = conversion_report(result.definition, result.notes)
    (line,) = [r for r in report if r.node == "split"]
    assert line.kind == "placeholder" and "at random" in line.message


def test_an_unconnected_branch_ends_the_call_as_connect_does():
    result = convert(
        action("menu", "GetParticipantInput", {"Text": "Press 1."}, None, [("Equals", "1", "bye")]),
    )
    assert node(result, "menu")["exits"]["no_input"] == "end_of_call"
    assert node(result, "end_of_call")["type"] == "hangup"
    assert errors(validate(result.definition, publish=True)) == []


def test_positions_names_and_ids_come_from_the_export():
    result = convert_connect(load(HERE / "support-line.json"), source_name="support-line.json")
    definition = result.definition
    assert (definition["slug"], definition["name"]) == ("support-line", "Support line")
    menu = node(result, "get_customer_input")
    assert menu["label"] == "Get customer input"
    assert menu["position"] == {"x": 880, "y": 40}
    assert all("position" in n for n in definition["nodes"])
    assert definition["fallback"] == {"node": "play_prompt_3"}  # where the error branches lead


# --- every fixture -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PUBLISHABLE, ids=lambda p: p.name)
def test_every_export_converts_to_a_flow_that_can_be_published(path):
    result = convert_connect(load(path), source_name=str(path))
    problems = validate(result.definition, publish=True, flow_lookup=_others(path))
    assert errors(problems) == [], problems
    assert not any(n["type"] == "placeholder" for n in result.definition["nodes"])


def _others(path: Path):
    slugs = {p.stem: convert_connect(load(p), source_name=str(p)).definition for p in PUBLISHABLE}
    return lambda slug: slugs.get(slug)


def test_the_large_export_converts_every_action_and_reference():
    result = convert_connect(
        load(HERE / "acme-contact-centre.json"), source_name="acme-contact-centre.json"
    )
    types = {n["id"]: n["type"] for n in result.definition["nodes"]}
    assert {t for t in types.values()} >= {
        "say", "http", "set", "branch", "menu", "input", "time_of_day", "route", "callback",
        "subflow", "hangup", "record_call",
    }  # fmt: skip
    text = json.dumps(result.definition)
    for reference in ("caller.number", "call.to", "vars.tier", "nodes.lookup.response.tier",
                      "nodes.order_number.value"):  # fmt: skip
        assert "{{ " + reference + " }}" in text or f'"{reference}"' in text, reference
    assert "$." not in json.dumps([n["config"] for n in result.definition["nodes"]])
    module = convert_connect(load(HERE / "verify-caller.json"), source_name="verify-caller.json")
    assert module.definition["subflow"] is True
    assert node(module, "verified")["exits"] == {"next": None}  # the module returns there


def test_the_placeholder_export_converts_to_a_draft_with_every_placeholder():
    result = convert_connect(load(WITH_PLACEHOLDERS), source_name=str(WITH_PLACEHOLDERS))
    assert errors(validate(result.definition)) == []
    placeholders = [n["id"] for n in result.definition["nodes"] if n["type"] == "placeholder"]
    assert placeholders == ["split", "loop", "bot", "staffed", "view"]


# --- broken exports ---------------------------------------------------------------------------

BASE = load(HERE / "support-line.json")
FIRST = BASE["Actions"][0]["Identifier"]


def broken(change) -> dict:
    data = copy.deepcopy(BASE)
    change(data)
    return data


@pytest.mark.parametrize(
    "data, path, message",
    [
        (broken(lambda d: d.pop("StartAction")), "$.StartAction", "no `StartAction`"),
        (broken(lambda d: d.update(StartAction="nowhere")), "$.StartAction", "'nowhere', which is not an action"),
        (broken(lambda d: d.update(Actions=[])), "$.Actions", "no actions"),
        (broken(lambda d: d.update(Actions={"a": 1})), "$.Actions", "no actions"),
        (broken(lambda d: d.update(Version="2024-01-01")), "$.Version", "Unknown flow language version"),
        (broken(lambda d: d["Actions"][2]["Transitions"].update(NextAction="gone")),
         "$.Actions[2].Transitions.NextAction", "leads to 'gone', which is not an action"),
        (broken(lambda d: d["Actions"][3]["Transitions"]["Conditions"][1].update(NextAction="gone")),
         "$.Actions[3].Transitions.Conditions[1].NextAction", "(condition 2) leads to 'gone'"),
        (broken(lambda d: d["Actions"][3]["Transitions"]["Errors"][0].update(NextAction=7)),
         "$.Actions[3].Transitions.Errors[0].NextAction", "must be an action's identifier"),
        (broken(lambda d: d["Actions"][1].update(Parameters=["Text"])), "$.Actions[1].Parameters", "must be an object"),
        (broken(lambda d: d["Actions"][1].update(Transitions="next")), "$.Actions[1].Transitions", "must be an object"),
        (broken(lambda d: d["Actions"][1]["Transitions"].update(Errors={"x": 1})), "$.Actions[1].Transitions.Errors", "must be a list"),
        (broken(lambda d: d["Actions"][1]["Transitions"].update(Conditions=[1])), "$.Actions[1].Transitions.Conditions[0]", "A condition must be"),
        (broken(lambda d: d["Actions"][4].pop("Type")), "$.Actions[4].Type", "no `Type`"),
        (broken(lambda d: d["Actions"][4].update(Identifier=FIRST)), "$.Actions[4].Identifier", "Two actions"),
        (broken(lambda d: d["Actions"].append("action")), "$.Actions[10]", "must be a JSON object"),
        (export(action("hold", "MessageParticipantIteratively", {"Messages": "Please hold"}, "bye")),
         "$.Actions[0].Parameters.Messages", "`Messages` must be a list"),
        ({"ContactFlow": {"Content": "{not json"}}, "$.ContactFlow.Content", "not a JSON flow"),
        ({"ContactFlow": {"Content": "[]"}}, "$.ContactFlow.Content", "must be a flow"),
    ],
)  # fmt: skip
def test_a_broken_export_is_refused_with_its_json_path(data, path, message):
    with pytest.raises(ConnectExportError) as caught:
        convert_connect(data, source_name="broken.json")
    assert caught.value.path == path
    assert message in caught.value.message


# --- the import --------------------------------------------------------------------------------


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_import_flows_publishes_the_exports_prints_the_report_and_a_second_import_changes_nothing():
    out = run("import_flows", str(HERE), "--publish")
    lines = out.splitlines()
    assert (
        f"acme-contact-centre ({HERE / 'acme-contact-centre.json'}): created, published as version 1"
        in lines
    )
    assert "  converted from Amazon Connect; not converted, or converted with changes:" in lines
    assert "    approximated (check them):" in lines
    assert any(
        line.startswith("    - action 'lookup' (InvokeLambdaFunction), node 'lookup': set the URL")
        for line in lines
    )
    assert "    left out (no effect here):" in lines
    assert any(
        line.startswith("  converted as they were (") and "main_menu" in line for line in lines
    )
    assert Flow.objects.get(slug="verify-caller").published_version.number == 1
    before = snapshot()
    again = run("import_flows", str(HERE), "--publish")
    assert (
        f"support-line ({HERE / 'support-line.json'}): unchanged (published version 1)"
        in again.splitlines()
    )
    assert snapshot() == before


@pytest.mark.django_db
def test_a_flow_with_placeholders_imports_as_a_draft_even_with_publish_unless_allowed():
    out = run("import_flows", str(WITH_PLACEHOLDERS))
    assert "    placeholders (replace each before publishing):" in out
    assert (
        "  imported as a draft with 5 placeholder node(s) (split, loop, bot, staffed, view): "
        "replace them, or publish anyway with --publish --allow-placeholders."
    ) in out.splitlines()
    assert Flow.objects.get(slug="queue-experiments").published_version is None
    out = run("import_flows", str(HERE / "support-line.json"), str(WITH_PLACEHOLDERS), "--publish")
    lines = out.splitlines()
    assert f"support-line ({HERE / 'support-line.json'}): created, published as version 1" in lines
    assert f"queue-experiments ({WITH_PLACEHOLDERS}): unchanged" in lines
    assert (
        "  Not published: the flow has placeholder nodes (split, loop, bot, staffed, view): "
        "replace them, or publish anyway with --publish --allow-placeholders."
    ) in lines
    assert Flow.objects.get(slug="queue-experiments").published_version is None
    out = run("import_flows", str(WITH_PLACEHOLDERS), "--publish", "--allow-placeholders")
    assert "published as version 1" in out.splitlines()[0]


@pytest.mark.django_db
def test_a_broken_connect_file_names_the_file_and_the_path_and_changes_nothing(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(broken(lambda d: d["Actions"][2]["Transitions"].update(NextAction="gone")))
    )
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        run("import_flows", str(HERE / "after-hours.json"), str(bad))
    assert (
        f"{bad}: $.Actions[2].Transitions.NextAction: Amazon Connect export that cannot be "
        "converted: Action '1b2c3d4e-0000-4000-8000-000000000003' (NextAction) leads to 'gone'"
    ) in str(refused.value)
    assert snapshot() == before
    assert counts() == (0, 0, 0)


@pytest.mark.django_db
def test_the_api_import_returns_the_report_and_applies_the_placeholder_rule(publisher_api):
    body = {"definitions": [load(WITH_PLACEHOLDERS)], "publish": True}
    held = publisher_api.post("/api/import/", body, format="json")
    assert held.status_code == 200, held.content
    (imported,) = held.json()["flows"]
    assert (imported["held"], imported["published"], imported["published_version"]) == (
        True,
        False,
        None,
    )
    assert imported["converted_from"] == "Amazon Connect"
    assert imported["placeholders"] == ["split", "loop", "bot", "staffed", "view"]
    lines = {line["node"]: line for line in imported["report"] if line["node"]}
    assert lines["loop"]["kind"] == "placeholder" and lines["loop"]["source_type"] == "Loop"
    assert lines["nag"] == {"node": "nag", "source": "nag", "source_type": "MessageParticipant",
                            "kind": "converted", "message": "Converted: became a say node."}  # fmt: skip
    assert Flow.objects.get(slug="queue-experiments").published_version is None
    allowed = publisher_api.post(
        "/api/import/", {**body, "allow_placeholders": True}, format="json"
    )
    assert allowed.status_code == 200 and allowed.json()["flows"][0]["published_version"] == 1
    assert allowed.json()["flows"][0]["held"] is False


@pytest.mark.django_db
def test_publishing_a_draft_with_placeholders_is_refused_unless_allowed(publisher_api):
    flows_import(sources=[ImportSource(WITH_PLACEHOLDERS.name, WITH_PLACEHOLDERS.read_bytes())])
    refused = publisher_api.post("/api/flows/queue-experiments/publish/", {}, format="json")
    assert refused.status_code == 400
    body = refused.json()
    assert "5 placeholder node(s)" in body["detail"]
    assert [p["node"] for p in body["problems"] if "placeholder" in p["message"]] == [
        "split", "loop", "bot", "staffed", "view"
    ]  # fmt: skip
    assert Flow.objects.get(slug="queue-experiments").published_version is None
    allowed = publisher_api.post(
        "/api/flows/queue-experiments/publish/", {"allow_placeholders": True}, format="json"
    )
    assert allowed.status_code == 201, allowed.content


def test_studio_notes_are_still_sentences_and_now_name_their_node():
    studio = {
        "description": "Tiny",
        "states": [
            {"name": "Trigger", "type": "trigger", "transitions": [{"event": "incomingCall", "next": "hi"}]},
            {"name": "hi", "type": "say-play", "properties": {"say": "Hi {{trigger.call.FromCity}}"},
             "transitions": [{"event": "audioComplete", "next": "pay"}]},
            {"name": "pay", "type": "capture-payments", "properties": {}},
        ],
    }  # fmt: skip
    result = convert_studio(studio, source_name="tiny.json")
    kept, held = result.notes
    assert isinstance(kept, str) and kept.startswith("widget 'hi' (say-play): ")
    assert (kept.node, kept.kind, held.node, held.kind) == (
        "hi",
        "approximated",
        "pay",
        "placeholder",
    )
    report = conversion_report(result.definition, result.notes)
    assert [(r.node, r.kind) for r in report] == [("hi", "approximated"), ("pay", "placeholder")]


def test_an_action_that_becomes_several_nodes_places_them_side_by_side():
    metadata = {"ActionMetadata": {"ask": {"position": {"x": 100, "y": 50}}}}
    result = convert(
        action("ask", "GetParticipantInput", {"PromptId": "arn:x/prompt/p1"}, "bye",
               [("NumberGreaterThan", "3", "bye")]),
        metadata=metadata,
    )  # fmt: skip
    placed = [(n["id"], n["type"], n.get("position")) for n in result.definition["nodes"][:3]]
    assert placed == [
        ("ask_prompt", "say", {"x": 100, "y": 50}),
        ("ask", "input", {"x": 340, "y": 50}),
        ("ask_check", "branch", {"x": 580, "y": 50}),
    ]
    assert node(result, "ask_prompt")["exits"] == {"next": "ask"}
