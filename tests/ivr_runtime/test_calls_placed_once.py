"""Outbound calls and callbacks are placed once, whatever the provider's answers: an
attempt whose answer was lost is looked up before another call is placed, and is never
failed while the call may be ringing; a lookup that fails places nothing and does not
count; the lookup allows for the provider's clock running behind ours, and never takes a
call another row of ours placed for this row's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from ivr_runtime.callbacks import callbacks
from ivr_runtime.models import CallbackRequest, CallSession, OutboundCall
from ivr_runtime.voice import outbound
from tests.fakes.twilio_api import FakeTwilio

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db

OURS = "+442079460102"
PERSON = "+447700900123"
PUBLIC = "https://ivr.example.com"
BYE = {"id": "bye", "type": "hangup", "config": {}, "exits": {}}


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_HTTP_TIMEOUT = 0.5
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.OUTBOUND_CALLS_PER_SECOND = 1000
    # two attempts each: the second is the last
    settings.OUTBOUND_RETRY_DELAYS = [30]
    settings.CALLBACK_MAX_ATTEMPTS = 2
    yield fake
    fake.release()
    fake.stop()


@dataclass(frozen=True)
class Placer:
    """One kind of call we place: how a row is made, placed, and made due again."""

    make: Callable[..., models.Model]
    place: Callable[[int], Any]
    due: Callable[[models.Model], None]
    ready: str


def an_outbound_call(**fields: Any) -> OutboundCall:
    version = publish(flow_definition("reminders", [BYE]), OURS)
    return OutboundCall.objects.create(
        flow=version.flow,
        to_number=PERSON,
        from_number=OURS,
        not_before=timezone.now() - timedelta(seconds=1),
        **fields,
    )


def a_callback(**fields: Any) -> CallbackRequest:
    version = publish(flow_definition("bank", [BYE]), OURS)
    return CallbackRequest.objects.create(
        number=PERSON, due_at=timezone.now(), flow=version.flow, from_number=OURS, **fields
    )


PLACERS = [
    pytest.param(
        Placer(
            make=an_outbound_call,
            place=lambda pk: outbound.outbound_place(call_id=pk),
            due=lambda row: OutboundCall.objects.filter(pk=row.pk).update(
                not_before=timezone.now() - timedelta(seconds=1)
            ),
            ready=OutboundCall.Status.QUEUED,
        ),
        id="outbound-call",
    ),
    pytest.param(
        Placer(
            make=a_callback,
            place=lambda pk: callbacks.callback_place(callback_id=pk, now=timezone.now()),
            due=lambda row: CallbackRequest.objects.filter(pk=row.pk).update(next_attempt_at=None),
            ready=CallbackRequest.Status.PENDING,
        ),
        id="callback",
    ),
]


def sid_of(row) -> str:
    return row.call_sid if isinstance(row, OutboundCall) else row.provider_sid


def answer_lost(twilio, placer: Placer, row, *, accept: bool = True):
    """An attempt whose request reached the provider (which placed the call if `accept`)
    but whose answer never came back: a read timeout."""
    twilio.hold_next(accept=accept)
    row = placer.place(row.pk)
    twilio.release()
    assert row.status == placer.ready, row.last_error
    assert row.attempt_log[-1]["outcome"] == "unknown"
    placer.due(row)
    return row


@pytest.mark.parametrize("placer", PLACERS)
def test_a_call_whose_answer_was_lost_is_looked_up_not_placed_again(twilio, placer):
    row = answer_lost(twilio, placer, placer.make())
    row = placer.place(row.pk)
    [made] = twilio.created_calls()
    assert (row.status, sid_of(row)) == ("placed", made["sid"])
    assert row.attempt_log[-1] == {**row.attempt_log[-1], "outcome": "found at the provider"}
    assert len(twilio.calls()) == 1 and twilio.lists()


@pytest.mark.parametrize("placer", PLACERS)
def test_an_answer_lost_on_the_last_attempt_is_looked_up_not_failed(twilio, placer):
    row = answer_lost(twilio, placer, placer.make(attempts=1))
    assert row.attempts == 2
    row = placer.place(row.pk)
    [made] = twilio.created_calls()
    assert (row.status, sid_of(row)) == ("placed", made["sid"])
    assert len(twilio.calls()) == 1


@pytest.mark.parametrize("placer", PLACERS)
def test_a_last_attempt_the_provider_never_had_fails_once_looked_up(twilio, placer):
    row = answer_lost(twilio, placer, placer.make(attempts=1), accept=False)
    row = placer.place(row.pk)
    assert row.status == "failed"
    assert row.last_error == "gave up after 2 attempts, none found at the provider"
    assert twilio.created_calls() == [] and len(twilio.lists()) == 1


@pytest.mark.parametrize("placer", PLACERS)
def test_a_failed_lookup_places_nothing_counts_nothing_and_the_next_finds_the_call(twilio, placer):
    row = answer_lost(twilio, placer, placer.make())
    twilio.fail_list_next(500)
    row = placer.place(row.pk)
    assert row.status == placer.ready and row.attempts == 1
    assert (row.attempt_log[-1]["outcome"], row.attempt_log[-1]["step"]) == ("unknown", "lookup")
    assert row.attempt_log[-1]["error"].startswith("lookup failed: ")
    placer.due(row)
    row = placer.place(row.pk)  # looks from the first unknown attempt, not the lookup's
    [made] = twilio.created_calls()
    assert (row.status, sid_of(row)) == ("placed", made["sid"])
    assert len(twilio.calls()) == 1


@pytest.mark.parametrize("placer", PLACERS)
def test_a_provider_clock_behind_ours_does_not_hide_the_call(twilio, placer):
    twilio.clock_behind = 5
    row = answer_lost(twilio, placer, placer.make())
    row = placer.place(row.pk)
    [made] = twilio.created_calls()
    assert (row.status, sid_of(row)) == ("placed", made["sid"])
    assert len(twilio.calls()) == 1


@pytest.mark.parametrize("placer", PLACERS)
def test_a_call_another_row_placed_to_the_same_person_is_not_taken_for_this_ones(twilio, placer):
    lost = answer_lost(twilio, placer, placer.make(), accept=False)  # never reached them
    other = placer.place(placer.make().pk)  # the same person, from the same number
    assert other.status == "placed"
    lost = placer.place(lost.pk)
    assert lost.status == "placed" and sid_of(lost) != sid_of(other)
    assert len(twilio.created_calls()) == 2
    assert lost.attempt_log[-1]["outcome"] == "placed"


def test_a_placed_outbound_call_holds_its_sid_through_its_session(twilio):
    """What makes a call ours for the lookup: its session (outbound) or row (callbacks)."""
    call = outbound.outbound_place(call_id=an_outbound_call().pk)
    assert CallSession.objects.filter(call_sid=call.call_sid).exists()
    assert call.attempt_log == [
        {**call.attempt_log[0], "n": 1, "outcome": "placed", "sid": call.call_sid}
    ]
