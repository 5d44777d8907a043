"""Is anything sending? The worker's and beat's heartbeats, and the outbox's backlog.

Beat records a heartbeat each time it schedules the outbox sweep, the worker each time it
runs one (`callflow.celery` connects both to Celery's signals; the sweep runs every
OUTBOX_SWEEP_SECONDS): a row per process kind in the database (`Heartbeat`), written by
each process at most every HEARTBEAT_EVERY seconds, so that the web processes see the
workers wherever they run. With another broker than the embedded one, heartbeats are
judged once a worker or beat has been seen at all. The backlog is read from the database
too: texts due longer than OUTBOX_STUCK_SECONDS ago and not sent yet, and texts kept
unsent because no Twilio account is configured.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from ivr_runtime.models import Heartbeat, OutboundMessage
from ivr_runtime.sms.outbox import NOT_CONFIGURED

Status = OutboundMessage.Status
KINDS = ("beat", "worker")
#: seconds between two heartbeat writes of one process (one UPDATE)
HEARTBEAT_EVERY = 5.0
#: the most texts counted in a backlog (the count is a hint, not a report)
COUNT_LIMIT = 1000

_written: dict[str, float] = {}


def heartbeat_record(kind: str, *, force: bool = False) -> None:
    """This process (a worker or beat) is alive; cheap enough to call every second."""
    now = time.monotonic()
    if not force and kind in _written and now - _written[kind] < HEARTBEAT_EVERY:
        return
    _written[kind] = now
    Heartbeat.objects.update_or_create(
        kind=kind,
        defaults={
            "seen_at": timezone.now(),
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
        },
    )


def heartbeat_seen(kind: str) -> dict | None:
    """{"at": aware datetime, "pid", "host"} of the last heartbeat, or None."""
    seen = Heartbeat.objects.filter(kind=kind).values("seen_at", "pid", "host").first()
    return (
        None if seen is None else {"at": seen["seen_at"], "pid": seen["pid"], "host": seen["host"]}
    )


@dataclass(frozen=True)
class Problem:
    """One line of the banner: what is wrong, what it means, where to look."""

    kind: str
    text: str
    admin_filter: str = ""


@dataclass
class Health:
    now: datetime
    judged: bool
    seen: dict[str, datetime | None]
    stuck: int
    oldest_stuck: datetime | None
    unsent: int
    twilio_configured: bool
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _ago(now: datetime, then: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def stuck_messages(now: datetime) -> Q:
    """Texts the outbox should have sent by now: queued and due, or sending with a lease
    that expired, longer than OUTBOX_STUCK_SECONDS ago."""
    before = now - timedelta(seconds=settings.OUTBOX_STUCK_SECONDS)
    due_long_ago = Q(next_attempt_at__lte=before) | Q(
        next_attempt_at__isnull=True, created_at__lte=before
    )
    return (Q(status=Status.QUEUED) & due_long_ago) | Q(
        status=Status.SENDING, lease_until__lt=before
    )


def health_check(*, now: datetime | None = None) -> Health:
    now = now or timezone.now()
    seen = dict.fromkeys(KINDS)
    seen.update(Heartbeat.objects.filter(kind__in=KINDS).values_list("kind", "seen_at"))
    judged = settings.CELERY_BROKER_URL.startswith("filesystem:") or any(seen.values())
    real = OutboundMessage.objects.filter(simulated=False)
    backlog = real.filter(stuck_messages(now))
    stuck = backlog[:COUNT_LIMIT].count()
    oldest = backlog.aggregate(oldest=Min("created_at"))["oldest"] if stuck else None
    configured = bool(settings.TWILIO_REST_ENABLED)
    unsent = 0
    if not configured:
        kept = real.filter(status=Status.FAILED, error_code=NOT_CONFIGURED)
        unsent = kept[:COUNT_LIMIT].count()
    health = Health(now, judged, seen, stuck, oldest, unsent, configured)
    health.problems = _problems(health)
    return health


def _problems(health: Health) -> list[Problem]:
    now, problems = health.now, []
    stale = timedelta(
        seconds=max(
            settings.WORKER_STALE_SECONDS, 3 * settings.OUTBOX_SWEEP_SECONDS, 3 * HEARTBEAT_EVERY
        )
    )
    if health.judged:
        beat, worker = health.seen["beat"], health.seen["worker"]
        if beat is None or now - beat > stale:
            when = f"for {_ago(now, beat)}" if beat else "yet"
            problems.append(
                Problem(
                    "beat",
                    f"Celery beat has not been seen {when}: no text is handed to the workers "
                    "and no callback is placed. Is celery beat (or make run) running?",
                )
            )
        if worker is None or now - worker > stale:
            when = f"for {_ago(now, worker)}" if worker else "yet"
            problems.append(
                Problem(
                    "worker",
                    f"The Celery worker has not run the outbox sweep {when}: texts and "
                    "callbacks wait. Is a worker running, and can it reach the broker?",
                )
            )
    if health.stuck:
        oldest = f", the oldest for {_ago(now, health.oldest_stuck)}" if health.oldest_stuck else ""
        count = f"{health.stuck}+" if health.stuck >= COUNT_LIMIT else str(health.stuck)
        problems.append(
            Problem(
                "stuck",
                f"{count} text{'s' if health.stuck != 1 else ''} waiting in the outbox longer "
                f"than {int(settings.OUTBOX_STUCK_SECONDS)} s{oldest}.",
                "status__exact=queued",
            )
        )
    if not health.twilio_configured:
        kept = f"{health.unsent}+" if health.unsent >= COUNT_LIMIT else str(health.unsent)
        problems.append(
            Problem(
                "twilio",
                "No Twilio account is configured (TWILIO_ACCOUNT_SID): texts and callbacks are "
                f"kept as not sent ({kept} text{'s' if health.unsent != 1 else ''} so far).",
                f"error_code__exact={NOT_CONFIGURED}",
            )
        )
    return problems
