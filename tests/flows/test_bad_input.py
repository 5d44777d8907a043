"""Malformed flow documents and requests, through the API, the import API and import_flows:
each gets a 400 (or a 413, or a failed command) naming what is wrong and where, never a
500, and nothing is written."""

import json
import re
import time
from io import StringIO
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from flows import services
from flows.models import Flow
from flows.spec import graph, jsontext
from tests.flows.db_helpers import counts, snapshot
from tests.flows.spec_helpers import flow, hangup, menu, node, say, simple_flow

pytestmark = pytest.mark.django_db

LIMIT = 2_500_000


@pytest.fixture
def existing(db):
    """A published flow: what a refused request must leave as it is."""
    services.flow_publish(flow=services.flow_create(definition=simple_flow("keep")))
    return snapshot()


def text_of(definition: dict) -> str:
    return json.dumps(definition, indent=2)


def bad_text(case: str) -> str:
    """A flow document's text, made malformed in one way."""
    good = text_of(simple_flow("bad"))
    if case == "nan":
        return good.replace('"slug": "bad"', '"slug": "bad",\n  "description": NaN', 1)
    if case == "infinity":
        return good.replace('"format"', '"position": -Infinity, "format"', 1)
    if case == "lone surrogate":
        return good.replace('"Hello."', '"Hello \\ud800."', 1)
    if case == "nul":
        return good.replace('"Hello."', '"Hello\\u0000."', 1)
    if case == "duplicate key":
        return good.replace('"slug": "bad"', '"slug": "bad",\n  "slug": "other"', 1)
    if case == "duplicate nested key":
        return good.replace('"text": "Hello."', '"text": "Hello.", "text": "Bye."', 1)
    if case == "deep":
        deep = "[" * 1000 + "]" * 1000
        return good.replace('"Hello."', f'"Hello.", "extra": {deep}', 1)
    raise AssertionError(case)


# (case, what the message says, the JSON path of the problem: None when the message gives
# a line and column instead)
BAD_TEXT = [
    ("nan", "NaN at line 4, column 18 is not a JSON number", None),
    ("infinity", "-Infinity at line 2, column 15 is not a JSON number", None),
    ("lone surrogate", "holds a lone surrogate escape (\\ud800)", "$.nodes[0].config.text"),
    ("nul", "holds a NUL character", "$.nodes[0].config.text"),
    ("duplicate key", "The key 'slug' appears more than once in the object", "$"),
    ("duplicate nested key", "The key 'text' appears more than once", "$.nodes[0].config"),
    ("deep", "nested more than 64 levels deep (at line 12, column ", None),
]
BAD_IDS = [case for case, _, _ in BAD_TEXT]


# --- the strict reader ------------------------------------------------------------------


@pytest.mark.parametrize(("case", "message", "path"), BAD_TEXT, ids=BAD_IDS)
def test_the_reader_refuses_what_json_loads_accepts(case, message, path):
    with pytest.raises(jsontext.JSONTextError) as raised:
        jsontext.loads(bad_text(case))
    assert message in raised.value.message
    assert raised.value.path == (path or "$")
    if path:
        assert f" at {path}" in raised.value.message


def test_the_reader_accepts_what_only_looks_suspect():
    text = '{"a": "NaN [[[[ \\\\ud800 \\\\u0000", "b": [1e308, -0.5, 12], "c": "\\ud83d\\ude00"}'
    assert jsontext.loads(text) == {
        "a": "NaN [[[[ \\ud800 \\u0000",
        "b": [1e308, -0.5, 12],
        "c": "\U0001f600",
    }
    assert jsontext.loads("[" * 64 + "]" * 64) is not None


def test_the_reader_stays_linear_on_a_string_that_never_ends():
    started = time.perf_counter()
    with pytest.raises(jsontext.JSONTextError, match="Unterminated string starting at line 1"):
        jsontext.loads('{"a": "' + '\\"' * 1_000_000)
    assert time.perf_counter() - started < 1


def test_the_reader_refuses_numbers_it_cannot_hold_and_text_over_its_limit():
    for text, message in [
        ("[1e400]", "The number 1e400 is too large to be read."),
        ("[" + "9" * 5000 + "]", "has 5000 digits; at most 40 are read"),
    ]:
        with pytest.raises(jsontext.JSONTextError, match=message):
            jsontext.loads(text)
    with pytest.raises(jsontext.JSONTooLarge, match="11 bytes; the limit is 10 bytes"):
        jsontext.loads(b'["abcdefg"]', max_bytes=10)


# --- the flows API ------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "message", "path"), BAD_TEXT, ids=BAD_IDS)
def test_api_refuses_malformed_json_with_a_400_naming_where(
    editor_api, existing, case, message, path
):
    body = '{"definition": ' + bad_text(case) + "}"
    response = editor_api.post("/api/flows/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert detail.startswith("JSON parse error: ") and message in detail
    if path:  # inside the body, the document is at $.definition
        assert f" at {path.replace('$', '$.definition', 1)}" in detail
    assert snapshot() == existing


def test_api_draft_save_refuses_a_duplicate_key(editor_api, existing):
    flow_row = Flow.objects.get(slug="keep")
    text = text_of(flow_row.definition).replace('"name":', '"name": "Twice", "name":', 1)
    body = f'{{"revision": {flow_row.revision}, "definition": {text}}}'
    response = editor_api.put("/api/flows/keep/", body, content_type="application/json")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "The key 'name' appears more than once in the object at $.definition" in detail
    assert snapshot() == existing


MALFORMED = [
    ("exits is an array", {"exits": ["bye"]}, "$.nodes[0].exits", "Expected an object"),
    ("exits is a string", {"exits": "bye"}, "$.nodes[0].exits", "Expected an object"),
    ("config is an array", {"config": ["x"]}, "$.nodes[0].config", "Expected an object"),
    ("type is an array", {"type": ["say"]}, "$.nodes[0].type", "Expected a string"),
]


@pytest.mark.parametrize(
    ("case", "change", "path", "message"), MALFORMED, ids=[c[0] for c in MALFORMED]
)
def test_a_malformed_node_gets_its_schema_error_not_a_500(
    editor_api, existing, case, change, path, message
):
    definition = simple_flow("bad")
    definition["nodes"][0].update(change)
    for url in ("/api/flows/", "/api/flows/keep/validate/?publish=1"):
        response = editor_api.post(url, {"definition": definition}, format="json")
        problems = response.json()["problems"]
        assert any(p["path"] == path and message in p["message"] for p in problems), problems
    assert snapshot() == existing


@pytest.mark.parametrize("nodes", [5, True, "nodes", {"greeting": {}}], ids=repr)
def test_nodes_that_are_not_a_list_get_a_schema_error(editor_api, existing, nodes):
    definition = {**simple_flow("bad"), "nodes": nodes}
    response = editor_api.post("/api/flows/", {"definition": definition}, format="json")
    assert response.status_code == 400, response.content[:300]
    problems = response.json()["problems"]
    assert any(p["path"] == "$.nodes" and "Expected an array" in p["message"] for p in problems)
    response = editor_api.post(
        "/api/flows/keep/validate/?publish=1", {"definition": definition}, format="json"
    )
    assert response.status_code == 200 and response.json()["valid"] is False
    assert snapshot() == existing


def test_the_graph_functions_take_any_json_without_raising():
    for nodes in [5, None, "abc", {"a": 1}, [1, "x", None, {"id": 3}, {"id": "a", "exits": 7}]]:
        definition = {"start": "a", "nodes": nodes}
        built = graph.build_graph(definition)
        assert graph.endless_loops(built) == []
        assert graph.dangling_exits(definition) == []
        assert graph.subflows(definition) == []
        graph.unreachable(definition, built)
        graph.longest_run(built)


def test_a_body_over_the_limit_is_a_413_naming_it(editor_api, existing):
    body = '{"definition": ' + text_of(simple_flow("big")) + " " * LIMIT + "}"
    response = editor_api.post("/api/flows/", body, content_type="application/json")
    assert response.status_code == 413, response.content[:300]
    assert response.json()["limit"] == LIMIT
    assert "larger than the limit of 2,500,000 bytes" in response.json()["detail"]
    assert snapshot() == existing


def test_an_import_upload_over_the_limit_is_a_413(publisher_api, existing):
    big = text_of(simple_flow("big")) + " " * LIMIT
    upload = SimpleUploadedFile("big.json", big.encode(), content_type="application/json")
    response = publisher_api.post("/api/import/", {"files": [upload]}, format="multipart")
    assert response.status_code == 413, response.content[:300]
    assert response.json()["limit"] == LIMIT
    assert snapshot() == existing


@pytest.mark.parametrize(("case", "message", "path"), BAD_TEXT, ids=BAD_IDS)
def test_import_api_uploads_are_read_strictly(publisher_api, existing, case, message, path):
    upload = SimpleUploadedFile("bad.json", bad_text(case).encode(), "application/json")
    response = publisher_api.post("/api/import/", {"files": [upload]}, format="multipart")
    assert response.status_code == 400, response.content[:300]
    (error,) = response.json()["errors"]
    assert error["file"] == "bad.json" and error["path"] == (path or "$")
    assert message in error["message"]
    assert snapshot() == existing


@pytest.mark.parametrize(
    "url",
    [
        "/api/flows/?search=%00",
        "/api/flows/?search=a%1Fb",
        "/api/calls/?flow=%00",
        "/api/calls/?status=%00&simulated=1",
        "/api/flows/keep/stats/?since=%00",
        "/api/flows/keep/diff/?from=%00",
        "/api/flows/%00/",
    ],
)
def test_control_characters_in_the_url_are_a_400_naming_the_parameter(viewer_api, existing, url):
    response = viewer_api.get(url)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    name = url.split("?")[1].split("=")[0] if "?" in url else "path"
    assert list(body["fields"]) == [name]
    assert "control character" in body["detail"]


def test_designer_search_with_a_nul_is_a_400(client, viewer, existing):
    client.force_login(viewer)
    response = client.get("/designer/?q=" + quote("\x00"))
    assert response.status_code == 400
    assert b"control character" in response.content


# --- import_flows -----------------------------------------------------------------------


def import_files(*paths, publish=False):
    args = ["import_flows", *map(str, paths)] + (["--publish"] if publish else [])
    call_command(*args, stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize(("case", "message", "path"), BAD_TEXT, ids=BAD_IDS)
def test_import_flows_reads_files_strictly(tmp_path, existing, case, message, path):
    bad = tmp_path / "bad.json"
    bad.write_text(bad_text(case))
    with pytest.raises(CommandError) as raised:
        import_files(bad)
    assert f"{bad}: {path or '$'}: " in str(raised.value)
    assert message in str(raised.value)
    assert snapshot() == existing


def test_import_flows_refuses_a_file_over_the_limit_unread(tmp_path, existing):
    big = tmp_path / "big.json"
    big.write_text(text_of(simple_flow("big")) + " " * LIMIT)
    with pytest.raises(CommandError) as raised:
        import_files(big)
    assert str(raised.value) == (
        f"{big}: The document is {big.stat().st_size:,} bytes; the limit is 2,500,000 bytes "
        "(DATA_UPLOAD_MAX_MEMORY_SIZE)."
    )
    assert snapshot() == existing


@pytest.mark.parametrize(
    ("case", "change", "path", "message"), MALFORMED, ids=[c[0] for c in MALFORMED]
)
def test_import_flows_reports_a_malformed_node(tmp_path, existing, case, change, path, message):
    definition = simple_flow("bad")
    definition["nodes"][0].update(change)
    bad = tmp_path / "bad.json"
    bad.write_text(text_of(definition))
    with pytest.raises(CommandError, match=f"{re.escape(path)} .*: {message}"):
        import_files(bad)
    assert snapshot() == existing


# --- publish: what every call would then fail on -------------------------------------------


def chain(length: int, *, after_menu: bool = False, **top) -> dict:
    """`length` say nodes in a row, then a hang-up (behind a menu with `after_menu`)."""
    says = [say(f"s{i}", f"s{i + 1}" if i + 1 < length else "bye") for i in range(length)]
    if after_menu:
        first = [menu("m", {"1": "s0"}, no_input="bye", no_match="bye")]
        return flow(*first, *says, hangup(), **top)
    return flow(*says, hangup(), **top)


def publish_new(client, definition) -> object:
    created = client.post("/api/flows/", {"definition": definition}, format="json")
    assert created.status_code == 201, created.content[:500]
    return client.post(f"/api/flows/{definition['slug']}/publish/", {}, format="json")


def test_the_run_limit_is_the_engines():
    from ivr_runtime import engine

    assert graph.MAX_RUN_WITHOUT_WAITING == engine.MAX_VISITS == 100


@pytest.mark.parametrize(
    ("length", "after_menu", "published"),
    [(100, False, True), (101, False, False), (99, True, True), (100, True, False)],
)
def test_publish_refuses_a_chain_longer_than_a_turn_runs(
    publisher_api, length, after_menu, published
):
    definition = chain(length, after_menu=after_menu, slug="long")
    response = publish_new(publisher_api, definition)
    if published:
        assert response.status_code == 201, response.content[:500]
        return
    assert response.status_code == 400
    (problem,) = response.json()["problems"]
    # where the engine gives up: the 101st node the turn runs
    stop = "s99" if after_menu else "s100"
    assert problem["node"] == stop and problem["severity"] == "error"
    assert f"{length + after_menu} nodes run one after another" in problem["message"]
    assert f"it would stop at {stop!r}" in problem["message"]
    assert Flow.objects.get(slug="long").published_version is None


def test_a_long_chain_is_only_a_warning_on_the_draft(editor_api):
    response = editor_api.post(
        "/api/flows/", {"definition": chain(101, slug="long")}, format="json"
    )
    assert response.status_code == 201
    (problem,) = response.json()["problems"]
    assert problem["severity"] == "warning" and problem["node"] == "s100"


def test_a_loop_beside_a_waiting_node_is_still_endless(editor_api, existing):
    # a <-> b never waits, although the tangle a, b, m holds a menu
    definition = flow(
        say("a", "b"),
        node("b", "branch", {"rules": [{"exit": "ask", "var": "vars.x", "op": "empty"}]}),
        menu("m", {"1": "a"}, no_input="a", no_match="a"),
        slug="tangle",
    )
    definition["nodes"][1]["exits"] = {"ask": "m", "else": "a"}
    response = editor_api.post("/api/flows/", {"definition": definition}, format="json")
    assert response.status_code == 400
    (problem,) = response.json()["problems"]
    assert problem["message"].startswith("Endless loop: a -> b lead back to one another")
    assert snapshot() == existing


# --- sub-flows return through unconnected exits --------------------------------------------


def returning(slug="identify", **top):
    """A sub-flow that returns through unconnected exits and has no fallback."""
    return flow(
        node("ask", "authenticate", {"method": "pin"}, success="thanks", failure=None),
        say("thanks", None, "Thank you."),
        slug=slug,
        **top,
    )


def test_a_flow_meant_as_a_sub_flow_publishes_with_unconnected_exits(publisher_api):
    response = publish_new(publisher_api, returning(subflow=True))
    assert response.status_code == 201, response.content[:500]


def test_other_flows_still_need_their_exits_connected_or_a_fallback(publisher_api):
    response = publish_new(publisher_api, returning())
    assert response.status_code == 400
    paths = sorted(p["path"] for p in response.json()["problems"])
    assert paths == ["$.nodes[0].exits.failure", "$.nodes[1].exits.next"]


def test_subflow_must_be_a_boolean(editor_api):
    response = editor_api.post(
        "/api/flows/", {"definition": returning(subflow="yes")}, format="json"
    )
    assert response.status_code == 400
    (problem,) = [p for p in response.json()["problems"] if p["path"] == "$.subflow"]
    assert problem["message"] == "Expected a boolean, found a string."


def test_import_flows_publishes_a_sub_flow_and_its_caller_together(tmp_path):
    parent = flow(
        node("who", "subflow", {"flow": "identify"}, **{"return": "bye"}),
        hangup(),
        slug="main",
    )
    (tmp_path / "identify.json").write_text(text_of(returning(subflow=True)))
    (tmp_path / "main.json").write_text(text_of(parent))
    before = counts()
    import_files(tmp_path, publish=True)
    assert counts() == (before[0] + 2, before[1] + 2, before[2])
