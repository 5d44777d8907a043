"""Analytics at scale: the stats endpoint and the call list on 100,000 calls, 1,000,000 steps.

`python -m benchmarks analytics` seeds a PostgreSQL database (BENCH_DATABASE_URL, else a
throwaway one it creates on 127.0.0.1:5432 as user postgres, and drops) with one flow's
calls (benchmarks/analytics_seed.py: INSERT ... SELECT generate_series, seconds), then:

- times the stats endpoint (every KPI, by_hour, by_day, per node) over the 90 days, for
  one version, two versions side by side and the last 7 days, and the call list's first
  page (`/api/calls/?flow=<slug>`), against the targets, PASS or MISS;
- EXPLAINs each statement of a report and of the first page, and checks that it reads the
  index meant for it and no big table whole;
- times the same, and a batch of step and call writes as webhooks make them, with the
  analytics indexes (migration 0012) and with the ones they replaced: what they cost.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from benchmarks.server import PYTHON, ROOT

CALLS = int(os.environ.get("BENCH_ANALYTICS_CALLS", "100000"))
TARGET_STATS_MS = 1000.0
TARGET_FIRST_PAGE_MS = 200.0
RUNS = 5
#: the indexes the analytics queries need (ivr_runtime/models.py says which query each serves)
ANALYTICS_INDEXES = ("callsession_flow_stats", "callsession_version_stats", "callstep_route_stats")
#: what they replaced (migration 0012), put back to measure without them
REPLACED = {
    "callsession_flow_started": "ivr_runtime_callsession (flow_id, started_at DESC)",
    "callsession_flow_version": "ivr_runtime_callsession (flow_version_id)",
}
#: the table a statement reads first -> the indexes its plan may read it by
EXPECTED_INDEX = {
    "ivr_runtime_callstep": ("callstep_flow_stats", "callstep_version_stats", *ANALYTICS_INDEXES),
    "ivr_runtime_callsession": (*ANALYTICS_INDEXES, "callsession_list"),
}
#: what a statement counting rows that belong to calls (texts, callbacks...) may also read
SIDE_INDEXES = ("ivr_runtime_callsession_pkey",)
#: calls of a batch of writes, ten steps each
WRITE_CALLS = 3_000


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    made = None
    if not url:
        made = f"callflow_bench_analytics_{os.getpid()}"
        if not _admin(f'CREATE DATABASE "{made}"'):
            print("skipped: no PostgreSQL on 127.0.0.1:5432 (set BENCH_DATABASE_URL)")
            return
        url = f"postgresql://postgres@127.0.0.1:5432/{made}"
    with tempfile.TemporaryDirectory(prefix="callflow-bench-") as var_dir:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "callflow.settings",
            "CALLFLOW_VAR_DIR": var_dir,
            "SECRET_KEY": os.environ.get("SECRET_KEY", secrets.token_urlsafe(50)),
            "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN", secrets.token_hex(16)),
            # seeding and EXPLAIN ANALYZE run longer than a webhook's statements may
            "DB_STATEMENT_TIMEOUT_SECONDS": "120",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        try:
            subprocess.run(
                [str(PYTHON), "-m", "benchmarks.bench_analytics", "--run"],
                cwd=ROOT,
                env=env,
                check=True,
            )
        finally:
            if made:
                _admin(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)')


def _admin(statement: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(statement)
    except psycopg.OperationalError:
        return False
    return True


def timed(work: Callable[[], Any], runs: int = RUNS) -> tuple[float, Any]:
    """The median milliseconds of `runs` runs after a warm-up, and the last answer."""
    answer = work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


def verdict(ms: float, target: float) -> str:
    return f"{ms:7.1f} ms (target < {target:.0f} ms): {'PASS' if ms < target else 'MISS'}"


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days - 1)).isoformat()


def run() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from benchmarks import analytics_seed

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    flow, versions = analytics_seed.seed(calls=CALLS)
    print(f"seeded {_sizes()} in {time.perf_counter() - started:.1f}s")
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("bench", password=None))
    stats = f"/api/flows/{flow.slug}/stats/"
    listing = f"/api/calls/?flow={flow.slug}"
    endpoints = {
        "stats, all versions, 90 days": stats,
        "stats, one version, 90 days": f"{stats}?version=2",
        "stats, two versions side by side": f"{stats}?versions=1,2",
        "stats, last 7 days": f"{stats}?since={days_ago(7)}",
    }

    def figures() -> bool:
        met = True
        for name, path in endpoints.items():
            ms, response = timed(lambda path=path: client.get(path))
            assert response.status_code == 200, response.content[:300]
            met &= ms < TARGET_STATS_MS
            print(f"  {name:34} {verdict(ms, TARGET_STATS_MS)}")
        ms, response = timed(lambda: client.get(listing))
        assert response.status_code == 200 and response.json()["results"], response.content[:300]
        print(f"  {'call list, first page':34} {verdict(ms, TARGET_FIRST_PAGE_MS)}")
        return met and ms < TARGET_FIRST_PAGE_MS

    print("with the analytics indexes:")
    met = figures()
    print(f"  kpis (90 days): {json.dumps(client.get(stats).json()['kpis'])}")
    plans = explain(client, f"{stats}?version=2&since={days_ago(7)}")
    plans &= explain(client, listing)
    # all of them: the whole table is this flow's, so reading it whole is the plan here
    explain(client, stats, check=False)
    after: dict[str, list[float]] = {}
    before: dict[str, list[float]] = {}
    for _ in range(3):
        _add(after, write_costs(flow, versions[-1]))
        saved = _swap_indexes()
        _add(before, write_costs(flow, versions[-1]))
        _restore_indexes(saved)
    saved = _swap_indexes()
    print("with the indexes they replaced instead:")
    figures()
    _restore_indexes(saved)
    print("writes (µs of server time a row; the median of 3 rounds, the index sets alternating):")
    for what, values in after.items():
        print(
            f"  {what:36} {statistics.median(before[what]):6.1f} before, "
            f"{statistics.median(values):6.1f} with the analytics indexes"
        )
    print(f"targets: {'all met' if met and plans else 'MISSED'}")


def _add(into: dict[str, list[float]], costs: dict[str, float]) -> None:
    for what, ms in costs.items():
        into.setdefault(what, []).append(ms)


def _sizes() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM ivr_runtime_callsession),"
            " (SELECT count(*) FROM ivr_runtime_callstep),"
            " pg_size_pretty(pg_total_relation_size('ivr_runtime_callsession')),"
            " pg_size_pretty(pg_total_relation_size('ivr_runtime_callstep'))"
        )
        calls, steps, calls_size, steps_size = cursor.fetchone()
    name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    return (
        f"{calls:,} calls ({calls_size}) and {steps:,} steps ({steps_size}) on PostgreSQL "
        f"{connection.pg_version // 10000}, database {name},"
    )


def explain(client: Any, path: str, *, check: bool = True) -> bool:
    """EXPLAIN ANALYZE each statement `path` runs: its time, the indexes it read, and
    (`check`) PASS when it read its table by an index meant for it and no big table whole."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    ok = True
    print(f"plans of {path}:")
    for query in captured.captured_queries:
        sql = query["sql"]
        found = sorted((sql.find(f'FROM "{t}"'), t) for t in EXPECTED_INDEX if f'FROM "{t}"' in sql)
        if not found:
            continue
        # a count of the calls' texts, callbacks, voicemails or offers may as well find
        # each call by its key
        side = sql.find('FROM "ivr_runtime_callsession"') > sql.find("FROM ") >= 0
        expected = {*EXPECTED_INDEX[found[0][1]], *(SIDE_INDEXES if side else ())}
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
        plan = (plan if isinstance(plan, list) else json.loads(plan))[0]
        used, whole = _scans(plan["Plan"])
        good = bool(used & expected) and not whole & set(EXPECTED_INDEX)
        ok &= good
        mark = ("PASS" if good else "MISS: reads " + ", ".join(sorted(whole))) if check else ""
        print(
            f"  {plan['Execution Time']:7.1f} ms  {', '.join(sorted(used)) or 'no index':52} "
            f"{mark:5} {' '.join(sql.split())[:60]}…"
        )
    return ok


def _scans(node: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The indexes a plan reads, and the tables it reads whole."""
    used = {node["Index Name"]} if "Index Name" in node else set()
    whole = {node.get("Relation Name", "?")} if node.get("Node Type") == "Seq Scan" else set()
    for child in node.get("Plans", []):
        more, seq = _scans(child)
        used |= more
        whole |= seq
    return used, whole


def write_costs(flow: Any, version: Any) -> dict[str, float]:
    """Microseconds of server time per row written as the turns write them: calls started,
    their steps inserted (a tenth of them route steps, as the seeded path), the waiting
    route steps completed, the calls ended; each a batch statement (INSERT ... SELECT,
    UPDATE), so the round trips do not hide what the indexes cost, in a transaction rolled
    back so the seeded figures stay as they were, after a VACUUM. The median of 3 batches."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ivr_runtime_callsession, ivr_runtime_callstep")
    samples: dict[str, list[float]] = {}
    for _ in range(3):
        _add(samples, _write_batch(flow, version))
    return {what: statistics.median(values) for what, values in samples.items()}


def _write_batch(flow: Any, version: Any) -> dict[str, float]:
    from django.db import connection, transaction

    from benchmarks import analytics_seed
    from ivr_runtime.models import CallSession, CallStep

    route = [i for i, step in enumerate(analytics_seed.PATH) if step[1] == "route"][0]
    kinds = "(ARRAY[" + ", ".join(f"'{t}'" for _, t, _ in analytics_seed.PATH) + "])[i + 1]"
    costs = {}
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        analytics_seed.insert_select(
            CallSession,
            {
                "call_sid": "'CAw' || g",
                "flow_id": str(flow.pk),
                "flow_version_id": str(version.pk),
                "from_number": "'+447700900123'",
                "current_node": "'agent'",
                "started_at": "now()",
                "updated_at": "now()",
            },
            f"generate_series(1, {WRITE_CALLS}) AS g",
        )
        costs["a call started (INSERT)"] = _us(started, WRITE_CALLS)
        steps = WRITE_CALLS * len(analytics_seed.PATH)
        started = time.perf_counter()
        analytics_seed.insert_select(
            CallStep,
            {
                "session_id": "s.id",
                "index": "i",
                "flow_id": str(flow.pk),
                "flow_version_id": str(version.pk),
                "node_id": "'n' || i",
                "node_type": kinds,
                "at": "now()",
            },
            "ivr_runtime_callsession AS s CROSS JOIN"
            f" generate_series(0, {len(analytics_seed.PATH) - 1}) AS i",
            "WHERE s.call_sid LIKE 'CAw%%'",
        )
        costs["a step inserted (INSERT)"] = _us(started, steps)
        started = time.perf_counter()
        cursor.execute(
            "UPDATE ivr_runtime_callstep SET exit = 'connected', input = 'completed',"
            " left_at = now() WHERE session_id IN (SELECT id FROM ivr_runtime_callsession"
            " WHERE call_sid LIKE 'CAw%%') AND index = %s",
            [route],
        )
        costs["a waiting step completed (UPDATE)"] = _us(started, WRITE_CALLS)
        started = time.perf_counter()
        cursor.execute(
            "UPDATE ivr_runtime_callsession SET status = 'completed', outcome = 'routed',"
            " ended_at = now(), updated_at = now() WHERE call_sid LIKE 'CAw%%'"
        )
        costs["a call ended (UPDATE)"] = _us(started, WRITE_CALLS)
        transaction.set_rollback(True)
    return costs


def _us(started: float, count: int) -> float:
    return (time.perf_counter() - started) * 1e6 / count


def _swap_indexes() -> list[str]:
    """Drop the analytics indexes and build the ones they replaced; their definitions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(ANALYTICS_INDEXES)]
        )
        saved = [row[0] for row in cursor.fetchall()]
        for name in ANALYTICS_INDEXES:
            cursor.execute(f'DROP INDEX "{name}"')
        for name, on in REPLACED.items():
            cursor.execute(f'CREATE INDEX "{name}" ON {on}')
        cursor.execute("ANALYZE")
    return saved


def _restore_indexes(saved: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name in REPLACED:
            cursor.execute(f'DROP INDEX "{name}"')
        for statement in saved:
            cursor.execute(statement)
        cursor.execute("ANALYZE")


if __name__ == "__main__":
    if sys.argv[1:] == ["--run"]:
        run()
    else:
        main()
