"""Webhook throughput and latency: whole signed calls against a real gunicorn server.

`python -m benchmarks webhooks` starts gunicorn from the virtualenv on 127.0.0.1 (a free
port) with the project's own settings and a temporary SQLite database, migrated and loaded
with the demo flows, the directory and a bench flow. It then drives whole calls the way
Twilio does (signed webhooks, following the TwiML: Gather actions, Redirects, the status
callback) from 16 threads, bounded in calls and in time. Each webhook is a signed form
posted on a new connection with http.client: the load generator shares the two cores with
the server, and every millisecond it spends is one the server cannot (with requests it
cost 1.5 ms of CPU per webhook, the floor measured the load generator rather than the
server, and the ratio below came out about twice as high).

The floor is `/ivr/ping` on the same server and the same workers (static TwiML, no
database), posted the same signed form a call's webhook carries, so the two measurements
differ only by what the runtime does. Beside them, the write floor (`/bench/write`,
benchmarks/urls.py): the same request answered after one upsert of the call's state, the
least a runtime that keeps its calls in the database does. All are warmed up first. It
prints webhooks/s and p50/p99 latency for each, the ratios, and PASS or MISS against the
targets: at least half the floor's rate and p99 under 50 ms. The load average is printed before and after: the
load generator shares the machine with the server, so run it on a quiet machine.
Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import resource
import shutil
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

from benchmarks.server import (
    BENCH_NUMBER,
    THREADS,
    TOKEN,
    WORKERS,
    database_name,
    load_average,
    prepare,
    round_trips,
    serve,
    server_env,
    stop,
)

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
#: the concurrency levels whose figures are printed against the targets, in one run
LEVELS = [int(n) for n in os.environ.get("BENCH_LEVELS", f"{CONCURRENCY},64").split(",")]
#: new calls a second the service must start (each one's first webhook and its hang-up)
TARGET_NEW_CALLS = 200.0
#: Callers post their next webhook at once: the service runs flat out, which is what a
#: rate is measured at. But then each webhook queues behind those of every other caller
#: (Little's law: latency = callers / rate), so at 64 callers no service whose floor is
#: about 2,200 webhooks/s can answer in 50 ms. A real caller listens to a prompt for
#: seconds between two webhooks; at levels above 16, p99 is also measured with callers
#: pausing this long between a call's webhooks (still far shorter than any prompt).
THINK_SECONDS = float(os.environ.get("BENCH_THINK_MS", "100")) / 1000
MAX_CALLS = int(os.environ.get("BENCH_CALLS", "1200"))
MAX_SECONDS = float(os.environ.get("BENCH_SECONDS", "25"))
#: the floor and the calls are measured in turns, this many times each
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


def _query(url: str) -> str:
    query = urlsplit(url).query
    return f"?{query}" if query else ""


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    calls: int = 0
    server_cpu: float = 0.0
    generator_cpu: float = 0.0
    database_cpu: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, kind: str = "ping") -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_kind.setdefault(kind, []).append(seconds)

    def merge(self, other: Results) -> None:
        """Add another run's results (a round) to these."""
        self.latencies += other.latencies
        for kind, values in other.by_kind.items():
            self.by_kind.setdefault(kind, []).extend(values)
        self.errors += other.errors
        self.calls += other.calls
        self.server_cpu += other.server_cpu
        self.generator_cpu += other.generator_cpu
        self.database_cpu += other.database_cpu


class Caller:
    """One thread's Twilio: places calls and follows the TwiML until the call ends."""

    def __init__(
        self,
        base: str,
        results: Results,
        sids: count,
        deadline: float,
        budget: list[int],
        think: float = 0.0,
    ):
        self.base, self.results, self.sids, self.deadline, self.budget = (
            base,
            results,
            sids,
            deadline,
            budget,
        )
        #: seconds the caller pauses between two webhooks of a call (listening)
        self.think = think
        self.validator = RequestValidator(TOKEN)
        self.host, self.port = urlsplit(base).hostname, urlsplit(base).port

    def post(self, path: str, params: dict[str, str]) -> str:
        """One webhook: a signed form on a new connection (the sync workers close each one)."""
        return self.send(path, params, self.host, self.port)

    def send(self, path: str, params: dict[str, str], host: str | None, port: int | None) -> str:
        """The webhook signed for `self.base`'s URL, sent to host:port."""
        url = urljoin(self.base + "/", path)
        headers = {
            "X-Twilio-Signature": self.validator.compute_signature(url, params),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request("POST", urlsplit(url).path + _query(url), urlencode(params), headers)
            response = connection.getresponse()
            body = response.read().decode()
        finally:
            connection.close()
        self.results.add(time.perf_counter() - started, path.split("?")[0].rsplit("/", 1)[-1])
        if response.status not in (200, 204):
            self.results.errors.append(f"{path}: {response.status}")
        return body

    def take(self) -> bool:
        with self.results.lock:
            if self.budget[0] <= 0 or time.monotonic() > self.deadline:
                return False
            self.budget[0] -= 1
            return True

    def new_call(self, number: str) -> dict[str, str]:
        """The fields every webhook of a new call to `number` carries."""
        return {
            "CallSid": f"CA{next(self.sids):032x}",
            "AccountSid": "AC" + "0" * 32,
            "From": f"+4477009{next(self.sids) % 100000:05d}",
            "To": number,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

    def run(self, number: str, keys: list[str]) -> None:
        while self.take():
            base = self.new_call(number)
            document, url = self.post("/ivr/voice", {**base, "CallStatus": "ringing"}), "/ivr/voice"
            presses = iter(keys)
            for _ in range(20):
                time.sleep(self.think)
                tree = ET.fromstring(document)
                verb = next(tree.iter("Gather"), None)
                redirect = tree.find("Redirect")
                if verb is not None:
                    url = urljoin(url, verb.get("action"))
                    document = self.post(
                        url, {**base, "CallStatus": "in-progress", "Digits": next(presses, "2")}
                    )
                elif redirect is not None:
                    url = urljoin(url, redirect.text)
                    document = self.post(url, {**base, "CallStatus": "in-progress"})
                else:
                    break
            self.post("/ivr/status", {**base, "CallStatus": "completed", "CallDuration": "42"})
            with self.results.lock:
                self.results.calls += 1

    def start_only(self, number: str) -> None:
        """New calls: each one's first webhook, then the caller hangs up (its status)."""
        while self.take():
            base = self.new_call(number)
            self.post("/ivr/voice", {**base, "CallStatus": "ringing"})
            self.post("/ivr/status", {**base, "CallStatus": "completed", "CallDuration": "3"})
            with self.results.lock:
                self.results.calls += 1

    def ping(self, path: str = "/ivr/ping") -> None:
        """The floor: the request a call's webhook makes (form, signature), answered
        statically; with `path` "/bench/write", the write floor (benchmarks/urls.py)."""
        while self.take():
            sid = f"CA{next(self.sids):032x}"
            params = {
                "CallSid": sid,
                "AccountSid": "AC" + "0" * 32,
                "From": f"+4477009{next(self.sids) % 100000:05d}",
                "To": BENCH_NUMBER,
                "Direction": "inbound",
                "ApiVersion": "2010-04-01",
                "CallStatus": "in-progress",
                "Digits": "1",
            }
            self.post(path, params)


def drive(
    base: str,
    target: str,
    *,
    calls: int,
    seconds: float,
    keys: list[str] | None = None,
    number: str = BENCH_NUMBER,
    concurrency: int = CONCURRENCY,
    think: float = 0.0,
) -> tuple[Results, float]:
    """Run `concurrency` callers: "ping" (the floor), "write" (the write floor), "calls"
    (whole calls) or "new" (first webhooks and hang-ups), bounded in calls and in seconds."""
    results, sids = Results(), count(time.time_ns() // 1000 % 10**15)
    budget = [calls]
    deadline = time.monotonic() + seconds
    callers = [Caller(base, results, sids, deadline, budget, think) for _ in range(concurrency)]
    work: dict[str, Callable[[Caller], None]] = {
        "ping": Caller.ping,
        "write": lambda c: c.ping("/bench/write"),
        "calls": lambda c: c.run(number, keys or ["1", "2"]),
        "new": lambda c: c.start_only(number),
    }
    threads = [threading.Thread(target=work[target], args=(c,)) for c in callers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


class CpuMeter:
    """CPU time (user + system) of the server (gunicorn and its workers), of this load
    generator and of the database server when it runs on this machine (every `postgres`
    process: it shares the cores): per webhook, these compare runs on a noisy machine
    better than rates do."""

    def __init__(self, server_pid: int):
        self.pids = [server_pid, *self._children(server_pid)]

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    @staticmethod
    def _cpu(pids: list[int]) -> float:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # utime, stime, and the cutime and cstime of its children that have ended (a
            # database backend whose connection closed is counted by the postmaster)
            total += sum(int(f) for f in fields[11:15])
        return total / os.sysconf("SC_CLK_TCK")

    def server(self) -> float:
        return self._cpu(self.pids)

    @classmethod
    def database(cls) -> float:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "comm").read_text().strip() == "postgres":
                        pids.append(int(entry.name))
                except OSError:
                    continue
        return cls._cpu(pids)

    @staticmethod
    def generator() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def measure(self, run: Callable[[], tuple[Results, float]]) -> tuple[Results, float]:
        server, generator, database = self.server(), self.generator(), self.database()
        results, elapsed = run()
        results.server_cpu = self.server() - server
        results.generator_cpu = self.generator() - generator
        results.database_cpu = self.database() - database
        return results, elapsed


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted `values` fall (nearest rank), in ms."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * fraction))] * 1000


@dataclass(frozen=True)
class Summary:
    rate: float
    p50: float
    p99: float


def summary(name: str, results: Results, elapsed: float) -> Summary:
    latencies = sorted(results.latencies)
    rate = len(latencies) / elapsed if elapsed else 0.0
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    extra = f", {results.calls} calls" if results.calls else ""
    print(
        f"{name:>10}: {len(latencies)} webhooks in {elapsed:.1f}s = {rate:.0f} webhooks/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms{extra}, {len(results.errors)} errors",
        flush=True,
    )
    if latencies and results.server_cpu:
        per = 1000 / len(latencies)
        database = f"database {results.database_cpu * per:.2f} ms, " if results.database_cpu else ""
        print(
            f"            CPU per webhook: server {results.server_cpu * per:.2f} ms, {database}"
            f"load generator {results.generator_cpu * per:.2f} ms"
        )
    if len(results.by_kind) > 1:
        parts = []
        for kind, values in sorted(results.by_kind.items()):
            values = sorted(values)
            parts.append(
                f"{kind} p50 {percentile(values, 0.5):.1f} / p99 {percentile(values, 0.99):.1f} ms"
            )
        print("            " + "; ".join(parts))
    if results.errors:
        print(f"            first errors: {results.errors[:3]}")
    return Summary(rate=rate, p50=p50, p99=p99)


def warm_up(base: str, keys: list[str]) -> None:
    """Every path on every worker (connections, definition cache, templates, prepared
    statements)."""
    drive(base, "calls", calls=100, seconds=10, keys=keys)
    drive(base, "ping", calls=1000, seconds=5)
    drive(base, "write", calls=500, seconds=5)


def calls_round(
    base: str, keys: list[str], concurrency: int = CONCURRENCY
) -> tuple[Results, float]:
    """One round of the bench calls: a ROUNDS-th of the calls and of the time."""
    return drive(
        base,
        "calls",
        calls=MAX_CALLS // ROUNDS,
        seconds=MAX_SECONDS / ROUNDS,
        keys=keys,
        concurrency=concurrency,
    )


def level_figures(base: str, meter: CpuMeter, concurrency: int, keys: list[str]) -> bool:
    """The floor, the write floor and whole calls at one concurrency, taking turns ROUNDS
    times so that the machine's speed drifting during the run (a shared machine's does)
    weighs on all alike; prints them and the verdict against the targets, and returns it."""

    def one_round(kind: str) -> tuple[Results, float]:
        if kind == "calls":
            return calls_round(base, keys, concurrency)
        return drive(
            base,
            kind,
            calls=MAX_CALLS * 5 // ROUNDS,
            seconds=MAX_SECONDS / 2 / ROUNDS,
            concurrency=concurrency,
        )

    kinds = ("ping", "write", "calls")
    totals = {kind: Results() for kind in kinds}
    elapsed = dict.fromkeys(kinds, 0.0)
    for _ in range(ROUNDS):
        for kind in kinds:
            results, seconds = meter.measure(lambda kind=kind: one_round(kind))
            totals[kind].merge(results)
            elapsed[kind] += seconds
    print(f"-- {concurrency} concurrent calls")
    floor = summary("ping", totals["ping"], elapsed["ping"])
    write = summary("write", totals["write"], elapsed["write"])
    call_results, call_elapsed = totals["calls"], elapsed["calls"]
    calls = summary("calls", call_results, call_elapsed)
    ratio = calls.rate / floor.rate if floor.rate else 0.0
    p99, how = calls.p99, "flat out"
    if concurrency > 16 and THINK_SECONDS:
        paced, paced_elapsed = meter.measure(
            lambda: drive(
                base,
                "calls",
                calls=MAX_CALLS,
                seconds=MAX_SECONDS / 2,
                keys=keys,
                concurrency=concurrency,
                think=THINK_SECONDS,
            )
        )
        p99 = summary("paced", paced, paced_elapsed).p99
        how = f"callers pausing {THINK_SECONDS * 1000:.0f} ms between webhooks"
        call_results.errors += paced.errors
    met = ratio >= TARGET_RATIO and p99 <= TARGET_P99_MS and not call_results.errors
    print(
        f"ratio at {concurrency}: calls run at {ratio:.2f} of the floor's rate "
        f"(target >= {TARGET_RATIO:.2f}): {'PASS' if ratio >= TARGET_RATIO else 'MISS'}; "
        f"calls p99 {p99:.1f} ms, {how} (target <= {TARGET_P99_MS:.0f} ms): "
        f"{'PASS' if p99 <= TARGET_P99_MS else 'MISS'}; "
        f"{call_results.calls / call_elapsed:.0f} whole calls a second; {load_average()}"
    )
    if floor.rate:
        print(
            f"            the write floor (one upsert a webhook, no flow) runs at "
            f"{write.rate / floor.rate:.2f} of the floor's rate: the most a runtime that "
            f"writes each webhook to this database could reach here"
        )
    shares = cpu_shares(totals["ping"], call_results)
    if shares:
        print(shares)
    if call_results.errors or totals["ping"].errors or totals["write"].errors:
        print("MISS: some webhooks failed")
    return met


def cpu_shares(floor: Results, calls: Results) -> str:
    """What the CPU per webhook says of the ratio, where the cores run flat out: as
    measured (every process on the machine), and with the database server's share taken
    away (as on a server of its own). An estimate from the CPU figures, not a rate."""
    if not (floor.latencies and calls.latencies and calls.database_cpu):
        return ""

    def per(results: Results, *parts: float) -> float:
        return sum(parts) / len(results.latencies)

    floor_cost = per(floor, floor.server_cpu, floor.generator_cpu, floor.database_cpu)
    with_database = per(calls, calls.server_cpu, calls.generator_cpu, calls.database_cpu)
    without = per(calls, calls.server_cpu, calls.generator_cpu)
    return (
        f"            by CPU per webhook, calls would run at {floor_cost / with_database:.2f} "
        f"of the floor's rate with the database server on these cores, "
        f"{floor_cost / without:.2f} with it on cores of its own"
    )


def new_calls_figure(base: str, meter: CpuMeter, concurrency: int) -> bool:
    """New calls a second with `concurrency` callers, each placing calls that hang up
    after the first webhook; prints it and the verdict against the target, returns it."""
    new, elapsed = meter.measure(
        lambda: drive(
            base, "new", calls=MAX_CALLS * 2, seconds=MAX_SECONDS / 3, concurrency=concurrency
        )
    )
    summary("new calls", new, elapsed)
    rate = new.calls / elapsed if elapsed else 0.0
    met = rate >= TARGET_NEW_CALLS and not new.errors
    print(
        f"new calls at {concurrency}: {rate:.0f} a second (target >= {TARGET_NEW_CALLS:.0f}): "
        f"{'PASS' if met else 'MISS'}"
    )
    return met


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="callflow-bench-"))
    # e.g. a throwaway PostgreSQL database; SQLITE_WRITE_GATE=0 for Django's own SQLite
    env = server_env(var_dir, os.environ.get("BENCH_DATABASE_URL"))
    keys = os.environ.get("BENCH_KEYS", "1,2").split(",")
    server = None
    try:
        prepare(var_dir, env)
        server, base = serve(env)
        model = (
            f"{WORKERS} gthread workers x {THREADS} threads"
            if THREADS > 1
            else f"{WORKERS} sync workers"
        )
        print(f"gunicorn: {model} on {base}, {database_name(env)}; {load_average()}")
        warm_up(base, keys)
        meter = CpuMeter(server.pid)
        verdicts = [level_figures(base, meter, level, keys) for level in LEVELS]
        verdicts += [new_calls_figure(base, meter, level) for level in LEVELS]
        demo_results, demo_elapsed = meter.measure(
            lambda: drive(
                base,
                "calls",
                calls=MAX_CALLS // 3,
                seconds=MAX_SECONDS / 2,
                keys=["12345678", "4321", "0"],
                number="+442079460002",
            )
        )
        summary("cards demo", demo_results, demo_elapsed)
        print(f"targets: {'all met' if all(verdicts) else 'MISSED'}; {load_average()}")
        print(f"database round trips per webhook: {round_trips(env)}")
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
