"""System checks of the deployment (`manage.py check --deploy`) and of settings that would
only fail later, on a live call."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connection


@register(Tags.security)
def check_allowed_networks(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """HTTP_NODE_ALLOWED_NETWORKS must be CIDRs: a typo would otherwise open nothing and
    be found only when a call's HTTP request is refused."""
    problems = []
    for network in settings.HTTP_NODE_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            problems.append(
                Error(
                    f"HTTP_NODE_ALLOWED_NETWORKS: {network!r} is not a network "
                    "(write CIDRs such as 10.20.0.0/16 or 192.0.2.7/32, comma-separated).",
                    id="callflow.E002",
                )
            )
    return problems


@register(Tags.security, deploy=True)
def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    if not settings.TWILIO_AUTH_TOKEN:
        problems.append(
            Error(
                "TWILIO_AUTH_TOKEN is not set: every webhook will be refused (403).",
                hint="Set it to the auth token of the Twilio account that owns the numbers.",
                id="callflow.E001",
            )
        )
    if not settings.PUBLIC_BASE_URL.startswith("https://"):
        problems.append(
            Warning(
                "PUBLIC_BASE_URL is not an https origin: Twilio should call the webhooks over "
                "https, and behind a proxy the signatures are checked against this origin.",
                hint="Set PUBLIC_BASE_URL=https://your-host (the origin Twilio calls).",
                id="callflow.W001",
            )
        )
    if connection.vendor != "postgresql":
        problems.append(
            Warning(
                "The database is not PostgreSQL: the embedded SQLite serves one machine only.",
                hint="Set DATABASE_URL=postgresql://...",
                id="callflow.W002",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        problems.append(
            Warning(
                "CELERY_BROKER_URL is the embedded filesystem broker: workers on other machines "
                "cannot reach it.",
                hint="Set CELERY_BROKER_URL=redis://...",
                id="callflow.W003",
            )
        )
    if not settings.TWILIO_REST_ENABLED:
        problems.append(
            Warning(
                "TWILIO_ACCOUNT_SID is not set: texts, callbacks and outbound calls are kept "
                "and never sent.",
                id="callflow.W004",
            )
        )
    return problems
