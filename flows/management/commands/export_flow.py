import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from flows.models import Flow
from flows.services import VersionNotFound, flow_export


class Command(BaseCommand):
    help = "Print a flow's callflow/1 definition (the draft, or a published version) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("slug", metavar="SLUG")
        parser.add_argument(
            "--flow-version", type=int, metavar="N", help="a published version (default: the draft)"
        )
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
        )

    def handle(self, *args, slug, flow_version, output, **options):
        flow = Flow.objects.filter(slug=slug).first()
        if flow is None:
            raise CommandError(f"There is no flow {slug!r}.")
        try:
            definition = flow_export(flow=flow, version_number=flow_version)
        except VersionNotFound as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(definition, indent=2, ensure_ascii=False) + "\n"
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"{output}: cannot be written: {exc.strerror}.") from exc
            self.stderr.write(
                f"Wrote {slug} ({'version ' + str(flow_version) if flow_version else 'draft'}) to {output}."
            )
        else:
            self.stdout.write(text, ending="")
