"""The call history with many calls: how long the API's first pages take.

`DATABASE_URL=postgresql://... python -m benchmarks history` migrates that database, seeds
it (once) with BENCH_HISTORY_CALLS calls (default 100,000) spread over a year, numbers and
customers, then times each request (the median of a few, through Django's test client as a
viewer): the first page unfiltered, filtered by outcome, by flow and version, searched by a
national number and by a customer's name, the next page, a call in detail, a timeline, and
a filtered CSV export. It refuses SQLite: the figure that matters is PostgreSQL's.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import timedelta

BY_NAME_ONLY = True
CALLS = int(os.environ.get("BENCH_HISTORY_CALLS", "100000"))
REPEAT = 5
BATCH = 5000


def main() -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print("needs DATABASE_URL=postgresql://...: SKIP")
        return
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    _seed()
    client = _viewer_client()
    sample = _sample()
    for label, url in [
        ("first page, no filter", "/api/calls/"),
        ("outcome=abandoned", "/api/calls/?outcome=abandoned"),
        ("flow + version", f"/api/calls/?flow=bench-history&version={sample['version']}"),
        ("search a national number", f"/api/calls/?search={sample['national']}"),
        ("search a customer's name", f"/api/calls/?search={sample['name']}"),
        ("since last week", f"/api/calls/?since={sample['week']}"),
        ("the next page", None),
        ("a call in detail", f"/api/calls/{sample['sid']}/"),
        ("a number's timeline", f"/api/timeline/?number={sample['e164']}"),
        (
            "CSV of one outcome in a week",
            f"/api/calls/export.csv?outcome=routed&since={sample['week']}",
        ),
    ]:
        if url is None:
            url = client.get("/api/calls/").json()["next"]
        took = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            response = client.get(url)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            took.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code, body[:200])
        print(f"{label:32} {statistics.median(took):7.1f} ms  ({len(body):,} bytes)")


def _viewer_client():
    from django.contrib.auth.models import Group, Permission, User
    from django.test import Client

    from flows.roles import VIEWER, sync_roles

    roles = sync_roles(Group, Permission)
    user, _ = User.objects.get_or_create(username="bench-viewer")
    user.groups.add(roles[VIEWER])
    client = Client()
    client.force_login(user)
    return client


def _seed() -> None:
    from django.utils import timezone

    from flows.models import Flow, FlowVersion
    from ivr_runtime.models import CallSession, Customer

    flow, _ = Flow.objects.get_or_create(
        slug="bench-history", defaults={"name": "Bench history", "definition": {}}
    )
    have = CallSession.objects.filter(flow=flow).count()
    if have >= CALLS:
        return
    versions = [
        FlowVersion.objects.get_or_create(flow=flow, number=n, defaults={"definition": {}})[0]
        for n in (1, 2, 3)
    ]
    customers = [
        Customer.objects.get_or_create(
            account_number=f"B{n:06d}",
            defaults={"name": f"Bench Customer {n}", "phone": f"+4477009{n:05d}"},
        )[0]
        for n in range(2000)
    ]
    outcomes = [c for c in CallSession.Outcome.values if c != "in_progress"]
    rng = random.Random(7)
    now = timezone.now()
    print(f"seeding {CALLS - have:,} calls...", flush=True)
    for start in range(have, CALLS, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, CALLS)):
            customer = rng.choice(customers) if rng.random() < 0.4 else None
            caller = customer.phone if customer else f"+4477{rng.randrange(10**8):08d}"
            at = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
            outcome = rng.choice(outcomes)
            rows.append(
                CallSession(
                    call_sid=f"CAbench{n:026d}",
                    flow=flow,
                    flow_version=rng.choice(versions),
                    from_number=caller,
                    to_number="+441632960100",
                    status="completed",
                    outcome=outcome,
                    outcome_node="main" if outcome == "abandoned" else "",
                    customer=customer,
                    ended_at=at + timedelta(minutes=2),
                    duration=120,
                    state={"ended": True},
                )
            )
        made = CallSession.objects.bulk_create(rows)
        for row in made:  # started_at is auto_now_add: spread the calls over the year
            row.started_at = row.ended_at - timedelta(minutes=2)
        CallSession.objects.bulk_update(made, ["started_at"])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _sample() -> dict[str, str]:
    from django.utils import timezone

    from ivr_runtime.models import CallSession, Customer

    call = CallSession.objects.filter(customer__isnull=False).order_by("-started_at").first()
    assert call is not None and call.customer is not None
    customer = Customer.objects.get(pk=call.customer_id)
    national = "0" + call.from_number[3:]
    return {
        "sid": call.call_sid,
        "e164": call.from_number.replace("+", "%2B"),
        "national": national,
        "name": customer.name.replace(" ", "+"),
        "version": str(call.flow_version.number if call.flow_version else 1),
        "week": (timezone.now() - timedelta(days=7)).date().isoformat(),
    }
