"""How long validating and importing big flows takes (target: 5,000 nodes in under 1 s).

`python -m benchmarks spec`. Flows are generated: blocks of a menu, a chain of say, set,
sms and branch nodes, an HTTP lookup, opening hours, routing and voicemail, each block
leading to the next, plus a long chain of say nodes with a menu every 50. Imports run against a throwaway
SQLite test database.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

SIZES = (100, 2_000, 5_000)
#: say nodes in a row in the long chain before a menu waits for the caller
CHAIN_STRETCH = 50
TARGET_SECONDS = 1.0


def _block(k: int, next_menu: str) -> list[dict[str, Any]]:
    """Nine nodes: a menu and what its three options lead to."""
    m, say, setv, sms, br, http, tod, route, vm = (
        f"{p}_{k}"
        for p in ("menu", "say", "set", "sms", "branch", "http", "hours", "route", "voicemail")
    )
    x = k * 1000
    return [
        {
            "id": m,
            "type": "menu",
            "label": f"Menu {k}",
            "config": {
                "prompt": "For bookings press 1, for your account press 2, for a person press 3.",
                "input": "both",
                "options": [
                    {"key": "1", "label": "Bookings", "speech": ["booking", "table"]},
                    {"key": "2", "label": "Account", "speech": ["account"]},
                    {"key": "3", "label": "Person", "speech": ["person", "agent"]},
                ],
            },
            "exits": {"1": say, "2": http, "3": route, "no_input": m, "no_match": m},
            "position": {"x": x, "y": 0},
        },
        {
            "id": say,
            "type": "say",
            "config": {"text": "Bookings, {{ caller.number }}."},
            "exits": {"next": setv},
        },
        {
            "id": setv,
            "type": "set",
            "config": {"vars": {"topic": "booking", "menu": str(k)}},
            "exits": {"next": sms},
        },
        {
            "id": sms,
            "type": "sms",
            "config": {"body": "Book at https://example.com/b/{{ vars.menu }}"},
            "exits": {"next": br},
        },
        {
            "id": br,
            "type": "branch",
            "config": {
                "rules": [{"exit": "gold", "var": "customer.tier", "op": "eq", "value": "gold"}]
            },
            "exits": {"gold": next_menu, "else": tod},
        },
        {
            "id": http,
            "type": "http",
            "config": {
                "url": "https://crm.example.com/c?p={{ caller.number }}",
                "timeout": 2,
                "save_as": "crm",
            },
            "exits": {"success": tod, "failure": vm},
        },
        {
            "id": tod,
            "type": "time_of_day",
            "config": {
                "timezone": "Europe/London",
                "schedule": {
                    d: [["09:00", "12:30"], ["13:30", "17:30"]]
                    for d in ("mon", "tue", "wed", "thu", "fri")
                },
                "holidays": ["2026-12-25", {"date": "2026-12-26", "name": "Boxing Day"}],
            },
            "exits": {"open": next_menu, "closed": vm, "holiday": vm},
        },
        {
            "id": route,
            "type": "route",
            "config": {"target": {"skills": ["cards", "fraud"]}, "timeout": 20, "max_wait": 120},
            "exits": {"connected": "end", "unavailable": vm, "timeout": vm},
        },
        {
            "id": vm,
            "type": "voicemail",
            "config": {"prompt": "Please leave a message.", "max_length": 60},
            "exits": {"recorded": "end", "empty": "end"},
        },
    ]


def generate_flow(size: int, slug: str | None = None) -> dict[str, Any]:
    """A valid flow of exactly `size` nodes (size >= 11), every node reachable."""
    blocks = max(1, (size - 2) // 2 // 9)  # about half the nodes in menu blocks
    chain = size - 2 - blocks * 9  # the rest: one long chain of say nodes before the first menu
    nodes: list[dict[str, Any]] = []
    first = "menu_0"
    for i in range(chain):
        nxt = f"step_{i + 1}" if i + 1 < chain else first
        if i % CHAIN_STRETCH == CHAIN_STRETCH - 1:  # a call runs at most 100 nodes in a row
            config = {"prompt": f"Step {i}: press 1.", "options": [{"key": "1"}]}
            exits = {"1": nxt, "no_input": nxt, "no_match": nxt}
            nodes.append({"id": f"step_{i}", "type": "menu", "config": config, "exits": exits})
            continue
        nodes.append(
            {
                "id": f"step_{i}",
                "type": "say",
                "config": {"text": f"Step {i}."},
                "exits": {"next": nxt},
            }
        )
    for k in range(blocks):
        nodes += _block(k, f"menu_{k + 1}" if k + 1 < blocks else "end")
    nodes.append({"id": "end", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}})
    nodes.append(
        {
            "id": "sorry",
            "type": "hangup",
            "config": {"text": "Sorry, something went wrong."},
            "exits": {},
        }
    )
    return {
        "format": "callflow/1",
        "slug": slug or f"bench-{size}",
        "name": f"Benchmark flow of {size} nodes",
        "timezone": "Europe/London",
        "language": "en-GB",
        "start": "step_0" if chain else first,
        "fallback": {"node": "sorry", "sms": "Sorry, please call again."},
        "nodes": nodes,
    }


def _time(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _import_times(flows: dict[int, dict[str, Any]]) -> dict[int, tuple[float, float]]:
    """(first import + publish, second identical import) seconds per size, on a test DB."""
    from django.db import connection
    from django.test.runner import DiscoverRunner
    from django.test.utils import setup_test_environment, teardown_test_environment

    from flows.imports import ImportSource, flows_import

    setup_test_environment()
    scratch = tempfile.TemporaryDirectory(prefix="callflow-bench-")
    if connection.vendor == "sqlite":
        # a file of our own: the configured test database may be in use by a test run
        connection.settings_dict["TEST"]["NAME"] = os.path.join(scratch.name, "bench.sqlite3")
    runner = DiscoverRunner(verbosity=0, interactive=False)
    old_config = runner.setup_databases()
    try:
        times = {}
        for size, definition in flows.items():
            source = [ImportSource(f"bench-{size}.json", json.dumps(definition))]
            started = time.perf_counter()
            report = flows_import(sources=source, publish=True)
            first = time.perf_counter() - started
            assert report.flows[0].created
            started = time.perf_counter()
            report = flows_import(sources=source, publish=True)
            again = time.perf_counter() - started
            assert not report.flows[0].changed
            times[size] = (first, again)
        return times
    finally:
        runner.teardown_databases(old_config)
        teardown_test_environment()
        scratch.cleanup()


def main() -> None:
    from flows.spec import errors, validate

    flows = {size: generate_flow(size) for size in SIZES}
    rows = []
    for size, definition in flows.items():
        draft, problems = _time(lambda d=definition: validate(d))
        assert not problems, problems[:3]
        publish, problems = _time(lambda d=definition: validate(d, publish=True))
        assert not errors(problems)
        rows.append((size, draft, publish))
    imports = _import_times(flows)

    print(
        f"{'nodes':>6} | {'validate draft':>14} | {'validate publish':>16} | {'import+publish':>14} | {'re-import':>9}"
    )
    print("-" * 73)
    for size, draft, publish in rows:
        first, again = imports[size]
        print(
            f"{size:>6} | {draft * 1000:>11.1f} ms | {publish * 1000:>13.1f} ms | {first * 1000:>11.1f} ms | {again * 1000:>6.1f} ms"
        )
    worst = max(max(draft, publish) for size, draft, publish in rows if size == max(SIZES))
    verdict = "OK" if worst < TARGET_SECONDS else "TOO SLOW"
    print(
        f"\n{max(SIZES)}-node validation: {worst * 1000:.0f} ms (target < {TARGET_SECONDS * 1000:.0f} ms): {verdict}"
    )


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callflow.settings")
    django.setup()
    main()
