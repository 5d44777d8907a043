import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from flows.imports import ImportFailed, ImportSource, flows_import
from flows.models import Flow, PhoneNumber
from flows.numbers import InvalidNumber, number_bind
from flows.roles import PUBLISHER, VIEWER
from flows.spec import jsontext

from ._support import import_failed_message, report_lines

#: (username, password, superuser, role) of the demo accounts; existing users are left alone
DEMO_USERS = [
    ("admin", "admin", True, None),
    ("supervisor", "supervisor", False, PUBLISHER),
    ("viewer", "viewer", False, VIEWER),
]


class Command(BaseCommand):
    help = (
        "Load the demo: import and publish the flows in fixtures/, bind the demo numbers "
        "(fixtures/numbers.json) and create demo users. Safe to run again: flows, numbers "
        "and users that already exist are left as they are (use import_flows to refresh a flow)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixtures", default=str(settings.BASE_DIR / "fixtures"), help="the demo folder"
        )
        parser.add_argument(
            "--demo-users",
            action="store_true",
            help=(
                "also create the demo accounts (admin/admin ...): their passwords are public, "
                "so only `make run` asks for them, and never with SECURE_PROXY set"
            ),
        )
        parser.add_argument(
            "--port", default=os.environ.get("PORT", "8000"), help="the port in the login hint"
        )

    def handle(self, *args, fixtures, port, demo_users, **options):
        if demo_users and settings.SECURE_PROXY:
            raise CommandError(
                "--demo-users refused: SECURE_PROXY is set (a production set-up), and the demo "
                "accounts' passwords are public. Create real accounts with createsuperuser."
            )
        folder = Path(fixtures)
        demos, numbers = _read_fixtures(folder)
        existing = set(
            Flow.objects.filter(slug__in=[slug for _, slug in demos]).values_list("slug", flat=True)
        )
        sources = [source for source, slug in demos if slug not in existing]
        try:
            with transaction.atomic():
                report = flows_import(sources=sources, publish=True)
                bound = _bind_numbers(numbers, folder)
                users = _create_users() if demo_users else set()
        except ImportFailed as exc:
            raise CommandError(import_failed_message(exc)) from exc
        for line in report_lines(report):
            self.stdout.write(line)
        for source, slug in demos:
            if slug in existing:
                self.stdout.write(f"{slug} ({source.name}): already there, left as it is")
        for line in bound:
            self.stdout.write(line)
        if not demo_users:
            return
        self.stdout.write("")
        self.stdout.write(f"Log in to the designer at http://127.0.0.1:{port}/designer/")
        for username, password, superuser, role in DEMO_USERS:
            state = "created" if username in users else "already there, password unchanged"
            what = "superuser, also the admin at /admin/" if superuser else f"role {role}"
            self.stdout.write(f"  {username} / {password}  ({what}; {state})")


def _read_fixtures(folder: Path) -> tuple[list[tuple[ImportSource, str | None]], list]:
    """The demo flows with their slugs (None when unreadable), and the numbers to bind."""
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such directory.")
    demos: list[tuple[ImportSource, str | None]] = []
    numbers: list = []
    for path in sorted(folder.glob("*.json")):
        if path.name == "numbers.json":
            try:
                numbers = jsontext.loads(path.read_bytes())
            except ValueError as exc:
                raise CommandError(f"{path}: not valid JSON: {exc}") from exc
            continue
        text = path.read_bytes()
        name = os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
        try:
            data = jsontext.loads(text)
        except ValueError:
            demos.append((ImportSource(name, text), None))  # the import says what is wrong
            continue
        # other JSON fixtures (recorded webhooks...) are not flows
        if isinstance(data, dict) and {"format", "slug", "nodes"} & set(data):
            slug = data.get("slug")
            demos.append((ImportSource(name, text), slug if isinstance(slug, str) else None))
    if not demos:
        raise CommandError(f"{folder}: no demo flows (*.json) found.")
    return demos, numbers


def _bind_numbers(numbers: list, folder: Path) -> list[str]:
    lines = []
    for i, entry in enumerate(numbers):
        where = f"{folder / 'numbers.json'}: $[{i}]"
        if not isinstance(entry, dict) or not {"number", "flow"} <= set(entry):
            raise CommandError(f'{where}: expected {{"number": "+E164", "flow": "slug"}}.')
        bound = PhoneNumber.objects.select_related("flow").filter(number=entry["number"]).first()
        if bound is not None:
            lines.append(f"{bound.number} -> {bound.flow.slug} (already bound, left as it is)")
            continue
        flow = Flow.objects.filter(slug=entry["flow"]).first()
        if flow is None:
            raise CommandError(f"{where}: there is no flow {entry['flow']!r}.")
        try:
            number_bind(number=entry["number"], flow=flow, label=entry.get("label"))
        except InvalidNumber as exc:
            raise CommandError(f"{where}: {exc}") from exc
        lines.append(f"{entry['number']} -> {flow.slug}")
    return lines


def _create_users() -> set[str]:
    created = set()
    for username, password, superuser, role in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        if superuser:
            User.objects.create_superuser(username=username, password=password, email="")
        else:
            user = User.objects.create_user(username=username, password=password)
            user.groups.add(Group.objects.get(name=role))
        created.add(username)
    return created
