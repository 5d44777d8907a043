"""The call list as CSV, streamed row by row (a spreadsheet's columns, not the API's JSON)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from ivr_runtime.models import CallSession

COLUMNS = (
    "sid",
    "started_at",
    "ended_at",
    "duration",
    "flow",
    "version",
    "channel",
    "direction",
    "from",
    "to",
    "status",
    "outcome",
    "outcome_node",
    "customer_id",
    "customer",
    "account",
    "simulated",
)
#: rows read from the database at a time
CHUNK = 2000


def calls_csv_response(calls: QuerySet[CallSession]) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(calls_csv(calls), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
    return response


def calls_csv(calls: QuerySet[CallSession]) -> Iterator[str]:
    """The header, then one line per call."""
    line = _Line()
    writer = csv.writer(line)
    writer.writerow(COLUMNS)
    yield line.take()
    for call in calls.iterator(chunk_size=CHUNK):
        writer.writerow([_safe(value) for value in _row(call)])
        yield line.take()


def _row(call: CallSession) -> list[Any]:
    customer = call.customer
    return [
        call.call_sid,
        call.started_at.isoformat(),
        call.ended_at.isoformat() if call.ended_at else "",
        "" if call.duration is None else call.duration,
        call.flow.slug if call.flow else "",
        call.flow_version.number if call.flow_version else "",
        call.channel,
        call.direction,
        call.from_number,
        call.to_number,
        call.status,
        call.outcome,
        call.outcome_node,
        customer.pk if customer else "",
        customer.name if customer else "",
        customer.account_number if customer else "",
        "yes" if call.simulated else "no",
    ]


def _safe(value: Any) -> Any:
    """A text a spreadsheet would run as a formula, quoted (+44... stays a number)."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in "=@\t\r" or (value[0] in "+-" and not value[1:].isdigit()):
        return "'" + value
    return value


class _Line:
    """What csv.writer writes, taken a line at a time."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def take(self) -> str:
        text, self.text = self.text, ""
        return text
