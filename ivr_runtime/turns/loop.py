"""The one turn loop: a call or a text conversation advanced by an event until it waits for
the caller, ends, or needs a request made outside any transaction.

Every way a session moves goes through `turn_advance`: a voice webhook (voice.services),
the simulator (through the same services), a text (sms.sms_channel), a call or a
conversation ending (voice.call_end, sms.sms_channel.session_end). The engine is run here
and nowhere else. Channels differ only in their `Channel`: which effects become part of the
answer rather than being applied, how a request the engine makes inside the turn is
answered, and what happens at a wait the channel cannot have (a text cannot be put through
to an agent).

A round's steps and effects are saved before the turn answers a request of the engine
itself (the session row is inserted then if it is new), or by the caller with
`Progress.save_last`, once it has written the session: the
caller chooses whether that write is conditional (the optimistic voice turn) or under the
row's lock, and a turn that needs nothing more than the engine makes one write of the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flows.nodes.runtime import Command, Effect, Event, HttpRequest, HttpResult, Request, SendSms
from ivr_runtime import engine
from ivr_runtime.models import CallSession
from ivr_runtime.reports import outcomes
from ivr_runtime.turns import definitions, effects, sessions

#: rounds of one turn (each an engine run answered inside the turn) before it is a loop
MAX_ROUNDS = 50


class Channel:
    """How a channel differs in the loop; this one is a voice call's."""

    def split(
        self, session: CallSession, asked: list[Effect]
    ) -> tuple[list[Effect], list[SendSms]]:
        """(the effects to apply, the texts that are part of the answer instead)."""
        return list(asked), []

    def answer(
        self,
        request: Request,
        *,
        session: CallSession,
        loaded: dict[str, definitions.Loaded],
        state: engine.State,
    ) -> Any:
        """The answer to a request the engine made that the turn answers itself."""
        return effects.fulfil(request, session=session, loaded=loaded, pinned=state.subflows)

    def instead_of_waiting(self, state: engine.State) -> Event | None:
        """The event that answers a wait this channel cannot have at once, else None."""
        return None


VOICE = Channel()


@dataclass
class Round:
    """One engine run of the turn, and what the channel made of its effects."""

    outcome: engine.Outcome
    loaded: dict[str, definitions.Loaded]
    old_step: int
    apply: list[Effect]
    inline: list[SendSms]
    #: the HTTP request answered by the event the round ran on (the call's history)
    http: list[effects.HttpMade] = field(default_factory=list)


@dataclass
class Progress:
    """What a turn has produced so far, across its rounds and its requests made outside."""

    state: engine.State | None = None
    commands: list[Command] = field(default_factory=list)
    #: the waiting node's own commands (what a stale request is answered with again)
    wait_commands: list[Command] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    applied: effects.Applied = field(default_factory=effects.Applied)
    #: the request to make outside any transaction before the turn can go on
    request: Request | None = None
    #: the last round, not saved yet
    last: Round | None = None

    def write_with_last(
        self,
        session: CallSession,
        fields: list[str],
        *,
        expected: tuple[datetime, str] | None,
        now: datetime,
        bound_to: str | None = None,
    ) -> bool | None:
        """The write of the row (a new one's insert, or the conditional update) and the
        last round's steps in one statement where the store can
        (sessions.writes_in_one_statement), with its texts if it has no other effect (and
        the row exists: they refer to it): True or False as sessions.write(). None when
        the turn must be written the long way (save_last after the write, in a
        transaction). `bound_to`: as sessions.write_with_steps()."""
        last = self.last
        if not sessions.writes_in_one_statement() or last is None or last.http:
            return None
        steps = last.outcome.steps
        texts = effects.texts_only(session, last.apply, steps)
        if texts is None or (texts and (session.pk is None or not steps)):
            return None
        written = sessions.write_with_steps(
            session,
            fields,
            expected=expected,
            records=steps,
            loaded=last.loaded,
            old_step=last.old_step,
            now=now,
            texts=texts,
            bound_to=bound_to,
        )
        if written:
            self.last = None
            self.applied.messages.extend(message for message, _ in texts)
        return written

    def save_last(self, session: CallSession, now: datetime) -> None:
        """Save the last round's steps and effects (a new session's row first)."""
        last, self.last = self.last, None
        if last is None:
            return
        if session.pk is None:
            assert self.state is not None
            sessions.store_state(session, self.state)
            session.save()  # a new call's row first: steps and effects refer to it
        steps = sessions.save_steps(
            session, last.outcome.steps, last.loaded, old_step=last.old_step, now=now
        )
        effects.apply_effects(
            session=session,
            effects=last.apply,
            steps=steps,
            now=now,
            applied=self.applied,
        )
        if last.http:
            effects.save_http_requests(session, last.http)


def turn_advance(
    session: CallSession,
    event: Event,
    *,
    now: datetime,
    channel: Channel = VOICE,
    progress: Progress | None = None,
    answer_inside: bool = True,
) -> Progress:
    """Advance the session (its row as read, or locked) from `event`.

    Requests the engine makes are answered inside the turn (the database) unless they need
    the network, or `answer_inside` is False: the turn then stops with `progress.request`
    and, without `answer_inside`, nothing saved (the optimistic path goes on locked).
    """
    state = engine.State.from_dict(session.state)
    loaded = sessions.loaded_for(session, state)
    progress = progress if progress is not None else Progress()
    made = _http_made(progress.request, event, state, now)
    progress.request = None
    for _ in range(MAX_ROUNDS):
        old_step = state.step
        outcome = engine.advance(
            definitions={key: value.definition for key, value in loaded.items()},
            state=state,
            event=event,
            now=now,
            call=sessions.call_info(session),
        )
        state = progress.state = outcome.state
        track_outcome(session, outcome, loaded)
        apply, inline = channel.split(session, outcome.effects)
        progress.last = Round(outcome, loaded, old_step, apply, inline, made)
        made = []
        progress.rounds.append(progress.last)
        progress.commands.extend(outcome.commands)
        progress.errors.extend(outcome.errors)
        progress.wait_commands = list(outcome.wait_commands)
        request = outcome.request
        if request is None:
            instead = channel.instead_of_waiting(state)
            if instead is None:
                return progress
            progress.save_last(session, now)
            event = instead
            continue
        if not answer_inside or effects.needs_outside(request):
            progress.request = request
            return progress
        # the round is saved (a new call's row inserted) before the request is answered,
        # which may refer to the session (an agent reserved for it)
        progress.save_last(session, now)
        result = channel.answer(request, session=session, loaded=loaded, state=state)
        event = Event(kind="effect", result=result)
    raise RuntimeError(f"more than {MAX_ROUNDS} rounds in one turn of {session.call_sid}")


def _http_made(
    asked: Request | None, event: Event, state: engine.State, now: datetime
) -> list[effects.HttpMade]:
    """The HTTP request the turn went out for, when `event` brings back its answer."""
    if not isinstance(asked, HttpRequest) or event.kind != "effect":
        return []
    if not isinstance(event.result, HttpResult):
        return []
    took = timedelta(milliseconds=event.result.elapsed_ms or 0)
    return [effects.HttpMade(state.open_step, state.node or "", asked, event.result, now - took)]


def track_outcome(
    session: CallSession, outcome: engine.Outcome, loaded: dict[str, definitions.Loaded]
) -> None:
    """Fold a round's steps into what the call has reached, and set its outcome on the
    round that ends the flow (reports.outcomes); on the row, not saved (STATE_FIELDS)."""
    state = outcome.state

    def config_of(key: str, node_id: str) -> dict[str, Any] | None:
        source = loaded.get(key)
        node = source.definition.nodes.get(node_id) if source else None
        return node["config"] if node else None

    visits = outcomes.visits_of(outcome.steps, config_of)
    session.reached = outcomes.reached(
        session.reached, visits, fallbacks=state.fallbacks, fallback_sms=state.fallback_sms_sent
    )
    customer_id = (state.customer or {}).get("id")
    if isinstance(customer_id, int):
        session.customer_id = customer_id
    if state.ended and session.outcome == CallSession.Outcome.IN_PROGRESS:
        end = outcomes.ending(session.reached, visits, started=state.step > 0)
        session.outcome, session.outcome_node = end.outcome, end.node[:64]
