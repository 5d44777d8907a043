import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from flows.models import Flow
from flows.services import VersionNotFound, flow_export, tests_document


class Command(BaseCommand):
    help = (
        "Print a flow's callflow/1 definition (the draft, or a published version) as JSON; "
        "with --tests, its tests as a callflow-test/1 file instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", metavar="SLUG")
        parser.add_argument(
            "--flow-version", type=int, metavar="N", help="a published version (default: the draft)"
        )
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
        )
        parser.add_argument(
            "--tests",
            action="store_true",
            help="the flow's tests (callflow-test/1), to keep beside the flow file",
        )

    def handle(self, *args, slug, flow_version, output, tests, **options):
        flow = Flow.objects.filter(slug=slug).first()
        if flow is None:
            raise CommandError(f"There is no flow {slug!r}.")
        if tests and flow_version:
            raise CommandError("--tests exports the flow's tests, which have no versions.")
        try:
            document = (
                tests_document(flow)
                if tests
                else flow_export(flow=flow, version_number=flow_version)
            )
        except VersionNotFound as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"{output}: cannot be written: {exc.strerror}.") from exc
            what = "tests" if tests else f"version {flow_version}" if flow_version else "draft"
            self.stderr.write(f"Wrote {slug} ({what}) to {output}.")
        else:
            self.stdout.write(text, ending="")
