"""Property-based: any sequence of caller events through the demo flows keeps the engine sane."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from flows.nodes.runtime import (
    CallInfo,
    Dial,
    Enqueue,
    Event,
    Gather,
    Hangup,
    HttpResult,
    LoadFlow,
    Record,
    Redirect,
    ReserveAgent,
)
from ivr_runtime import engine
from ivr_runtime.twilio import twiml

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
DEMOS = ["restaurant", "card-services", "complaints", "order-status", "shared-auth"]
DEFINITIONS = {
    name: engine.index_definition(f"v{i}", json.loads((FIXTURES / f"{name}.json").read_text()))
    for i, name in enumerate(DEMOS, 1)
}
BY_SLUG = {d.slug: d.key for d in DEFINITIONS.values()}
ALL = {d.key: d for d in DEFINITIONS.values()}
CALL = CallInfo(sid="CA1", caller="+447700900123", to="+442079460002")
CUSTOMER = {
    "id": 1,
    "name": "Ada Lovelace",
    "first_name": "Ada",
    "tier": "gold",
    "account": "12345678",
}

events = st.one_of(
    st.builds(
        lambda d: Event(kind="input", digits=d), st.text(alphabet="0123456789*#a ", max_size=12)
    ),
    st.builds(lambda s: Event(kind="input", speech=s), st.text(max_size=40)),
    st.builds(
        lambda s: Event(kind="dial", dial_status=s),
        st.sampled_from(["completed", "busy", "no-answer", "failed", "", "x"]),
    ),
    st.builds(
        lambda r: Event(kind="queue", queue_result=r),
        st.sampled_from(["bridged", "leave", "hangup", "error", ""]),
    ),
    st.builds(
        lambda n: Event(
            kind="record", recording_url="https://r.example/1" if n else "", recording_duration=n
        ),
        st.integers(0, 200),
    ),
    st.just(Event(kind="hangup")),
)


def answer(request, coin):
    if isinstance(request, LoadFlow):
        return BY_SLUG.get(request.slug)
    if isinstance(request, ReserveAgent):
        return {"id": 1, "name": "Sam", "number": "+442079460201"} if coin else None
    if hasattr(request, "url"):
        return HttpResult(
            ok=coin,
            status=200 if coin else 500,
            data={"balance": "1", "open_orders": 2} if coin else None,
        )
    return CUSTOMER if coin else None


@given(
    flow=st.sampled_from(DEMOS[:4]),  # shared-auth runs inside complaints
    script=st.lists(events, max_size=12),
    coins=st.lists(st.booleans(), min_size=20, max_size=20),
    minutes=st.integers(0, 60 * 24 * 7),
)
@hsettings(max_examples=150, deadline=None)
def test_any_event_sequence(flow, script, coins, minutes):
    now = datetime(2026, 11, 23, tzinfo=UTC) + timedelta(minutes=minutes)
    state = engine.State.new(DEFINITIONS[flow].key)
    flips = iter(coins * 10)
    for event in [Event(kind="start"), *script]:
        for _ in range(10):
            outcome = engine.advance(definitions=ALL, state=state, event=event, now=now, call=CALL)
            twiml.to_xml(outcome.commands)  # always renderable
            state = outcome.state
            if outcome.request is None:
                break
            event = Event(kind="effect", result=answer(outcome.request, next(flips)))
        assert outcome.request is None
        assert not outcome.errors, outcome.errors  # the demo flows never fail
        if state.ended:
            assert not state.waiting
            break
        assert state.waiting in ("input", "dial", "queue", "record")
        last = outcome.commands[-1] if outcome.commands else None
        expected = {"input": Gather, "dial": Dial, "queue": Enqueue, "record": Redirect}[
            state.waiting
        ]
        assert isinstance(last, expected), (state.waiting, outcome.commands)
        if state.waiting == "record":
            assert isinstance(outcome.commands[-2], Record)
        assert all(getattr(c, "seq", state.seq) == state.seq for c in outcome.commands)
    if state.ended and outcome.commands:
        assert (
            isinstance(outcome.commands[-1], Hangup)
            or event.kind == "hangup"
            or event.kind == "queue"
        )
