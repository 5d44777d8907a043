"""Phone numbers, node types, the format schema, token authentication and the OpenAPI schema."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from flows import nodes, services
from flows.models import PhoneNumber
from flows.spec import format_schema

from .test_api_roles import acme_definition


@pytest.fixture
def flows(db):
    return [services.flow_create(definition=acme_definition(slug)) for slug in ("acme", "sales")]


# --- phone numbers -------------------------------------------------------------------------


def bind(client, number, flow="acme", **extra):
    return client.post("/api/numbers/", {"number": number, "flow": flow, **extra}, format="json")


def test_bind_list_move_and_unbind(flows, publisher_api, viewer_api):
    response = bind(publisher_api, "+442071838750", label="Front desk")
    assert response.status_code == 201
    created = response.json()
    assert {k: created[k] for k in ("number", "flow", "label")} == {
        "number": "+442071838750",
        "flow": "acme",
        "label": "Front desk",
    }
    assert viewer_api.get("/api/flows/acme/").json()["numbers"] == ["+442071838750"]

    moved = bind(publisher_api, "+442071838750", flow="sales")
    assert moved.status_code == 201
    assert (moved.json()["flow"], moved.json()["label"]) == ("sales", "Front desk")
    listed = viewer_api.get("/api/numbers/").json()
    assert [(n["number"], n["flow"]) for n in listed] == [("+442071838750", "sales")]

    assert publisher_api.delete("/api/numbers/+442071838750/").status_code == 204
    assert not PhoneNumber.objects.exists()
    gone = publisher_api.delete("/api/numbers/+442071838750/")
    assert gone.status_code == 404 and gone.json()["detail"]


@pytest.mark.parametrize(
    "number", ["020 7183 8750", "+44207183875", "+4420718387501234", "call me", ""]
)
def test_bad_e164_is_400_naming_the_number(flows, publisher_api, number):
    response = bind(publisher_api, number)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("number: ")
    assert "number" in body["fields"]
    assert not PhoneNumber.objects.exists()


def test_binding_to_an_unknown_flow_is_400_naming_the_flow(flows, publisher_api):
    response = bind(publisher_api, "+442071838750", flow="nope")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("flow: ")


def test_number_url_accepts_the_encoded_plus(flows, publisher_api):
    bind(publisher_api, "+442071838750")
    assert publisher_api.delete("/api/numbers/%2B442071838750/").status_code == 204


# --- node types and the format -------------------------------------------------------------


def test_node_types_list_every_registered_type(viewer_api):
    listed = viewer_api.get("/api/node-types/").json()
    assert [t["type"] for t in listed] == list(nodes.all_types())
    assert len(listed) >= 14
    menu = next(t for t in listed if t["type"] == "menu")
    assert set(menu) == {
        "type", "title", "description", "config_schema", "fixed_exits", "optional_exits",
        "exits_from", "dynamic_exits", "waits_for_input", "terminal", "style", "summary",
        "example", "new_config",
    }  # fmt: skip
    assert menu["dynamic_exits"] is True and menu["waits_for_input"] is True
    assert menu["style"] == {"color": "#7a4fa3", "icon": "#"}
    assert menu["summary"] == ["{#options} options \u00b7 {input|dtmf} \u00b7 {prompt:40|}"]
    # the rule the designer follows to name a node's exits, for every type
    rules = {t["type"]: t["exits_from"] for t in listed if t["exits_from"]}
    assert rules == {
        "menu": {"field": "options", "key": "key"},
        "branch": {"field": "rules", "key": "exit"},
        "placeholder": {"field": "exit_names", "key": None},
    }
    assert "options" in menu["config_schema"]["properties"]


def test_one_node_type_and_an_unknown_one(viewer_api):
    say = viewer_api.get("/api/node-types/say/").json()
    assert say == nodes.get("say").describe()
    missing = viewer_api.get("/api/node-types/teleport/")
    assert missing.status_code == 404 and "teleport" in missing.json()["detail"]


def test_format_schema(viewer_api):
    schema = viewer_api.get("/api/format/").json()
    assert schema == format_schema()
    assert "nodes" in schema["properties"]


# --- authentication ------------------------------------------------------------------------


def test_token_authentication(flows, viewer):
    token = Token.objects.create(user=viewer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/flows/").status_code == 200
    assert client.get("/api/me/").json()["username"] == "vera"
    assert client.post("/api/numbers/", {}, format="json").status_code == 403

    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    refused = client.get("/api/flows/")
    assert refused.status_code in (401, 403)
    assert refused.json()["detail"] == "Invalid token."


def test_session_authentication(flows, editor):
    client = APIClient()
    assert client.get("/api/flows/").status_code in (401, 403)
    login = client.post("/accounts/login/", {"username": "eddie", "password": "pw-eddie"})
    assert login.status_code == 302
    assert client.get("/api/flows/").status_code == 200


def test_anonymous_gets_json_not_a_login_page(flows):
    response = APIClient().get("/api/flows/acme/")
    assert response.status_code in (401, 403)
    assert response.json()["detail"]


# --- OpenAPI schema ------------------------------------------------------------------------

OUR_PATHS = [
    "/api/flows/", "/api/flows/{slug}/", "/api/flows/{slug}/validate/",
    "/api/flows/{slug}/publish/", "/api/flows/{slug}/versions/",
    "/api/flows/{slug}/versions/{number}/", "/api/flows/{slug}/rollback/",
    "/api/flows/{slug}/diff/", "/api/flows/{slug}/export/", "/api/import/",
    "/api/node-types/", "/api/node-types/{type}/", "/api/format/", "/api/numbers/",
    "/api/numbers/{number}/", "/api/me/",
]  # fmt: skip


def test_openapi_schema_has_our_paths_without_warnings(viewer_api):
    GENERATOR_STATS.reset()
    response = viewer_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert set(OUR_PATHS) <= set(schema["paths"])
    assert set(schema["paths"]["/api/flows/{slug}/"]) == {"get", "put", "delete"}
    ours = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "flows/api.py" in message or "flows/serializers.py" in message
        or any(name in message for name in ("FlowViewSet", "ImportView", "NodeTypeViewSet",
                                            "FormatView", "NumberViewSet", "MeView"))
    ]  # fmt: skip
    assert ours == []


@pytest.mark.parametrize(
    "url",
    ["/api/flows/", "/api/flows/acme/", "/api/flows/acme/versions/", "/api/numbers/",
     "/api/node-types/", "/api/me/", "/api/import/"],
)  # fmt: skip
def test_browsable_api_pages_render(flows, publisher, url):
    client = APIClient()
    client.force_login(publisher)
    response = client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code in (200, 405)
    assert response["Content-Type"].startswith("text/html")
