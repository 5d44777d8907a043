"""The webhook watchdog in this process (on either database): a turn that waits on a lock
another connection holds is interrupted, the fallback gets its second, the caller hears
the apology well before the lock's own timeout; where signals cannot reach the webhook
(another thread) or SIGALRM belongs to someone else, it arms nothing."""

import signal
import threading
import time

import pytest
from django.db import connection, transaction

from ivr_runtime.models import CallSession
from ivr_runtime.twilio import twiml
from ivr_runtime.voice import watchdog
from tests.ivr_runtime.conftest import publish, two_menus
from tests.worker import database_restored_after  # noqa: F401 (fixture)

NUMBER = "+442079460156"


def hold_the_call(call_sid: str, held: threading.Event, release: threading.Event) -> None:
    """Another connection locks the call's row (all of SQLite) until told to let go."""
    try:
        with transaction.atomic():
            list(CallSession.objects.select_for_update().filter(call_sid=call_sid))
            held.set()
            release.wait(20)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after")
def test_a_turn_stuck_on_a_lock_is_answered_by_the_watchdog(place_call, settings):
    settings.WEBHOOK_DEADLINE_SECONDS = 2  # the watchdog fires at 1.8 s, then at 1.95 s
    publish(two_menus("stuck"), NUMBER)
    call = place_call(NUMBER)
    held, release = threading.Event(), threading.Event()
    locker = threading.Thread(target=hold_the_call, args=(call.sid, held, release))
    locker.start()
    try:
        assert held.wait(10)
        started = time.perf_counter()
        call.press("1")
        seconds = time.perf_counter() - started
    finally:
        release.set()
        locker.join(10)
    # the lock's own bound (DB_STATEMENT_TIMEOUT_SECONDS, 5 s) is not waited out
    assert 1.7 < seconds < 2.3, f"answered after {seconds:.2f}s"
    assert call.ended and call.heard[-1] == twiml.UNAVAILABLE
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # disarmed once answered
    again = place_call(NUMBER)  # a fresh connection: calls work again
    assert again.waits_for == "Gather"


@pytest.mark.django_db
def test_an_answered_webhook_leaves_no_timer_running(place_call):
    publish(two_menus("quick"), NUMBER)
    assert place_call(NUMBER).waits_for == "Gather"
    assert signal.getsignal(signal.SIGALRM) == watchdog._watch.fire
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_armed_only_on_the_main_thread_and_left_armed_by_a_webhook_in_another():
    seen = []
    inside, leave = threading.Event(), threading.Event()

    def webhook():
        with watchdog.armed():
            seen.append(signal.getitimer(signal.ITIMER_REAL))
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=webhook)
    thread.start()
    assert inside.wait(5)
    assert seen == [(0.0, 0.0)]  # nothing armed for the thread's webhook
    with watchdog.armed():
        leave.set()  # the thread's webhook ends while the main thread's runs
        thread.join(5)
        with watchdog.armed():  # nested: the outermost block owns the timer
            pass
        remaining, interval = signal.getitimer(signal.ITIMER_REAL)
    assert remaining > 0 and interval == pytest.approx(watchdog.watchdog_seconds()[1])
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_sigalrm_handler_of_someone_else_is_left_alone():
    def theirs(signum, frame):
        raise AssertionError("not expected to fire")

    previous = signal.signal(signal.SIGALRM, theirs)
    try:
        with watchdog.armed():
            assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) is theirs
    finally:
        signal.signal(signal.SIGALRM, previous)
