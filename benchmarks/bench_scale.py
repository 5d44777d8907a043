"""Scale-out: three gunicorn processes on different ports serve the same calls.

`python -m benchmarks scale` starts three servers (each with BENCH_SCALE_WORKERS sync
workers) on one database (BENCH_DATABASE_URL, else a temporary SQLite file), behind no
balancer: each webhook of a call goes to any of them, and a fifth of the webhooks go to two
of them at once (a retry arriving through a balancer at another process). It prints the
rate and latency across the three, then checks in the database that every call took its
path once: the same steps in the same order, one text, ended; PASS or MISS.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from itertools import count
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks import bench_webhooks as web
from benchmarks import server

#: the public origin every server validates signatures against (PUBLIC_BASE_URL)
PUBLIC = "https://ivr.example.com"
PROCESSES = 3
WORKERS = os.environ.get("BENCH_SCALE_WORKERS", "2")
CALLS = int(os.environ.get("BENCH_SCALE_CALLS", "600"))
DUPLICATED = 0.2
#: the bench flow's path for the keys 1 then 2 (greeting, menu, ... confirm, bye)
EXPECTED = [
    ["greeting", "next"],
    ["menu", "1"],
    ["remember", "next"],
    ["by_choice", "sales"],
    ["text", "next"],
    ["confirm", "2"],
    ["bye", ""],
]
CHECK = """
import json
from ivr_runtime.models import CallSession, CallStep, OutboundMessage
import os
sids = json.load(open(os.environ["BENCH_SIDS"]))
paths, texts, ended = {}, {}, 0
for session in CallSession.objects.filter(call_sid__in=sids):
    steps = CallStep.objects.filter(session=session).order_by("index")
    paths[session.call_sid] = [[s.node_id, s.exit] for s in steps]
    texts[session.call_sid] = OutboundMessage.objects.filter(session=session).count()
    ended += session.status == "completed"
print(json.dumps({"paths": paths, "texts": texts, "ended": ended}))
"""


class SpreadCaller(web.Caller):
    """A caller whose webhooks go to any of the servers, some to two of them at once."""

    bases: list[str] = []
    chooser = random.Random(7)
    duplicates = 0
    placed: list[str] = []
    lock = threading.Lock()

    def post(self, path: str, params: dict[str, str]) -> str:
        first, second = self.chooser.sample(self.bases, 2)
        if path.startswith("/ivr/voice") and params.get("CallStatus") == "ringing":
            SpreadCaller.placed.append(params["CallSid"])
        if self.chooser.random() >= DUPLICATED:
            return self._post_to(first, path, params)
        with SpreadCaller.lock:
            SpreadCaller.duplicates += 1
        other = threading.Thread(target=self._post_to, args=(second, path, params))
        other.start()
        answer = self._post_to(first, path, params)
        other.join()
        return answer

    def _post_to(self, base: str, path: str, params: dict[str, str]) -> str:
        """One webhook, signed for the public URL the servers share, to one server."""
        target = urlsplit(base)
        return self.send(path, params, target.hostname, target.port)


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="callflow-scale-"))
    public = PUBLIC
    env = server.server_env(var_dir, os.environ.get("BENCH_DATABASE_URL"), PUBLIC_BASE_URL=public)
    servers: list[subprocess.Popen] = []
    try:
        server.prepare(var_dir, env)
        bases = []
        for _ in range(PROCESSES):
            port = server.free_port()
            command = server.gunicorn_command(port)
            command[command.index("--workers") + 1] = WORKERS
            servers.append(
                subprocess.Popen(command, cwd=server.ROOT, env=env, stdout=subprocess.DEVNULL)
            )
            bases.append(f"http://{server.HOST}:{port}")
        for base, process in zip(bases, servers, strict=True):
            server.wait_until_up(base, process)
        SpreadCaller.bases = bases
        print(
            f"{PROCESSES} gunicorn processes x {WORKERS} sync workers on "
            f"{server.database_name(env)}, "
            f"{web.CONCURRENCY} concurrent calls, {DUPLICATED:.0%} of webhooks sent to two "
            f"processes at once; {server.load_average()}"
        )
        results, sids = web.Results(), count(int(time.time() * 1000) % 10**9)
        budget, deadline = [CALLS], time.monotonic() + 120
        callers = [
            SpreadCaller(public, results, sids, deadline, budget) for _ in range(web.CONCURRENCY)
        ]
        threads = [
            threading.Thread(target=c.run, args=(server.BENCH_NUMBER, ["1", "2"])) for c in callers
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        web.summary("spread", results, elapsed)
        _check(var_dir, env, list(SpreadCaller.placed), SpreadCaller.duplicates, results)
    finally:
        for process in servers:
            process.terminate()
        for process in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(var_dir, ignore_errors=True)


def _check(var_dir: Path, env: dict[str, str], sids: list[str], duplicates: int, results) -> None:
    listed = var_dir / "sids.json"
    listed.write_text(json.dumps(sids))
    found = subprocess.run(
        [str(server.PYTHON), "manage.py", "shell", "-c", CHECK],
        cwd=server.ROOT,
        env={**env, "BENCH_SIDS": str(listed)},
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(found.stdout.strip().splitlines()[-1])
    wrong = [sid for sid in sids if seen["paths"].get(sid) != EXPECTED]
    twice = [sid for sid in sids if seen["texts"].get(sid, 0) > 1]
    lost = [sid for sid in sids if sid not in seen["paths"]]
    ok = not wrong and not twice and not lost and seen["ended"] == len(sids) and not results.errors
    print(
        f"checked: {len(sids)} calls ({duplicates} webhooks sent twice): "
        f"{len(sids) - len(wrong)} on their path once, {len(wrong)} advanced wrongly, "
        f"{len(twice)} texted twice, {len(lost)} lost, {seen['ended']} ended: "
        f"{'PASS' if ok else 'MISS'}"
    )
    if wrong:
        print(f"            first wrong: {wrong[0]} {seen['paths'].get(wrong[0])}")
