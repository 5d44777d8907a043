import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ivr_runtime.directory import directory_load


class Command(BaseCommand):
    help = "Load demo customers (PINs stored hashed) and agents with skills; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", default=str(settings.BASE_DIR / "fixtures" / "directory.json")
        )

    def handle(self, *args, path, **options):
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        loaded = directory_load(data=data)
        self.stdout.write(
            f"customers: {loaded.customers_created} created, {loaded.customers_updated} updated; "
            f"agents: {loaded.agents_created} created, {loaded.agents_updated} updated"
        )
