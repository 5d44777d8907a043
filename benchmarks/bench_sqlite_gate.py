"""The SQLite write gate against Django's own SQLite backend, side by side.

`python -m benchmarks sqlite_gate` (not part of `make bench`) prepares two temporary SQLite
databases the same way and serves each with gunicorn (the same workers): one with the gate
(callflow/sqlite3), one with SQLITE_WRITE_GATE=0, whose writers wait in SQLite's busy
handler instead. It drives the bench calls at each in turn, ROUNDS times (the order
swapped every round), so that a shared machine's drifting speed weighs on both alike, and
prints each one's webhooks/s, p50/p99 and errors, then the ratio of their rates and the load
average before and after.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from benchmarks import bench_webhooks as web
from benchmarks import server

BY_NAME_ONLY = True
SIDES = {"gate": "1", "no gate": "0"}


def main() -> None:
    keys = os.environ.get("BENCH_KEYS", "1,2").split(",")
    folders: list[Path] = []
    running: dict[str, tuple] = {}
    try:
        for name, gate in SIDES.items():
            folders.append(Path(tempfile.mkdtemp(prefix="callflow-gate-")))
            env = server.server_env(folders[-1], SQLITE_WRITE_GATE=gate)
            server.prepare(folders[-1], env)
            running[name] = server.serve(env)
        print(
            f"gunicorn: {server.WORKERS} sync workers each, SQLite with and without the write "
            f"gate, {web.CONCURRENCY} concurrent calls; {server.load_average()}"
        )
        for _, base in running.values():
            web.warm_up(base, keys)
        totals = _alternate(running, keys)
        summaries = {name: web.summary(name, *totals[name]) for name in running}
        gate, plain = summaries["gate"], summaries["no gate"]
        ratio = gate.rate / plain.rate if plain.rate else float("nan")
        print(
            f"gate / no gate: {ratio:.2f} x the rate, p99 {gate.p99:.1f} / {plain.p99:.1f} ms, "
            f"errors {len(totals['gate'][0].errors)} / {len(totals['no gate'][0].errors)}; "
            f"{server.load_average()}"
        )
    finally:
        for process, _ in running.values():
            server.stop(process)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def _alternate(running: dict[str, tuple], keys: list[str]) -> dict[str, tuple[web.Results, float]]:
    """Each side's calls over ROUNDS rounds, taking turns (the order swapped every round)."""
    meters = {name: web.CpuMeter(process.pid) for name, (process, _) in running.items()}
    results = {name: web.Results() for name in running}
    elapsed = dict.fromkeys(running, 0.0)
    order = list(running)
    for _ in range(web.ROUNDS):
        for name in order:
            base = running[name][1]
            one, seconds = meters[name].measure(lambda base=base: web.calls_round(base, keys))
            results[name].merge(one)
            elapsed[name] += seconds
        order.reverse()
    return {name: (results[name], elapsed[name]) for name in running}
