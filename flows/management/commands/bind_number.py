from django.core.management.base import BaseCommand, CommandError

from flows.models import Flow, PhoneNumber
from flows.numbers import InvalidNumber, number_bind


class Command(BaseCommand):
    help = "Calls and texts to the number (E.164, e.g. +442079460001) run the flow SLUG."

    def add_arguments(self, parser):
        parser.add_argument("number", metavar="+E164")
        parser.add_argument("slug", metavar="SLUG")
        parser.add_argument("--label", help="a note shown in the admin and the designer")

    def handle(self, *args, number, slug, label, **options):
        flow = Flow.objects.filter(slug=slug).first()
        if flow is None:
            raise CommandError(f"There is no flow {slug!r}.")
        before = PhoneNumber.objects.select_related("flow").filter(number=number).first()
        try:
            bound = number_bind(number=number, flow=flow, label=label)
        except InvalidNumber as exc:
            raise CommandError(str(exc)) from exc
        moved = f" (was {before.flow.slug})" if before and before.flow_id != flow.pk else ""
        self.stdout.write(f"{bound.number} -> {flow.slug}{moved}")
        if flow.published_version_id is None:
            self.stdout.write(
                f"Note: {flow.slug} is not published yet; calls get a polite message until it is."
            )
