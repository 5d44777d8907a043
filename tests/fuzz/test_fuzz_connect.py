"""Amazon Connect exports with values replaced, removed or added anywhere: the converter
converts them or refuses them with a JSON path, the import never raises a traceback, and a
refused file changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from flows.imports import ImportFailed, ImportSource, flows_import
from flows.spec import validate
from flows.spec.connect import ConnectExportError, convert_connect
from tests.flows.db_helpers import snapshot

from .conftest import FLOW_EXAMPLES
from .mutations import json_values, mutated

CONNECT = Path(__file__).parents[1] / "flows" / "connect"
EXPORTS = [
    json.loads(p.read_text())
    for p in [*sorted(CONNECT.glob("*.json")), *sorted(CONNECT.glob("*/*.json"))]
    if "ContactFlow" not in p.read_text()[:40]
]
#: values a Connect export holds, so that mutations reach the action converters
connect_values = st.one_of(
    json_values,
    st.sampled_from([
        "Equals", "NumberGreaterThan", "TextEndsWith", "True", "False", "$.Attributes.x",
        "$.External.a.b", "$.StoredCustomerInput", "$.Lex.IntentName", "1", "#", "",
        "GetParticipantInput", "Compare", "TransferContactToQueue", "Loop", "NoMatchingError",
        "arn:aws:connect:r:1:instance/i/queue/q", "<speak>x</speak>", "+442071838750",
    ]),
)  # fmt: skip


@st.composite
def exports(draw) -> dict:
    keys = st.sampled_from(["Text", "SSML", "PromptId", "StoreInput", "LexV2Bot", "x"])
    document = mutated(draw, draw(st.sampled_from(EXPORTS)), values=connect_values, keys=keys)
    return document


FUZZ = hsettings(
    max_examples=FLOW_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=exports())
def test_the_converter_converts_or_names_the_path(data):
    try:
        result = convert_connect(data, source_name="fuzz.json")
    except ConnectExportError as exc:
        assert exc.message and exc.path.startswith("$"), exc
        return
    validate(result.definition)  # problems are fine; an exception is not


@pytest.mark.django_db
@FUZZ
@given(data=exports())
def test_the_import_reports_or_refuses_without_a_traceback(tracebacks, data):
    tracebacks.records.clear()
    before = snapshot()
    try:
        flows_import(sources=[ImportSource("fuzz.json", json.dumps(data))], publish=True)
    except ImportFailed as exc:
        assert all(e.message and e.path.startswith("$") for e in exc.errors), exc.errors
        assert snapshot() == before
    assert not tracebacks.records, tracebacks.describe()


PARAMETER_KEYS = [
    "Text", "SSML", "PromptId", "Media", "Messages", "StoreInput", "InputTimeLimitSeconds",
    "InputValidation", "DTMFConfiguration", "InputEncryption", "LexV2Bot", "LexBot",
    "HoursOfOperationId", "QueueId", "AgentId", "LambdaFunctionARN", "InvocationTimeLimitSeconds",
    "LambdaInvocationAttributes", "InvocationType", "Attributes", "FlowAttributes",
    "TargetContact", "ComparisonValue", "FlowModuleId", "ContactFlowId",
    "InitialCallDelaySeconds", "ThirdPartyPhoneNumber", "ThirdPartyConnectionTimeLimitSeconds",
    "ContinueFlowExecution", "TextToSpeechVoice", "TextToSpeechEngine", "MaxDigits", "Name",
]  # fmt: skip
ACTION_TYPES = sorted(
    {"MessageParticipant", "MessageParticipantIteratively", "GetParticipantInput",
     "ConnectParticipantWithLexBot", "CheckHoursOfOperation", "UpdateContactTargetQueue",
     "TransferContactToQueue", "TransferParticipantToThirdParty", "InvokeLambdaFunction",
     "UpdateContactAttributes", "UpdateFlowAttributes", "UpdateContactData", "Compare",
     "InvokeFlowModule", "CreateCallbackContact", "DisconnectParticipant", "TransferToFlow",
     "UpdateContactTextToSpeechVoice", "EndFlowModuleExecution", "Loop", "SomethingNew"}
)  # fmt: skip
OPERATORS = [
    "Equals",
    "TextStartsWith",
    "TextEndsWith",
    "TextContains",
    "NumberLessThan",
    "Odd",
    "",
]


@st.composite
def one_action_exports(draw) -> dict:
    """An action of each type with parameters drawn from the ones the converters read."""
    params = draw(
        st.dictionaries(st.sampled_from(PARAMETER_KEYS), connect_values, min_size=2, max_size=12)
    )
    conditions = draw(st.lists(st.tuples(st.sampled_from(OPERATORS), connect_values), max_size=3))
    errors = draw(
        st.lists(
            st.sampled_from(
                [
                    "NoMatchingError",
                    "NoMatchingCondition",
                    "InputTimeLimitExceeded",
                    "QueueAtCapacity",
                ]
            ),
            max_size=3,
        )
    )
    first = {
        "Identifier": draw(st.sampled_from(["first", "0d8e5a2c-1111-4222-8333-444444444444", "é ü"])),
        "Type": draw(st.sampled_from(ACTION_TYPES)),
        "Parameters": params,
        "Transitions": {
            "NextAction": "end",
            "Conditions": [{"NextAction": "end", "Condition": {"Operator": o, "Operands": [v] if not isinstance(v, list) else v}} for o, v in conditions],
            "Errors": [{"NextAction": draw(st.sampled_from(["end", ""])), "ErrorType": e} for e in errors],
        },
    }  # fmt: skip
    end = {
        "Identifier": "end",
        "Type": "DisconnectParticipant",
        "Parameters": {},
        "Transitions": {},
    }
    return {"Version": "2019-10-30", "StartAction": first["Identifier"], "Actions": [first, end]}


@FUZZ
@given(data=one_action_exports())
def test_every_action_converter_takes_any_parameters(data):
    test_the_converter_converts_or_names_the_path.hypothesis.inner_test(data)


WRONG = [5, -1, 2.5, True, None, "", "x", [], [1, "a"], {}, {"Text": 5}, {"a": {"b": []}}]


def test_every_parameter_of_every_action_may_have_any_type():
    """Exhaustive where the fuzz is random: each key each converter reads, with a value of
    each JSON type, alone and next to a valid prompt."""
    failures = []
    for type_ in ACTION_TYPES:
        for key in PARAMETER_KEYS:
            for value in WRONG:
                for base in ({}, {"Text": "Hello."}):
                    data = one_action(type_, {**base, key: value})
                    try:
                        test_the_converter_converts_or_names_the_path.hypothesis.inner_test(data)
                    except Exception as exc:  # noqa: BLE001 - collected, reported below
                        failures.append(f"{type_} {key}={value!r}: {exc!r}")
    assert not failures, "\n".join(failures[:20])


def one_action(type_: str, params: dict) -> dict:
    first = {"Identifier": "first", "Type": type_, "Parameters": params,
             "Transitions": {"NextAction": "end", "Conditions": [
                 {"NextAction": "end", "Condition": {"Operator": "Equals", "Operands": ["1"]}}]}}  # fmt: skip
    end = {"Identifier": "end", "Type": "DisconnectParticipant"}
    return {"Version": "2019-10-30", "StartAction": "first", "Actions": [first, end]}
