"""import_flows, export_flow, bind_number and load_demo, through call_command and a real process."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection

from flows import numbers, services
from flows.models import Flow, FlowVersion, PhoneNumber
from tests.flows.db_helpers import counts, snapshot
from tests.flows.spec_helpers import flow, hangup, node, say, simple_flow

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, content) -> Path:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return path


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def existing(tmp_path):
    """Flow 'a' imported and published, with a number: what a failed import must not touch."""
    run("import_flows", str(write(tmp_path, "a.json", simple_flow("a"))), "--publish")
    run("bind_number", "+442079460001", "a")
    return snapshot()


HOURS = {"schedule": {"mon": [["09:00", "17:00"]]}}
# (case, file content, publish?, the path, the node, the reason)
BAD_FILES = [
    (
        "not JSON",
        '{"format": "callflow/1",\n  "slug": "bad"',
        False,
        "$",
        None,
        "Not valid JSON: Expecting ',' delimiter at line 2, column 16.",
    ),
    ("empty file", "", False, "$", None, "The file is empty"),
    (
        "unknown format",
        {**simple_flow("bad"), "format": "studio/2"},
        False,
        "$.format",
        None,
        "The format 'studio/2' is not known; known formats: callflow/1.",
    ),
    (
        "unknown node type",
        flow(say("hi", "x"), node("x", "fax", {}), slug="bad"),
        False,
        "$.nodes[1].type",
        "x",
        "Unknown node type 'fax'",
    ),
    (
        "duplicate ids",
        flow(say("hi", "bye"), hangup(), hangup(), slug="bad"),
        False,
        "$.nodes[2].id",
        "bye",
        "Node id 'bye' is used twice",
    ),
    (
        "dangling exit",
        flow(say("hi", "menu"), slug="bad"),
        False,
        "$.nodes[0].exits.next",
        "hi",
        "Exit 'next' leads to 'menu', which is not a node of this flow.",
    ),
    (
        "start names no node",
        flow(say("hi", "bye"), hangup(), slug="bad", start="welcome"),
        False,
        "$.start",
        None,
        "The flow starts at 'welcome', which is not a node of this flow.",
    ),
    (
        "no start at all",
        {k: v for k, v in flow(say("hi", "bye"), hangup(), slug="bad").items() if k != "start"},
        False,
        "$.start",
        None,
        "'start' is required here.",
    ),
    (
        "invalid time zone",
        flow(
            node("h", "time_of_day", {**HOURS, "timezone": "London"}, open="bye", closed="bye"),
            hangup(),
            slug="bad",
        ),
        False,
        "$.nodes[0].config.timezone",
        "h",
        "'London' is not a known time zone",
    ),
    (
        "invalid hours",
        flow(
            node(
                "h",
                "time_of_day",
                {"schedule": {"fri": [["9am", "5pm"]]}},
                open="bye",
                closed="bye",
            ),
            hangup(),
            slug="bad",
        ),
        False,
        "$.nodes[0].config.schedule.fri[0]",
        "h",
        "is not a pair of times HH:MM",
    ),
    (
        "endless loop",
        flow(say("a", "b"), say("b", "a"), slug="bad"),
        False,
        "$.nodes[0]",
        "a",
        "Endless loop: a -> b lead back to one another",
    ),
    (
        "unreachable on publish",
        flow(say("hi", "bye"), hangup(), hangup("lost"), slug="bad"),
        True,
        "$.nodes[2]",
        "lost",
        "Node 'lost' cannot be reached from the start of the flow.",
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "publish", "path", "node_id", "reason"),
    BAD_FILES,
    ids=[c[0] for c in BAD_FILES],
)
def test_a_bad_file_fails_the_whole_import(
    tmp_path, existing, case, content, publish, path, node_id, reason
):
    good_change = write(tmp_path, "a.json", simple_flow("a", "Changed greeting."))
    good_new = write(tmp_path, "new.json", simple_flow("new"))
    bad = write(tmp_path, "bad.json", content)
    args = ["import_flows", str(good_change), str(good_new), str(bad)] + (
        ["--publish"] if publish else []
    )
    with pytest.raises(CommandError) as raised:
        run(*args)
    message = str(raised.value)
    where = f"{path} (node {node_id!r})" if node_id else path
    assert f"{bad}: {where}: " in message
    assert reason in message
    assert message.startswith("Nothing was imported: 1 error(s).")
    assert str(good_new) not in message
    assert snapshot() == existing
    assert counts() == (1, 1, 1)


def test_the_same_bad_file_is_fine_as_a_draft_when_only_publishing_would_fail(tmp_path):
    definition = flow(say("hi", "bye"), hangup(), hangup("lost"), slug="drafty")
    out = run("import_flows", str(write(tmp_path, "drafty.json", definition)))
    assert "drafty (" in out and ": created" in out
    assert "warning: $.nodes[2] (node 'lost'): Node 'lost' cannot be reached" in out


def test_import_then_import_again_changes_nothing(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    write(folder, "a.json", simple_flow("a"))
    write(folder, "b.json", simple_flow("b"))
    out = run("import_flows", str(folder), "--publish")
    assert out.splitlines() == [
        f"a ({folder / 'a.json'}): created, published as version 1",
        f"b ({folder / 'b.json'}): created, published as version 1",
    ]
    before = snapshot()
    again = run("import_flows", str(folder), "--publish")
    assert again.splitlines() == [
        f"a ({folder / 'a.json'}): unchanged (published version 1)",
        f"b ({folder / 'b.json'}): unchanged (published version 1)",
    ]
    assert snapshot() == before


def test_dry_run_reports_and_writes_nothing(tmp_path):
    out = run(
        "import_flows", str(write(tmp_path, "a.json", simple_flow("a"))), "--dry-run", "--publish"
    )
    assert out.splitlines()[-1] == "Dry run: nothing was written."
    assert counts() == (0, 0, 0)


def test_import_paths_that_do_not_exist(tmp_path):
    with pytest.raises(CommandError, match="nowhere.json: no such file or directory"):
        run("import_flows", str(tmp_path / "nowhere.json"))
    with pytest.raises(CommandError, match="the directory has no \\*.json files"):
        run("import_flows", str(tmp_path))


def test_export_gives_back_the_imported_file(tmp_path):
    source = ROOT / "fixtures" / "restaurant.json"
    run("import_flows", str(source), "--publish")
    exported = run("export_flow", "restaurant")
    assert json.loads(exported) == json.loads(source.read_text())
    if connection.vendor == "sqlite":  # PostgreSQL's jsonb keeps the content, not the key order
        assert exported == source.read_text()
    target = tmp_path / "out.json"
    run("export_flow", "restaurant", "--flow-version", "1", "-o", str(target))
    assert json.loads(target.read_text()) == json.loads(source.read_text())


def test_export_errors():
    with pytest.raises(CommandError, match="There is no flow 'ghost'"):
        run("export_flow", "ghost")
    services.flow_create(definition=simple_flow("a"))
    with pytest.raises(CommandError, match="Flow 'a' has no version 3"):
        run("export_flow", "a", "--flow-version", "3")


def test_bind_number_moves_a_number():
    services.flow_create(definition=simple_flow("a"))
    services.flow_create(definition=simple_flow("b"))
    assert run("bind_number", "+442079460001", "a").startswith("+442079460001 -> a\n")
    assert run("bind_number", "+442079460001", "b").startswith("+442079460001 -> b (was a)")
    assert list(PhoneNumber.objects.values_list("number", "flow__slug")) == [("+442079460001", "b")]


def test_bind_number_errors():
    services.flow_create(definition=simple_flow("a"))
    with pytest.raises(CommandError, match="not a valid phone number in E.164 form"):
        run("bind_number", "+4412", "a")
    with pytest.raises(CommandError, match="There is no flow 'ghost'"):
        run("bind_number", "+442079460001", "ghost")
    assert PhoneNumber.objects.count() == 0


def test_load_demo_is_idempotent():
    out = run("load_demo", "--demo-users", "--port", "8123")
    assert "Log in to the designer at http://127.0.0.1:8123/designer/" in out
    assert "supervisor / supervisor" in out
    slugs = set(Flow.objects.values_list("slug", flat=True))
    assert {"restaurant", "card-services", "complaints", "order-status"} <= slugs
    assert all(f.published_version_id for f in Flow.objects.all())
    assert PhoneNumber.objects.filter(number="+442079460001", flow__slug="restaurant").exists()
    assert PhoneNumber.objects.filter(number="+442079460004", flow__slug="order-status").exists()
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="supervisor").groups.filter(name="publisher").exists()
    assert User.objects.get(username="supervisor").check_password("supervisor")
    before = snapshot()
    again = run("load_demo", "--demo-users")
    assert "restaurant (" in again and "already there, left as it is" in again
    assert "already there, password unchanged" in again
    assert snapshot() == before and FlowVersion.objects.count() == len(slugs)


def test_load_demo_leaves_what_people_changed_alone():
    run("load_demo")
    restaurant = Flow.objects.get(slug="restaurant")
    edited = {**restaurant.definition, "name": "Our own restaurant line"}
    services.flow_update_draft(flow=restaurant, definition=edited, base_revision=1)
    numbers.number_bind(number="+442079460001", flow=Flow.objects.get(slug="complaints"))
    before = snapshot()
    out = run("load_demo")
    assert "+442079460001 -> complaints (already bound, left as it is)" in out
    assert snapshot() == before


def test_load_demo_with_a_broken_flow_changes_nothing(tmp_path):
    write(tmp_path, "good.json", simple_flow("good"))
    write(tmp_path, "broken.json", flow(say("hi", "gone"), slug="broken"))
    write(tmp_path, "numbers.json", [{"number": "+442079460001", "flow": "good"}])
    with pytest.raises(
        CommandError, match="broken.json: \\$.nodes\\[0\\].exits.next \\(node 'hi'\\)"
    ):
        run("load_demo", "--demo-users", "--fixtures", str(tmp_path))
    assert counts() == (0, 0, 0) and not User.objects.filter(username="admin").exists()


def test_load_demo_creates_no_account_unless_asked(settings):
    out = run("load_demo")
    assert "admin / admin" not in out and not User.objects.exists()
    assert Flow.objects.filter(slug="restaurant").exists()
    settings.SECURE_PROXY = True
    with pytest.raises(CommandError, match="--demo-users refused: SECURE_PROXY is set"):
        run("load_demo", "--demo-users")
    assert not User.objects.exists()


def test_load_demo_with_a_bad_number_changes_nothing(tmp_path):
    write(tmp_path, "good.json", simple_flow("good"))
    write(tmp_path, "numbers.json", [{"number": "0207 946 0001", "flow": "good"}])
    with pytest.raises(CommandError, match="numbers.json: \\$\\[0\\]: .*E.164"):
        run("load_demo", "--fixtures", str(tmp_path))
    assert counts() == (0, 0, 0)


def test_a_real_import_flows_process_fails_cleanly_and_changes_nothing(tmp_path):
    """Exit status and stderr as ops see them: a message, no traceback."""
    env = {
        **os.environ,
        "CALLFLOW_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert manage("migrate", "--no-input", "-v", "0").returncode == 0
    good = write(tmp_path, "good.json", simple_flow("good"))
    bad = write(tmp_path, "bad.json", flow(say("hi", "nowhere"), slug="bad"))
    failed = manage("import_flows", str(good), str(bad), "--publish")
    assert failed.returncode != 0
    assert (
        f"{bad}: $.nodes[0].exits.next (node 'hi'): Exit 'next' leads to 'nowhere'" in failed.stderr
    )
    assert "Traceback" not in failed.stderr + failed.stdout
    assert "There is no flow 'good'" in manage("export_flow", "good").stderr
    imported = manage("import_flows", str(good), "--publish")
    assert imported.returncode == 0, imported.stderr
    again = manage("import_flows", str(good), "--publish")
    assert "good (" in again.stdout and "unchanged (published version 1)" in again.stdout
