"""The lease and attempt module on the real database, for each model that uses it: claims,
stale outcomes, lease expiry and reconciliation, retries, deferrals, sweeps, policies."""

import itertools
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from flows.models import Flow
from ivr_runtime import attempts
from ivr_runtime.callbacks import callbacks
from ivr_runtime.models import (
    CallbackRequest,
    CallControl,
    CallSession,
    OutboundCall,
    OutboundMessage,
)
from ivr_runtime.sms import outbox
from ivr_runtime.voice import call_control, outbound

pytestmark = pytest.mark.django_db

PERSON = "+447700900123"
OURS = "+442079460102"
_serial = itertools.count()


def a_message(**fields):
    return OutboundMessage.objects.create(
        to=PERSON, from_number=OURS, body="Hello", idempotency_key=f"k{next(_serial)}", **fields
    )


def a_callback(**fields):
    return CallbackRequest.objects.create(number=PERSON, due_at=timezone.now(), **fields)


def an_outbound_call(**fields):
    flow = Flow.objects.create(slug=f"f{next(_serial)}", name="F", definition={})
    fields.setdefault("not_before", timezone.now() - timedelta(seconds=1))
    return OutboundCall.objects.create(flow=flow, to_number=PERSON, from_number=OURS, **fields)


def a_call_control(**fields):
    session = CallSession.objects.create(call_sid=f"CA{next(_serial):032d}", state={})
    fields.setdefault("due_at", timezone.now() - timedelta(seconds=1))
    return CallControl.objects.create(
        session=session, action=CallControl.Action.START_RECORDING, **fields
    )


KINDS = [
    pytest.param(outbox.OUTBOX, a_message, id="outbox"),
    pytest.param(callbacks.CALLBACKS, a_callback, id="callbacks"),
    pytest.param(outbound.OUTBOUND_CALLS, an_outbound_call, id="outbound-calls"),
    pytest.param(call_control.CALL_CONTROLS, a_call_control, id="call-controls"),
]
LOGGED = [p for p in KINDS if p.values[0].log]


def reload(row):
    return type(row).objects.get(pk=row.pk)


# --- claims ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_a_claim_takes_the_row_for_one_attempt_and_a_second_claim_is_refused(kind, make):
    now = timezone.now()
    row = make()
    attempt = attempts.attempt_claim(kind, pk=row.pk, now=now)
    assert attempt is not None
    assert (attempt.number, attempt.lost, attempt.counted, attempt.reconcile) == (
        1,
        False,
        True,
        False,
    )
    row = reload(row)
    assert (row.status, row.attempts, row.lease_until) == (kind.in_flight, 1, now + kind.lease())
    if kind.log:
        assert getattr(row, kind.log) == [{"n": 1, "at": now.isoformat(), "outcome": "started"}]
    for later in (now, now + kind.lease() - timedelta(seconds=1)):
        assert attempts.attempt_claim(kind, pk=row.pk, now=later) is None
    assert reload(row).attempts == 1


@pytest.mark.parametrize(("kind", "make"), KINDS)
@pytest.mark.parametrize(
    ("why", "fields"),
    [
        ("not due yet", lambda kind, now: {kind.due: now + timedelta(minutes=1)}),
        ("already finished", lambda kind, now: {"status": "failed"}),
        ("within its lease", lambda kind, now: {"status": kind.in_flight, "lease_until": now}),
    ],
)
def test_a_row_that_is_not_to_be_tried_now_is_not_claimed(kind, make, why, fields):
    now = timezone.now()
    row = make(**fields(kind, now))
    before = reload(row)
    assert attempts.attempt_claim(kind, pk=row.pk, now=now) is None, why
    after = reload(row)
    assert (after.status, after.attempts, after.lease_until) == (
        before.status,
        before.attempts,
        before.lease_until,
    )


@pytest.mark.parametrize(("kind", "make"), [p for p in KINDS if p.values[0].simulated])
def test_simulated_rows_are_never_claimed(kind, make):
    row = make(simulated=True)
    assert attempts.attempt_claim(kind, pk=row.pk, now=timezone.now()) is None
    assert reload(row).attempts == 0


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_a_row_that_is_gone_is_not_claimed(kind, make):
    row = make()
    type(row).objects.filter(pk=row.pk).delete()
    assert attempts.attempt_claim(kind, pk=row.pk, now=timezone.now()) is None


def test_a_held_row_stays_ready_without_an_attempt():
    kind = attempts.Leased(
        model=CallControl,
        ready=CallControl.Status.QUEUED,
        in_flight=CallControl.Status.WORKING,
        due="due_at",
        lease_seconds=lambda: 60,
        policy=lambda: attempts.Schedule((1,)),
        order=("due_at",),
        log=None,
        hold=lambda row, now: {"due_at": now + timedelta(hours=1), "last_error": "closed"},
    )
    now = timezone.now()
    row = a_call_control()
    assert attempts.attempt_claim(kind, pk=row.pk, now=now) is None
    row = reload(row)
    assert (row.status, row.attempts, row.due_at, row.last_error) == (
        "queued",
        0,
        now + timedelta(hours=1),
        "closed",
    )


# --- lease expiry and reconciliation -----------------------------------------------------------
@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_an_expired_lease_is_taken_over_and_reconciled_first(kind, make):
    first_at = timezone.now()
    row = make()
    first = attempts.attempt_claim(kind, pk=row.pk, now=first_at)
    expired = first_at + kind.lease() + timedelta(seconds=1)
    second = attempts.attempt_claim(kind, pk=row.pk, now=expired)
    assert second is not None and second.lost and second.reconcile
    assert second.since == first_at  # where the provider is searched from
    # taking over from a lost worker is a new attempt only where the model counts those
    assert second.counted is kind.count_lost
    assert second.number == (2 if kind.count_lost else 1) and first.number == 1
    row = reload(row)
    assert (row.status, row.lease_until) == (kind.in_flight, expired + kind.lease())
    if kind.log:
        lost, started = getattr(row, kind.log)
        assert (lost["outcome"], lost["error"]) == ("unknown", attempts.LOST)
        assert started == {"n": second.number, "at": expired.isoformat(), "outcome": "started"}


@pytest.mark.parametrize(("kind", "make"), LOGGED)
@pytest.mark.parametrize(
    ("last_outcome", "reconcile"), [("unknown", True), ("failed", False), ("deferred", False)]
)
def test_an_attempt_after_an_unknown_outcome_is_reconciled_first(
    kind, make, last_outcome, reconcile
):
    at = timezone.now() - timedelta(minutes=5)
    row = make(attempts=1, **{kind.log: [{"n": 1, "at": at.isoformat(), "outcome": last_outcome}]})
    attempt = attempts.attempt_claim(kind, pk=row.pk, now=timezone.now())
    assert (attempt.lost, attempt.reconcile) == (False, reconcile)
    assert attempt.since == (at if reconcile else None)


@pytest.mark.parametrize(("kind", "make"), LOGGED)
def test_after_several_unknown_outcomes_the_provider_is_searched_from_the_first(kind, make):
    """A lookup that failed leaves the attempt before it as unknown as it was."""
    now = timezone.now()
    log = [
        {"n": 1, "at": (now - timedelta(minutes=30)).isoformat(), "outcome": "failed"},
        {"n": 2, "at": (now - timedelta(minutes=20)).isoformat(), "outcome": "unknown"},
        {"n": 3, "at": (now - timedelta(minutes=10)).isoformat(), "outcome": "unknown"},
    ]
    row = make(attempts=3, **{kind.log: log})
    attempt = attempts.attempt_claim(kind, pk=row.pk, now=now)
    assert attempt.reconcile and attempt.since == now - timedelta(minutes=20)


# --- outcomes ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_a_stale_attempts_outcome_is_ignored(kind, make):
    now = timezone.now()
    row = make()
    stale = attempts.attempt_claim(kind, pk=row.pk, now=now)
    current = attempts.attempt_claim(kind, pk=row.pk, now=now + kind.lease() * 2)
    assert attempts.attempt_finish(kind, stale, status="failed", last_error="late") is None
    assert attempts.attempt_retry(kind, stale, now=now, last_error="late") is None
    assert attempts.attempt_defer(kind, stale, until=now) is None
    untouched = reload(row)
    assert (untouched.status, untouched.attempts, untouched.last_error) == (
        kind.in_flight,
        current.number,
        "",
    )
    finished = attempts.attempt_finish(kind, current, entry={"outcome": "done"}, status="failed")
    assert finished is not None and (finished.status, finished.lease_until) == ("failed", None)
    if kind.log:
        assert getattr(reload(row), kind.log)[-1]["outcome"] == "done"


@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_a_retry_puts_the_row_back_due_after_the_policys_delay(kind, make):
    now = timezone.now()
    row = make()
    attempt = attempts.attempt_claim(kind, pk=row.pk, now=now)
    delay = attempts.attempt_retry(
        kind, attempt, now=now, entry={"outcome": "failed"}, last_error="503"
    )
    assert delay == kind.policy().delay(1)
    row = reload(row)
    assert (row.status, row.attempts, row.lease_until, row.last_error) == (
        kind.ready,
        1,
        None,
        "503",
    )
    assert getattr(row, kind.due) == now + timedelta(seconds=delay)
    if kind.log:
        assert getattr(row, kind.log)[-1] == {
            "n": 1,
            "at": now.isoformat(),
            "outcome": "failed",
            "retry_in": delay,
        }
    assert attempts.attempt_claim(kind, pk=row.pk, now=now) is None  # an early duplicate
    assert attempts.attempt_claim(kind, pk=row.pk, now=now + timedelta(seconds=delay)).number == 2


@pytest.mark.parametrize(("kind", "make"), KINDS)
@pytest.mark.parametrize("lost", [False, True])
def test_a_deferred_attempt_is_given_back(kind, make, lost):
    now = timezone.now()
    row = make()
    attempt = attempts.attempt_claim(kind, pk=row.pk, now=now)
    if lost:
        attempt = attempts.attempt_claim(kind, pk=row.pk, now=now + kind.lease() * 2)
    slot = now + timedelta(minutes=10)
    assert attempts.attempt_defer(kind, attempt, until=slot) is not None
    row = reload(row)
    # the attempts before this one stay counted, this one does not
    assert (row.status, row.attempts, row.lease_until) == (kind.ready, 1 if lost else 0, None)
    assert getattr(row, kind.due) == slot


# --- the sweep --------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "make"), KINDS)
def test_the_sweep_lists_due_ready_rows_and_expired_leases_in_order(kind, make):
    now = timezone.now()
    due = make(**{kind.due: now - timedelta(seconds=2)})
    expired = make(status=kind.in_flight, lease_until=now - timedelta(seconds=1))
    make(**{kind.due: now + timedelta(seconds=30)})  # not yet
    make(status=kind.in_flight, lease_until=now + timedelta(seconds=30))  # its worker has it
    make(status="failed")
    if kind.simulated:
        make(simulated=True)
    assert attempts.attempt_sweep(kind, now=now, limit=10) == [due.pk, expired.pk]
    assert attempts.attempt_sweep(kind, now=now, limit=1) == [due.pk]
    # a condition on the ready rows leaves the expired leases alone
    assert attempts.attempt_sweep(kind, now=now, limit=10, ready_also=Q(pk=0)) == [expired.pk]


def test_a_ready_row_whose_due_field_is_empty_is_due_at_once():
    message = a_message(next_attempt_at=None)
    assert attempts.attempt_sweep(outbox.OUTBOX, now=timezone.now(), limit=10) == [message.pk]


# --- policies ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "delays", "last_allowed"),
    [
        (attempts.Backoff(base=10, cap=60, max_attempts=3), [10, 20, 40, 60, 60], 2),
        (attempts.Backoff(base=1, cap=900, max_attempts=1), [1, 2, 4, 8, 16], 0),
        (attempts.Schedule((1, 2, 4, 8, 15)), [1, 2, 4, 8, 15, 15], 5),
        (attempts.Schedule((10, 20)), [10, 20, 20, 20, 20], 2),
        (attempts.Schedule((900,), max_attempts=3), [900, 900, 900, 900], 2),
    ],
)
def test_policy_delays_and_limits(policy, delays, last_allowed):
    assert [policy.delay(n) for n in range(1, len(delays) + 1)] == delays
    assert [n for n in range(1, 10) if policy.allows(n)] == list(range(1, last_allowed + 1))


def test_a_schedule_needs_a_delay():
    with pytest.raises(ValueError):
        attempts.Schedule(())


@pytest.mark.parametrize(
    ("kind", "configured", "delays", "max_attempts"),
    [
        (
            outbox.OUTBOX,
            {"SMS_RETRY_BASE_DELAY": 5, "SMS_RETRY_MAX_DELAY": 30, "SMS_MAX_ATTEMPTS": 4},
            [5, 10, 20, 30],
            4,
        ),
        (
            callbacks.CALLBACKS,
            {"CALLBACK_RETRY_MINUTES": 2, "CALLBACK_MAX_ATTEMPTS": 2},
            [120, 120, 120],
            2,
        ),
        (outbound.OUTBOUND_CALLS, {"OUTBOUND_RETRY_DELAYS": (3, 7)}, [3, 7, 7], 3),
        (call_control.CALL_CONTROLS, {"CALL_CONTROL_RETRY_DELAYS": (1, 5)}, [1, 5, 5], 3),
    ],
    ids=["outbox", "callbacks", "outbound-calls", "call-controls"],
)
def test_each_policy_comes_from_its_settings(settings, kind, configured, delays, max_attempts):
    for name, value in configured.items():
        setattr(settings, name, value)
    policy = kind.policy()
    assert [policy.delay(n) for n in range(1, len(delays) + 1)] == delays
    assert policy.allows(max_attempts - 1) and not policy.allows(max_attempts)


@pytest.mark.parametrize(
    ("kind", "setting"),
    [
        (outbox.OUTBOX, "SMS_SEND_LEASE_SECONDS"),
        (callbacks.CALLBACKS, "CALLBACK_LEASE_SECONDS"),
        (outbound.OUTBOUND_CALLS, "OUTBOUND_LEASE_SECONDS"),
        (call_control.CALL_CONTROLS, "CALL_CONTROL_LEASE_SECONDS"),
    ],
    ids=["outbox", "callbacks", "outbound-calls", "call-controls"],
)
def test_each_lease_comes_from_its_setting(settings, kind, setting):
    setattr(settings, setting, 42)
    assert kind.lease() == timedelta(seconds=42)
