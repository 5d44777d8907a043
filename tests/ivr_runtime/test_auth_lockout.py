"""PIN guessing across calls: the account lock, the calling number's limit, through whole
signed calls (and the simulator, and the admin's unlock)."""

import queue
from datetime import timedelta

import pytest
from django.contrib.auth import hashers as django_hashers
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flows.nodes.runtime import FindCustomer
from ivr_runtime import auth_guard
from ivr_runtime.hashers import PIN_HASHER
from ivr_runtime.models import CallStep, Customer, PinFailure

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db

NUMBER = "+442079460177"
ATTACKER = "+15005550006"
ADA_PIN, BOB_PIN = "4321", "1111"


@pytest.fixture
def ada(db):
    customer = Customer(name="Ada Lovelace", phone="+447700900123", account_number="12345678")
    customer.set_pin(ADA_PIN)
    customer.save()
    return customer


@pytest.fixture
def bob(db):
    customer = Customer(name="Bob Byte", phone="+447700900999", account_number="87654321")
    customer.set_pin(BOB_PIN)
    customer.save()
    return customer


def auth_flow(max_attempts=3, method="account_pin"):
    return flow_definition(
        "lockout",
        [
            {
                "id": "auth",
                "type": "authenticate",
                "config": {"method": method, "max_attempts": max_attempts},
                "exits": {"success": "ok", "failure": "no"},
            },
            {
                "id": "ok",
                "type": "hangup",
                "config": {"text": "Hello {{ customer.first_name }}."},
                "exits": {},
            },
            {"id": "no", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
        ],
    )


@pytest.fixture
def flow(db):
    publish(auth_flow(), NUMBER)


def attempt(call, account, pin):
    """One account-and-PIN attempt; the TwiML answered to the PIN."""
    call.press(account).press(pin)
    return call.last_response


def exit_taken(call):
    return CallStep.objects.get(session__call_sid=call.sid, node_id="auth").exit


def lock_and_fail_five(place_call, customer, caller=ATTACKER):
    """5 wrong PINs across 2 calls (3 in the first, which fails; 2 in the second)."""
    first = place_call(NUMBER, caller=caller)
    for pin in ("0000", "0001", "0002"):
        attempt(first, customer.account_number, pin)
    assert first.heard[-1] == "Goodbye." and exit_taken(first) == "failure"
    second = place_call(NUMBER, caller=caller)
    for pin in ("0003", "0004"):
        attempt(second, customer.account_number, pin)
    customer.refresh_from_db()
    assert auth_guard.customer_is_locked(customer)
    return second


def test_five_wrong_pins_across_two_calls_lock_the_account(flow, ada, place_call):
    call = lock_and_fail_five(place_call, ada)
    ada.refresh_from_db()
    assert auth_guard.customer_is_locked(ada)
    lock = timedelta(minutes=30)  # AUTH_LOCKOUT_MINUTES
    assert abs(ada.locked_until - (timezone.now() + lock)) < timedelta(minutes=1)
    # The right PIN now fails as the third wrong one would: the same TwiML, the same exit.
    right = attempt(call, ada.account_number, ADA_PIN)
    assert call.heard[-1] == "Goodbye." and exit_taken(call) == "failure"
    wrong_call = place_call(NUMBER, caller="+447700900555")
    for pin in ("0005", "0006"):
        attempt(wrong_call, ada.account_number, pin)
    assert attempt(wrong_call, ada.account_number, "0007") == right
    # From another number too, and on a first attempt: the answer of an ordinary wrong PIN.
    fresh = place_call(NUMBER, caller="+447700900556")
    right_first = attempt(fresh, ada.account_number, ADA_PIN)
    assert "does not match" in fresh.heard[-2] and fresh.waits_for == "Gather"
    bob_like = Customer(name="Bob", account_number="55555555")
    bob_like.set_pin("9999")
    bob_like.save()
    ordinary = place_call(NUMBER, caller="+447700900557")
    assert attempt(ordinary, "55555555", "0000") == right_first


def test_the_lock_ends_after_the_lock_time(flow, ada, place_call):
    lock_and_fail_five(place_call, ada)
    assert place_call(NUMBER).press(ada.account_number).press(ADA_PIN).heard[-1] != "Hello Ada."
    # The lock time passes (the stored rows are moved back in time, as the clock would).
    Customer.objects.filter(pk=ada.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    past = timezone.now() - timedelta(minutes=31)
    PinFailure.objects.filter(customer=ada).update(at=past)
    call = place_call(NUMBER).press(ada.account_number).press(ADA_PIN)
    assert call.heard[-1] == "Hello Ada." and exit_taken(call) == "success"
    assert not PinFailure.objects.filter(customer=ada).exists()


def test_an_expired_lock_starts_the_account_from_nothing(flow, ada, place_call, settings):
    # A lock shorter than the window: its failures are still in the window when it ends.
    settings.AUTH_LOCKOUT_MINUTES = 5
    lock_and_fail_five(place_call, ada)
    # Six minutes pass: the lock has ended a minute ago, its failures are still in the window.
    failed_at = timezone.now() - timedelta(minutes=6)
    PinFailure.objects.update(at=failed_at)
    Customer.objects.filter(pk=ada.pk).update(locked_until=failed_at + timedelta(minutes=5))
    call = place_call(NUMBER, caller="+447700900555")
    attempt(call, ada.account_number, "0000")
    ada.refresh_from_db()
    assert not auth_guard.customer_is_locked(ada)
    assert attempt(call, ada.account_number, ADA_PIN) and call.heard[-1] == "Hello Ada."


def test_failures_outside_the_window_do_not_count(flow, ada, place_call):
    first = place_call(NUMBER, caller=ATTACKER)
    for pin in ("0000", "0001", "0002"):
        attempt(first, ada.account_number, pin)
    PinFailure.objects.update(at=timezone.now() - timedelta(minutes=16))  # the window is 15
    second = place_call(NUMBER, caller=ATTACKER)
    for pin in ("0003", "0004", "0005"):
        attempt(second, ada.account_number, pin)
    ada.refresh_from_db()
    assert not auth_guard.customer_is_locked(ada)
    # ...and are pruned as new failures come.
    assert PinFailure.objects.filter(at__lt=timezone.now() - timedelta(minutes=15)).count() == 0


def test_a_success_resets_the_account_failures(flow, ada, place_call):
    call = place_call(NUMBER)
    for pin in ("0000", "0001"):
        attempt(call, ada.account_number, pin)
    call = place_call(NUMBER)
    for pin in ("0002", "0003"):
        attempt(call, ada.account_number, pin)
    attempt(call, ada.account_number, ADA_PIN)
    assert call.heard[-1] == "Hello Ada."
    assert not PinFailure.objects.filter(customer=ada).exists()
    call = place_call(NUMBER)
    for pin in ("0004", "0005", "0006"):
        attempt(call, ada.account_number, pin)
    call = place_call(NUMBER)
    attempt(call, ada.account_number, "0007")
    assert attempt(call, ada.account_number, ADA_PIN) and call.heard[-1] == "Hello Ada."


def test_a_number_trying_many_accounts_is_limited(flow, ada, bob, place_call):
    # 10 failures (AUTH_CALLER_MAX_FAILURES) on 10 different accounts, none of them locked.
    accounts = [f"9000000{n}" for n in range(8)] + [ada.account_number, bob.account_number]
    calls = [place_call(NUMBER, caller=ATTACKER) for _ in range(4)]
    for n, account in enumerate(accounts):
        attempt(calls[n // 3], account, "0000")
    assert not Customer.objects.filter(locked_until__isnull=False).exists()
    # The number gets no PIN accepted now, whatever account, even the right PIN.
    call = calls[3]
    limited = attempt(call, bob.account_number, BOB_PIN)
    assert "does not match" in call.heard[-2] and "Hello" not in call.said
    assert PinFailure.objects.filter(caller=ATTACKER).count() == 10  # refused: not recorded
    # Bob calling from his own phone is not limited, and hears what the attacker heard.
    own = place_call(NUMBER, caller=bob.phone)
    attempt(own, bob.account_number, "0000")
    assert attempt(own, bob.account_number, "0001") == limited  # both a second attempt
    assert attempt(own, bob.account_number, BOB_PIN) and own.heard[-1] == "Hello Bob."


def test_the_number_limit_holds_for_the_pin_method(ada, place_call, settings):
    settings.AUTH_CALLER_MAX_FAILURES = 2
    publish(auth_flow(method="pin"), NUMBER)
    call = place_call(NUMBER, caller=ada.phone).press("0000").press("0001").press(ADA_PIN)
    assert call.heard[-1] == "Goodbye." and exit_taken(call) == "failure"
    PinFailure.objects.update(at=timezone.now() - timedelta(minutes=16))
    assert place_call(NUMBER, caller=ada.phone).press(ADA_PIN).heard[-1] == "Hello Ada."


def test_per_call_max_attempts_still_works(ada, place_call):
    publish(auth_flow(max_attempts=2), NUMBER)
    call = place_call(NUMBER)
    attempt(call, ada.account_number, "0000")
    assert "does not match" in call.heard[-2] and call.waits_for == "Gather"
    attempt(call, ada.account_number, "0001")
    assert call.ended and call.heard[-1] == "Goodbye." and exit_taken(call) == "failure"
    assert PinFailure.objects.filter(customer=ada).count() == 2
    assert place_call(NUMBER).press(ada.account_number).press(ADA_PIN).heard[-1] == "Hello Ada."


def simulate(api, body):
    response = api.post("/api/flows/lockout/simulate/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def simulated_attempt(api, account, pin, caller=ATTACKER):
    sid = simulate(api, {"source": "published", "from": caller, "event": {"type": "start"}})[
        "session"
    ]
    simulate(api, {"session": sid, "event": {"type": "digits", "digits": account}})
    return simulate(api, {"session": sid, "event": {"type": "digits", "digits": pin}})


def test_simulated_calls_never_lock_a_real_account(flow, ada, editor_api, place_call):
    for n in range(5):
        simulated_attempt(editor_api, ada.account_number, f"000{n}", caller=ada.phone)
    ada.refresh_from_db()
    assert ada.locked_until is None
    assert PinFailure.objects.filter(simulated=True).count() == 5
    # Real callers, from the same number too, are neither locked out nor limited.
    call = place_call(NUMBER, caller=ada.phone).press(ada.account_number).press(ADA_PIN)
    assert call.heard[-1] == "Hello Ada."
    # The simulator itself is limited the same way: no unlimited guessing through it.
    answer = simulated_attempt(editor_api, ada.account_number, ADA_PIN, caller=ada.phone)
    assert "Hello Ada." not in answer["prompts"] and "does not match" in " ".join(answer["prompts"])


def test_a_real_lock_holds_in_the_simulator_too(flow, ada, editor_api, place_call):
    lock_and_fail_five(place_call, ada)
    answer = simulated_attempt(editor_api, ada.account_number, ADA_PIN)
    assert "does not match" in " ".join(answer["prompts"])


def test_staff_see_the_lock_and_unlock_in_the_admin(flow, ada, bob, client, place_call):
    lock_and_fail_five(place_call, ada)
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get("/admin/ivr_runtime/customer/").content.decode()
    assert "Locked" in page and "unlock" in page
    assert (
        "Locked until"
        in client.get(f"/admin/ivr_runtime/customer/{ada.pk}/change/").content.decode()
    )
    response = client.post(
        "/admin/ivr_runtime/customer/",
        {"action": "unlock", "_selected_action": [ada.pk, bob.pk]},
        follow=True,
    )
    assert "1 account(s) unlocked" in response.content.decode()
    ada.refresh_from_db()
    assert ada.locked_until is None and not PinFailure.objects.filter(customer=ada).exists()
    assert place_call(NUMBER).press(ada.account_number).press(ADA_PIN).heard[-1] == "Hello Ada."


def check(ada, pin, caller=ATTACKER):
    request = FindCustomer(account=ada.account_number, pin=pin, caller=caller)
    return auth_guard.customer_find(request)


def test_each_check_runs_the_same_bounded_statements(ada, settings):
    settings.AUTH_CALLER_MAX_FAILURES = 50
    settings.AUTH_LOCKOUT_FAILURES = 50
    with CaptureQueriesContext(connection) as first:
        assert check(ada, "0000") is None
    for n in range(30):
        check(ada, f"1{n:03}")
    with CaptureQueriesContext(connection) as later:
        assert check(ada, "0001") is None
    assert len(later.captured_queries) == len(first.captured_queries)
    counts = [q["sql"] for q in later.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 2 and all("LIMIT" in sql.upper() for sql in counts)


def test_a_refused_check_costs_the_same_hash_as_a_wrong_pin(ada, bob, monkeypatch):
    """A locked account and an unknown one are each checked against a PIN hash too, so that
    how long the answer takes tells nothing (the hashes are counted, not timed)."""
    for n in range(5):
        check(ada, f"000{n}", caller=f"+4477009000{n:02}")
    ada.refresh_from_db()
    assert auth_guard.customer_is_locked(ada)
    auth_guard.customer_find(FindCustomer(account="1", pin="1", caller="+447700900600"))

    computed = []
    real = django_hashers.pbkdf2

    def counted(*args, **kwargs):
        computed.append(kwargs.get("iterations", args[2] if len(args) > 2 else None))
        return real(*args, **kwargs)

    monkeypatch.setattr(django_hashers, "pbkdf2", counted)

    def hashes(fn) -> list:
        computed.clear()
        fn()
        return list(computed)

    wrong = hashes(lambda: check(bob, "0000", caller="+447700900601"))
    locked = hashes(lambda: check(ada, ADA_PIN, caller="+447700900602"))
    unknown = hashes(
        lambda: auth_guard.customer_find(FindCustomer(account="1", pin="1", caller="+447700900603"))
    )
    assert wrong == [PIN_HASHER.iterations]
    assert locked == wrong and unknown == wrong


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_slip_under_the_limit():
    from .test_concurrency import in_threads

    ada = Customer(name="Ada Lovelace", account_number="12345678")
    ada.set_pin(ADA_PIN)
    ada.save()
    tries = queue.SimpleQueue()  # a wrong PIN from a number of its own, per thread
    for n in range(8):
        tries.put((f"{n:04}", f"+1500555{n:04}"))

    def guess():
        pin, caller = tries.get()
        return check(ada, pin, caller=caller)

    answers = in_threads(8, guess)
    assert answers == [None] * 8
    # Each attempt was counted before its PIN was checked: 5 failures, then refusals.
    assert PinFailure.objects.filter(customer=ada).count() == 5
    ada.refresh_from_db()
    assert auth_guard.customer_is_locked(ada)
