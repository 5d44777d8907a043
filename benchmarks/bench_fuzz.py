"""The fuzz tests at full size: 10,000 signed webhook forms over every webhook and 1,000
generated flow documents through each of the command, the import API and the draft save.
Prints the cases, the time and what failed (the suite runs a few thousand cases)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = {
    "webhook forms": ("tests/fuzz/test_fuzz_webhooks.py", 10_000),
    "flow documents: import command": ("tests/fuzz/test_fuzz_flows.py::test_import_command", 1_000),
    "flow documents: import API": ("tests/fuzz/test_fuzz_flows.py::test_import_api", 1_000),
    "flow documents: draft save": ("tests/fuzz/test_fuzz_flows.py::test_draft_save", 1_000),
}


def main() -> None:
    env = {**os.environ, "FUZZ_SCALE": "full", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.pop("SECRET_KEY", None)  # the test settings set their own
    env.pop("TWILIO_AUTH_TOKEN", None)
    for what, (target, cases) in TESTS.items():
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov", target],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        verdict = "PASS" if done.returncode == 0 else "FAIL"
        print(
            f"{what:34} {cases:>6} cases in {seconds:6.1f} s "
            f"({cases / seconds:6.0f}/s): {verdict} ({re.sub(r'=+', '', summary).strip()})",
            flush=True,
        )
        if done.returncode != 0:
            print(done.stdout[-3000:], flush=True)
