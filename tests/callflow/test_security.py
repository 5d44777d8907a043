"""Fail closed: the start-up refusals, the deployment checks, webhooks on an empty token,
the proxy header, login lockout, and the API schema behind a login."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.checks import run_checks
from rest_framework.test import APIClient

from flows.models import Flow
from ivr_runtime.models import CallSession
from tests.ivr_runtime.conftest import flow_definition, publish
from tests.ivr_runtime.twilio_driver import Signer

REPO = Path(__file__).resolve().parents[2]

#: the production environment the README documents
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "callflow.example.com",
    "SECURE_PROXY": "1",
    "PUBLIC_BASE_URL": "https://callflow.example.com",
    "DATABASE_URL": "postgresql://callflow@db.example.com:5432/callflow",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION and not k.startswith(("DJANGO_", "TWILIO_", "CELERY_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**clean, "DJANGO_SETTINGS_MODULE": "callflow.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TWILIO_AUTH_TOKEN"])
def test_the_service_refuses_to_start_without_its_secrets(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    done = manage("check", env=env)
    assert done.returncode != 0
    assert f"callflow: {missing} is not set. Callflow refuses to start without it" in done.stderr
    assert "Traceback" not in done.stderr
    blank = manage("check", env={**env, missing: "  "})
    assert blank.returncode != 0 and f"{missing} is not set" in blank.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment():
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_names_what_an_embedded_set_up_lacks_for_production():
    env = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "TWILIO_AUTH_TOKEN": "t"}
    done = manage("check", "--deploy", env=env)
    for code in ("callflow.W001", "callflow.W002", "callflow.W003", "callflow.W004"):
        assert code in done.stderr, done.stderr
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in done.stderr  # no SECURE_PROXY: no HSTS, no secure cookies


def test_a_bad_allowed_network_is_a_check_error(settings):
    settings.HTTP_NODE_ALLOWED_NETWORKS = ["10.0.0.0/8", "10.0.0.300/32"]
    errors = [e for e in run_checks() if e.id == "callflow.E002"]
    assert len(errors) == 1 and "'10.0.0.300/32' is not a network" in errors[0].msg


def test_forwarded_proto_is_trusted_only_behind_a_declared_proxy():
    code = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    for proxy, expected in (("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")):
        done = manage("shell", "-c", code, env={**PRODUCTION, "SECURE_PROXY": proxy})
        assert done.stdout.strip().splitlines()[-1] == expected, done.stderr


@pytest.mark.django_db
def test_without_a_declared_proxy_a_claimed_https_does_not_pass_the_signature(client, settings):
    settings.TWILIO_AUTH_TOKEN = "a-real-token"
    publish(
        flow_definition("sec", [{"id": "bye", "type": "hangup", "config": {}}]), "+442079460001"
    )
    params = {"CallSid": "CA" + "1" * 32, "From": "+447700900123", "To": "+442079460001"}
    signer = Signer(client, token="a-real-token")
    https = signer.signature("https://testserver/ivr/voice", params)
    answer = signer.post("/ivr/voice", params, signature=https)
    assert answer.status_code == 403


@pytest.mark.django_db
def test_a_webhook_signed_with_the_empty_key_is_refused_when_no_token_is_set(client, settings):
    publish(
        flow_definition("sec", [{"id": "bye", "type": "hangup", "config": {}}]), "+442079460001"
    )
    settings.TWILIO_AUTH_TOKEN = ""
    params = {"CallSid": "CA" + "2" * 32, "From": "+447700900123", "To": "+442079460001"}
    answer = Signer(client, token="").post("/ivr/voice", params)
    assert answer.status_code == 403
    assert not CallSession.objects.exists()


# --- logins ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_login_out(client, settings):
    User.objects.create_user("pia", password="the-right-password")
    answers = [
        client.post("/accounts/login/", {"username": "pia", "password": f"guess-{n}"}).status_code
        for n in range(settings.AXES_FAILURE_LIMIT + 3)
    ]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(answers[limit:]) == {429}
    right = client.post("/accounts/login/", {"username": "pia", "password": "the-right-password"})
    assert right.status_code == 429 and b"Too many failed logins" in right.content
    assert "_auth_user_id" not in client.session
    # another account from the same address is not locked by pia's failures
    User.objects.create_user("eddie", password="eddies-password")
    other = client.post("/accounts/login/", {"username": "eddie", "password": "eddies-password"})
    assert other.status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_locked_out_too(client, settings):
    User.objects.create_superuser("root", "root@example.com", "root-password")
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "root", "password": f"x{n}"})
    answer = client.post("/admin/login/", {"username": "root", "password": "root-password"})
    assert answer.status_code == 429


# --- the API's schema and docs -------------------------------------------------------------
@pytest.mark.django_db
def test_schema_and_docs_need_a_login_and_docs_come_from_our_own_static_files(
    viewer_api, client, viewer
):
    assert APIClient().get("/api/schema/").status_code in (401, 403)
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    assert viewer_api.get("/api/schema/").status_code == 200
    client.force_login(viewer)
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert Flow.objects.count() == 0
