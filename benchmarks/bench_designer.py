"""How fast the designer opens a 2,000-node flow in headless Chromium (target: under 2 s).

`python -m benchmarks designer`. Starts the real server (runserver, DEBUG off, WhiteNoise
serving the built assets) on 127.0.0.1 with a throwaway SQLite database, imports a
generated callflow/1 flow of say/menu/hangup blocks through the services, signs in through
the login form and opens the editor. It prints, from the start of the navigation:
- drawn: the editor has the flow and the nodes in view are rendered and measured;
- interactive: a click on a node has selected it and opened its form.
The same is measured for the flow without positions (auto-layout in the browser).
Needs the built assets (`make setup`) and /usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODES = 2_000
TARGET_SECONDS = 2.0
RUNS = 3
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs inside the server's environment (its own database): users and the two flows.
SETUP = r"""
import django, sys
django.setup()
from django.contrib.auth.models import User
from django.core.management import call_command
from flows.services import flow_create
from benchmarks.bench_designer import big_flow
call_command("migrate", verbosity=0)
User.objects.create_superuser("bench", password="bench-designer")
flow_create(definition=big_flow(int(sys.argv[1]), "big-flow", positions=True))
flow_create(definition=big_flow(int(sys.argv[1]), "big-flow-unplaced", positions=False))
"""

READY = """() => {
  const nodes = document.querySelectorAll('.react-flow__node');
  return document.querySelector('.cf-editor[data-ready]') && nodes.length > 0 &&
    [...nodes].every((n) => n.style.visibility !== 'hidden');
}"""


def big_flow(size: int, slug: str, *, positions: bool) -> dict:
    """A valid callflow/1 flow of `size` nodes: blocks of say -> menu -> (next block | hangup)."""
    nodes: list[dict] = []
    blocks = size // 3
    for k in range(blocks):
        x, y = (k % 25) * 780, (k // 25) * 260
        last = k == blocks - 1
        nodes += [
            {"id": f"say_{k}", "type": "say", "label": f"Intro {k}",
             "config": {"text": f"This is part {k} of the big flow."},
             "exits": {"next": f"menu_{k}"}, "position": {"x": x, "y": y}},
            {"id": f"menu_{k}", "type": "menu", "label": f"Menu {k}",
             "config": {"prompt": "Press 1 to go on, 2 to finish.",
                        "options": [{"key": "1", "label": "On"}, {"key": "2", "label": "Finish"}]},
             "exits": {"1": f"bye_{k}" if last else f"say_{k + 1}", "2": f"bye_{k}",
                       "no_input": f"bye_{k}", "no_match": f"bye_{k}"},
             "position": {"x": x + 260, "y": y}},
            {"id": f"bye_{k}", "type": "hangup", "label": f"Goodbye {k}",
             "config": {"text": "Goodbye."}, "exits": {}, "position": {"x": x + 520, "y": y}},
        ]  # fmt: skip
    for extra in range(size - len(nodes)):  # reachable say nodes before the first block
        nodes.insert(0, {"id": f"pre_{extra}", "type": "say", "config": {"text": "Hello."},
                         "exits": {"next": nodes[0]["id"]}, "position": {"x": -260 * (extra + 1), "y": 0}})  # fmt: skip
    if not positions:
        for n in nodes:
            n.pop("position")
    return {"format": "callflow/1", "slug": slug, "name": f"Big flow ({size} nodes)",
            "timezone": "Europe/London", "language": "en-GB", "start": nodes[0]["id"], "nodes": nodes}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer at {url}")


def _open(page, base: str, slug: str, node_id: str) -> tuple[float, float]:
    page.goto(f"{base}/designer/flows/{slug}/", wait_until="commit")
    page.wait_for_function(READY, polling="raf", timeout=60_000)
    drawn = page.evaluate("performance.now()") / 1000
    page.locator(f'[data-node-id="{node_id}"] .cf-node-label').click()
    page.wait_for_selector(f'[data-panel-node="{node_id}"]', timeout=30_000)
    interactive = page.evaluate("performance.now()") / 1000
    return drawn, interactive


def _measure(base: str) -> dict[str, list[tuple[float, float]]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[tuple[float, float]]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}/accounts/login/?next=/designer/")
        page.fill("#id_username", "bench")
        page.fill("#id_password", "bench-designer")
        page.click("#login-form input[type=submit]")
        page.wait_for_url("**/designer/")
        for slug in ("big-flow", "big-flow-unplaced"):
            start = big_flow(NODES, slug, positions=False)["start"]
            results[slug] = [_open(page, base, slug, start) for _ in range(RUNS)]
        browser.close()
        if errors:
            raise RuntimeError(f"errors in the page: {errors}")
    return results


def main() -> None:
    if not (ROOT / "designer_ui/static/designer_ui/build/editor.js").is_file():
        print("designer assets are not built: run `make setup` first")
        return
    with tempfile.TemporaryDirectory(prefix="bench-designer-") as var_dir:
        env = {
            **os.environ,
            "CALLFLOW_VAR_DIR": var_dir,
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "callflow.settings",
        }
        env.pop("DATABASE_URL", None)
        subprocess.run([sys.executable, "-c", SETUP, str(NODES)], cwd=ROOT, env=env, check=True)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/accounts/login/")
            results = _measure(base)
        finally:
            server.terminate()
            server.wait(timeout=10)
    for slug, runs in results.items():
        what = "with positions" if slug == "big-flow" else "without positions (auto-layout)"
        best_drawn = min(d for d, _ in runs)
        best_interactive = min(i for _, i in runs)
        print(f"{NODES} nodes {what}: drawn {best_drawn:.2f} s, interactive {best_interactive:.2f} s "
              f"(best of {RUNS}; all: {', '.join(f'{i:.2f}' for _, i in runs)})")  # fmt: skip
    best = min(i for _, i in results["big-flow"])
    verdict = "OK" if best < TARGET_SECONDS else "SLOW"
    print(f"open time for {NODES} nodes: {best:.2f} s (target < {TARGET_SECONDS:.0f} s) {verdict}")
