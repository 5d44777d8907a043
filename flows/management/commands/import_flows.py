from django.core.management.base import BaseCommand, CommandError

from flows.imports import ImportFailed, flows_import

from ._support import import_failed_message, read_sources, report_lines


class Command(BaseCommand):
    help = (
        "Import callflow/1 flow definitions, Twilio Studio or Amazon Connect exports "
        "(converted; the report says, per node, what converted, what was approximated and "
        "what is left as a placeholder), as files or directories of *.json. All or nothing: "
        "on any error nothing changes. Importing the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="a .json file or a directory of them"
        )
        parser.add_argument(
            "--publish", action="store_true", help="also publish every imported draft"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )
        parser.add_argument(
            "--allow-placeholders",
            action="store_true",
            help="with --publish, also publish flows that still have placeholder nodes "
            "(calls reaching one run the fallback)",
        )

    def handle(self, *args, paths, publish, dry_run, allow_placeholders, **options):
        sources = read_sources(paths)
        try:
            report = flows_import(
                sources=sources,
                publish=publish,
                dry_run=dry_run,
                allow_placeholders=allow_placeholders,
            )
        except ImportFailed as exc:
            raise CommandError(import_failed_message(exc)) from exc
        for line in report_lines(report):
            self.stdout.write(line)
