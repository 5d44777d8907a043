"""The customer directory lookup of `authenticate`, and the PIN lockout around it.

`max_attempts` bounds the PINs tried in one call; across calls every PIN check that does
not let the caller in leaves a `PinFailure` row, keyed by the account and by the calling
number (From):

- an account with AUTH_LOCKOUT_FAILURES failures within AUTH_LOCKOUT_WINDOW_MINUTES is
  locked for AUTH_LOCKOUT_MINUTES (`Customer.locked_until`): no PIN, not even the right
  one, is accepted meanwhile;
- a calling number with AUTH_CALLER_MAX_FAILURES failures within the window gets no PIN
  accepted until its oldest failures leave the window, whatever accounts it tries;
- a PIN that matches deletes the account's failures.

A refused check answers None, as a wrong PIN does, and costs the same one hash (of the
account's own PIN where there is an account): the caller hears the same message, after
the same kind of delay, so nothing tells a lock from a wrong PIN. Each check runs a fixed
number of indexed statements: counts are bounded by their limit.

Simulated calls (the designer's simulator) count apart: their failures never lock a real
account nor limit a real caller, and are limited the same way among themselves (without a
stored lock: the window alone), so the simulator is no unlimited way to guess a PIN. A
real lock applies to simulated calls too. See docs/operations.md, "Caller authentication:
lockout".

The PIN check itself (a hash, deliberately slow) runs outside any transaction; the short
transactions before and after it only count, record and lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from flows.nodes.runtime import FindCustomer
from ivr_runtime.hashers import PIN_HASHER
from ivr_runtime.models import Customer, PinFailure

#: how many rows older than the window each recorded attempt deletes: more than it adds,
#: so the table holds little beyond the window's failures
PRUNE_BATCH = 20

_dummy_hash: str | None = None


@dataclass(frozen=True)
class Limits:
    failures: int  # per account; 0: no lock
    caller_failures: int  # per calling number; 0: no limit
    window: timedelta
    lock: timedelta

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            failures=max(0, int(settings.AUTH_LOCKOUT_FAILURES)),
            caller_failures=max(0, int(settings.AUTH_CALLER_MAX_FAILURES)),
            window=timedelta(minutes=float(settings.AUTH_LOCKOUT_WINDOW_MINUTES)),
            lock=timedelta(minutes=float(settings.AUTH_LOCKOUT_MINUTES)),
        )


@dataclass(frozen=True)
class _Admitted:
    locks: bool  # a failure now is the account's last one before the lock


def customer_find(request: FindCustomer, *, now: datetime | None = None) -> dict[str, Any] | None:
    """The customer's public fields, or None (unknown, inactive, wrong PIN, locked, limited)."""
    if request.pin is None:
        customer = _customers(request).first()
        return None if customer is None else customer.public()
    return _pin_check(request, request.pin, now or timezone.now())


def customer_unlock(*, customers: QuerySet[Customer]) -> int:
    """Lift the lock of these customers and forget their failures; how many were locked."""
    with transaction.atomic():
        ids = list(customers.values_list("pk", flat=True))
        PinFailure.objects.filter(customer__in=ids, simulated=False).delete()
        return Customer.objects.filter(pk__in=ids, locked_until__isnull=False).update(
            locked_until=None
        )


def customer_is_locked(customer: Customer, *, now: datetime | None = None) -> bool:
    return customer.locked_until is not None and customer.locked_until > (now or timezone.now())


def _customers(request: FindCustomer) -> QuerySet[Customer]:
    if not request.phone and not request.account:
        return Customer.objects.none()
    customers = Customer.objects.filter(active=True)
    if request.account:
        customers = customers.filter(account_number=request.account)
    if request.phone:
        customers = customers.filter(phone=request.phone)
    return customers


def _pin_check(request: FindCustomer, pin: str, now: datetime) -> dict[str, Any] | None:
    limits = Limits.from_settings()
    with transaction.atomic():
        # The account's row stays locked while its failures are counted and one is added,
        # so concurrent calls cannot all slip under the limit (PostgreSQL; SQLite's writers
        # take turns anyway).
        customer = _customers(request).select_for_update().first()
        admitted = _admit(customer, request, now, limits)
    matches = _verify(customer, pin)  # always one hash, whether or not it may count
    if admitted is None:
        return None
    # (atomic: on SQLite a write waits its turn at the gate rather than in the busy handler)
    if customer is not None and matches:
        with transaction.atomic():
            PinFailure.objects.filter(customer=customer, simulated=request.simulated).delete()
        return customer.public()
    if admitted.locks and customer is not None:
        with transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(locked_until=now + limits.lock)
    return None


def _admit(
    customer: Customer | None, request: FindCustomer, now: datetime, limits: Limits
) -> _Admitted | None:
    """Record the attempt before the PIN is checked (it counts as a failure until it
    matches), or refuse it (None, nothing recorded) when the account is locked or the number
    has reached its limit."""
    caller = (request.caller or "")[:64]
    since = now - limits.window
    if customer is not None and customer_is_locked(customer, now=now):
        return None
    if limits.caller_failures and (
        _count(
            PinFailure.objects.filter(caller=caller),
            request.simulated,
            since,
            limits.caller_failures,
        )
        >= limits.caller_failures
    ):
        return None
    account_failures = 0
    if customer is not None and limits.failures:
        # After a lock has run out, the account starts again from nothing.
        if customer.locked_until is not None and not request.simulated:
            since = max(since, customer.locked_until)
        failures = PinFailure.objects.filter(customer=customer)
        account_failures = _count(failures, request.simulated, since, limits.failures)
        if account_failures >= limits.failures:
            return None  # a simulated call's limit (a real account is locked before that)
    PinFailure.objects.create(customer=customer, caller=caller, simulated=request.simulated, at=now)
    _prune(now - limits.window)
    locks = (
        customer is not None
        and not request.simulated
        and limits.failures > 0
        and account_failures + 1 >= limits.failures
    )
    return _Admitted(locks=locks)


def _count(failures: QuerySet[PinFailure], simulated: bool, since: datetime, limit: int) -> int:
    """How many of these failures are in the window, counting no further than `limit`."""
    return failures.filter(simulated=simulated, at__gte=since).order_by()[:limit].count()


def _prune(before: datetime) -> None:
    old = PinFailure.objects.filter(at__lt=before).order_by("at")
    # SKIP LOCKED: two calls pruning at once take different rows instead of waiting on (or
    # deadlocking over) the same ones (PostgreSQL; SQLite has one writer at a time).
    batch = old.select_for_update(skip_locked=True).values("pk")[:PRUNE_BATCH]
    PinFailure.objects.filter(pk__in=Subquery(batch)).delete()


def _verify(customer: Customer | None, pin: str) -> bool:
    """Check the PIN against the customer's hash, or an unknown account against a dummy one:
    the same work either way, so the time taken does not tell them apart."""
    if customer is not None and customer.pin_hash:
        return customer.check_pin(pin)
    PIN_HASHER.verify(pin, _dummy())
    return False


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = PIN_HASHER.encode("0", PIN_HASHER.salt())
    return _dummy_hash
