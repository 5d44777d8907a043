from django.core.management.base import BaseCommand, CommandError

from ivr_runtime.models import OutboundCall
from ivr_runtime.voice import outbound


def _var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise CommandError(f"--var {text!r}: NAME=VALUE expected")
    return name, value


class Command(BaseCommand):
    help = (
        "Place an outbound call to +E164 that runs the published version of the flow SLUG "
        "when answered (as POST /api/flows/SLUG/calls/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", metavar="SLUG")
        parser.add_argument("to", metavar="+E164")
        parser.add_argument(
            "--from", dest="from_", metavar="+E164", help="one of our numbers (default: the flow's)"
        )
        parser.add_argument(
            "--var", action="append", default=[], metavar="NAME=VALUE", help="a var of the flow"
        )
        parser.add_argument("--machine-detection", action="store_true")

    def handle(self, *args, slug, to, from_, var, machine_detection, **options):
        variables = dict(_var(text) for text in var)
        try:
            call = outbound.outbound_request(
                flow_slug=slug,
                to=to,
                from_=from_,
                variables=variables,
                machine_detection=machine_detection,
            )
        except outbound.Refused as exc:
            raise CommandError(f"{exc.field}: {exc}" if exc.field else str(exc)) from exc
        if call.status == OutboundCall.Status.FAILED:
            raise CommandError(f"Twilio refused the call: {call.last_error}")
        if call.status == OutboundCall.Status.PLACED:
            self.stdout.write(f"{call.call_sid}: calling {call.to_number} from {call.from_number}")
        else:
            self.stdout.write(
                f"queued (outbound call {call.pk}): {call.to_number} is called at the rate of "
                "OUTBOUND_CALLS_PER_SECOND"
            )
