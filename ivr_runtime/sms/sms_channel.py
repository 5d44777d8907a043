"""The SMS channel: a flow run as a text conversation (`POST /ivr/sms`).

The same engine and session machinery as calls: a conversation is a CallSession with
`channel="sms"`, one per From+To while it is active, ended after SMS_SESSION_IDLE_MINUTES
without a message (the next text starts the flow again). What a node would say becomes
the reply's text; where a call would wait:

- a node that gathers input sends its prompt, with the lines its type adds
  (`NodeType.text_options`: a menu's options), and waits for the next text, which its type
  reads as keys or words (`NodeType.text_reply`: a menu matches it to an option, an
  `input` takes it as the value, YES or 1 accepting a read-back);
- `route` cannot connect a text: it takes `unavailable` (no agent is reserved);
- `voicemail` cannot record a text: it takes `empty`;
- an `sms` node (or a self-service link) texting the sender is answered inline, in the
  reply; to another number it goes through the outbox as on a call.

The same MessageSid twice (Twilio retrying) gets the stored answer and advances nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from flows import nodes as node_types
from flows.nodes.base import Config, NodeType
from flows.nodes.runtime import (
    Effect,
    Event,
    Gather,
    Request,
    ReserveAgent,
    Say,
    SendSms,
)
from ivr_runtime import engine
from ivr_runtime.models import CallSession
from ivr_runtime.turns import definitions, effects, loop, sessions
from ivr_runtime.twilio import messaging_twiml
from ivr_runtime.voice import services

log = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
#: a body longer than Twilio's own limit is cut (Twilio never posts more than 1,600)
MAX_INCOMING = 1600
#: node visits answered without the sender per text (route/voicemail exits, lookups)
MAX_ROUNDS = 50
#: a duplicate of a text being answered looks for the stored answer this often, until this
#: long before its webhook's deadline
DUPLICATE_POLL_SECONDS = 0.05
DUPLICATE_MARGIN_SECONDS = 0.5


class BadSms(ValueError):
    pass


@dataclass(frozen=True)
class IncomingSms:
    message_sid: str
    sender: str
    to: str
    body: str

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> IncomingSms:
        sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
        if not _SID.fullmatch(sid):
            raise BadSms("MessageSid is missing or malformed")
        sender, to = _clean(form.get("From"), 64), _clean(form.get("To"), 64)
        if not sender or not to:
            raise BadSms("From and To are required")
        body = "".join(ch for ch in str(form.get("Body") or "") if ch.isprintable() or ch in "\n\t")
        return cls(message_sid=sid, sender=sender, to=to, body=body[:MAX_INCOMING].strip())

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"sms:{self.message_sid}".encode()).hexdigest()


def _clean(value: object, limit: int) -> str:
    return "".join(ch for ch in str(value or "") if ch.isprintable())[:limit].strip()


@dataclass
class SmsTurn:
    xml: str
    texts: list[str] = field(default_factory=list)
    session: CallSession | None = None
    replayed: bool = False


def sms_receive(*, sms: IncomingSms, now: datetime | None = None) -> SmsTurn:
    """Run the conversation bound to `sms.to` one text further; the reply to send back.

    The text's whole turn runs with the conversation's row locked (but for requests made
    outside any transaction), so the same text twice at once (a retry racing the first) is
    answered once: the second waits on the lock, or for the first's stored answer.
    """
    started = time.monotonic()
    now = now or timezone.now()
    target = sessions.find_flow(to=sms.to, slug=None, draft=False)
    if target is None:
        log.warning(
            "SMS %s from %s to %s: no published flow is bound to that number",
            sms.message_sid,
            sms.sender,
            sms.to,
        )
        return SmsTurn(
            xml=messaging_twiml.static(messaging_twiml.UNBOUND_NUMBER),
            texts=[messaging_twiml.UNBOUND_NUMBER],
        )
    stored = _stored_answer(sms)
    if stored is not None:  # a retry of a text answered (its conversation may have ended)
        return SmsTurn(xml=stored, replayed=True)
    until = started + settings.WEBHOOK_DEADLINE_SECONDS
    try:
        with transaction.atomic():
            step = _receive(sms, target, now)
    except IntegrityError:  # this text has started a conversation already
        first = _first_text_answer(sms)
        if first is None:
            raise
        step = first
    if step is _IN_FLIGHT:
        return _await_answer(sms, until=until)
    if step is _REPLAYED_LATE:
        # Answered long ago, and the conversation has gone on since: nothing to send again.
        log.warning("SMS %s: replayed after its conversation went on", sms.message_sid)
        return SmsTurn(xml=messaging_twiml.to_xml([]), replayed=True)
    if isinstance(step, SmsTurn):
        return step
    return _advance(step, sms, now)


@dataclass
class _Outside:
    """A turn that must make a request outside any transaction before it can go on."""

    session_pk: int
    token: datetime
    request: Request
    progress: loop.Progress


#: _receive's answer when the same text is being answered by another request
_IN_FLIGHT = object()
#: _receive's answer to the text that started a conversation, again after it went on
_REPLAYED_LATE = object()


def _answered_another(session: CallSession, sms: IncomingSms) -> bool:
    """Whether the conversation's last answer is to a text other than `sms`."""
    return session.last_request_hash not in ("", sms.fingerprint)


def _conversation_sid(sms: IncomingSms) -> str:
    """The call_sid of the conversation a text starts."""
    return f"SMS{sms.message_sid}"[:64]


def _receive(
    sms: IncomingSms, target: tuple[int, int | None], now: datetime
) -> SmsTurn | _Outside | object:
    """The text's turn, in the caller's transaction, the conversation's row locked."""
    session = _active_session(sms, now)
    if session is None:
        # Another request with this text may have ended the conversation while we waited.
        stored = _stored_answer(sms)
        if stored is not None:
            return SmsTurn(xml=stored, replayed=True)
    elif session.last_request_hash == sms.fingerprint and session.last_twiml:
        return SmsTurn(xml=session.last_twiml, session=session, replayed=True)
    elif session.call_sid == _conversation_sid(sms) and _answered_another(session, sms):
        return _REPLAYED_LATE  # the text that started the conversation, after it went on
    elif (
        session.pending_since is not None and now - session.pending_since < services.PENDING_TIMEOUT
    ):
        if session.last_request_hash == sms.fingerprint:
            return _IN_FLIGHT  # this text's turn is out making a request
        return SmsTurn(
            xml=messaging_twiml.static(messaging_twiml.BUSY),
            texts=[messaging_twiml.BUSY],
            session=session,
        )
    if session is None:
        session, event = _new_conversation(sms, target), Event(kind="start")
    elif session.pending_since is not None:
        # The turn that made a slow request never came back: carry on as if it failed
        # (this text is then not an answer to anything; the flow goes on from there).
        event = Event(kind="effect", result=None)
    else:
        event = _reply_event(session, engine.State.from_dict(session.state), sms.body)
    return _run_locked(session, event, loop.Progress(), sms, now)


def _new_conversation(sms: IncomingSms, target: tuple[int, int | None]) -> CallSession:
    """The conversation's row, inserted (IntegrityError: this text has started one already)."""
    flow_id, version_id = target
    session = CallSession(
        call_sid=_conversation_sid(sms),
        channel="sms",
        flow_id=flow_id,
        flow_version_id=version_id,
        from_number=sms.sender,
        to_number=sms.to,
        provider_status="sms",
    )
    session.state = sessions.new_state(session)
    session.save()
    return session


def _first_text_answer(sms: IncomingSms) -> SmsTurn | object | None:
    """For a text whose conversation exists already (it started it): its stored answer,
    _IN_FLIGHT while another request answers it, or None when the conversation is not
    this text's (the IntegrityError was something else)."""
    row = (
        CallSession.objects.filter(call_sid=_conversation_sid(sms))
        .values_list("from_number", "to_number", "last_request_hash", "last_twiml")
        .first()
    )
    if row is None:
        return None
    sender, to, last_request_hash, last_twiml = row
    if (sender, to) != (sms.sender, sms.to):
        log.warning("SMS %s: a MessageSid already used from %s to %s", sms.message_sid, sender, to)
        return SmsTurn(
            xml=messaging_twiml.static(messaging_twiml.UNAVAILABLE),
            texts=[messaging_twiml.UNAVAILABLE],
        )
    if last_request_hash != sms.fingerprint:
        return _REPLAYED_LATE
    if last_twiml:
        return SmsTurn(xml=last_twiml, replayed=True)
    return _IN_FLIGHT


def _stored_answer(sms: IncomingSms) -> str | None:
    """The answer stored for this text on the sender's latest conversation with the number,
    or None (one query, on the index of conversations)."""
    latest = (
        CallSession.objects.filter(channel="sms", from_number=sms.sender, to_number=sms.to)
        .order_by("-started_at")
        .values_list("last_request_hash", "last_twiml")
        .first()
    )
    if latest is None or latest[0] != sms.fingerprint or not latest[1]:
        return None
    return latest[1]


def _await_answer(sms: IncomingSms, *, until: float) -> SmsTurn:
    """The answer to a text that another request is answering: once it is stored, before
    `until` (time.monotonic(): the webhook's deadline). Never an empty reply."""
    while True:
        stored = _stored_answer(sms)
        if stored is not None:
            return SmsTurn(xml=stored, replayed=True)
        if until - time.monotonic() < DUPLICATE_POLL_SECONDS + DUPLICATE_MARGIN_SECONDS:
            break
        time.sleep(DUPLICATE_POLL_SECONDS)
    log.warning("SMS %s: still being answered by another request", sms.message_sid)
    return SmsTurn(
        xml=messaging_twiml.static(messaging_twiml.BUSY),
        texts=[messaging_twiml.BUSY],
        replayed=True,
    )


def _active_session(sms: IncomingSms, now: datetime) -> CallSession | None:
    """The sender's open conversation with this number (locked), ending an idle one."""
    idle = timedelta(minutes=settings.SMS_SESSION_IDLE_MINUTES)
    session = (
        CallSession.objects.select_for_update()
        .filter(
            channel="sms",
            from_number=sms.sender,
            to_number=sms.to,
            status=CallSession.Status.ACTIVE,
        )
        .order_by("-started_at")
        .first()
    )
    if session is None:
        return None
    if session.last_request_hash == sms.fingerprint:
        return session
    if session.updated_at < now - idle or engine.State.from_dict(session.state).ended:
        session_end(session, now=now)
        return None
    return session


def session_end(session: CallSession, *, now: datetime) -> None:
    """Close a conversation (idle, or its flow ended): its open step is left as hung up."""
    state = engine.State.from_dict(session.state)
    ended = None
    if not state.ended:
        ended = loop.turn_advance(
            session, Event(kind="hangup"), now=now, channel=SMS, answer_inside=False
        )
        assert ended.state is not None
        sessions.store_state(session, ended.state)
    session.status = CallSession.Status.COMPLETED
    session.ended_at = now
    session.pending_since = None
    session.save(
        update_fields=[
            *sessions.STATE_FIELDS,
            "status",
            "ended_at",
            "pending_since",
            "updated_at",
        ]
    )
    if ended is not None:
        ended.save_last(session, now)


def sessions_expire(*, now: datetime | None = None) -> int:
    """End every conversation idle for longer than SMS_SESSION_IDLE_MINUTES (the beat's job)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SMS_SESSION_IDLE_MINUTES)
    ended = 0
    idle = CallSession.objects.filter(
        channel="sms", status=CallSession.Status.ACTIVE, updated_at__lt=cutoff
    )
    for pk in idle.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            session = (
                CallSession.objects.select_for_update()
                .filter(pk=pk, status=CallSession.Status.ACTIVE)
                .first()
            )
            if session is not None and session.updated_at < cutoff:
                session_end(session, now=now)
                ended += 1
    return ended


# --- one text through the engine ----------------------------------------------------------
def _reply_event(session: CallSession, state: engine.State, text: str) -> Event:
    """The sender's text as the input the waiting node understands (its type says how)."""
    node_type, config = _waiting_at(session, state)
    return node_type.text_reply(config, text)


def _waiting_at(session: CallSession, state: engine.State) -> tuple[type[NodeType], Config]:
    """The type and config of the node the conversation is at (the generic NodeType for an
    unknown node or type: the engine reports those as failures)."""
    node = _node(session, state)
    node_type = node_types.get(str(node.get("type"))) if node is not None else None
    if node is None or node_type is None:
        return NodeType, {}
    return node_type, node.get("config") or {}


def _node(session: CallSession, state: engine.State) -> dict[str, Any] | None:
    try:
        loaded = sessions.loaded_for(session, state)
    except Exception:  # a missing version: the engine reports it as a failure
        return None
    definition = loaded.get(state.flow)
    return definition.definition.nodes.get(state.node or "") if definition else None


def _run_locked(
    session: CallSession,
    event: Event,
    progress: loop.Progress,
    sms: IncomingSms,
    now: datetime,
) -> SmsTurn | _Outside:
    """Advance the locked session: the answer, or the request to make outside (the state
    saved as pending for this text, so that a duplicate of it waits for its answer)."""
    progress = loop.turn_advance(session, event, now=now, channel=SMS, progress=progress)
    if progress.request is None:
        return _finish(session, progress, sms, now)
    progress.save_last(session, now)
    assert progress.state is not None
    token = sessions.save_pending(session, progress.state, fingerprint=sms.fingerprint)
    return _Outside(session.pk, token, progress.request, progress)


def _advance(step: _Outside, sms: IncomingSms, now: datetime) -> SmsTurn:
    """Make the requests a text's turn needs between transactions, and finish the turn."""
    for _ in range(MAX_ROUNDS):
        event = Event(kind="effect", result=effects.perform_outside(step.request))
        with transaction.atomic():
            session = CallSession.objects.select_for_update().get(pk=step.session_pk)
            if session.pending_since != step.token:
                # Another request gave up on this turn meanwhile (it came back too late).
                if session.last_request_hash == sms.fingerprint and session.last_twiml:
                    return SmsTurn(xml=session.last_twiml, replayed=True)
                return SmsTurn(
                    xml=messaging_twiml.static(messaging_twiml.UNAVAILABLE),
                    texts=[messaging_twiml.UNAVAILABLE],
                )
            turn = _run_locked(session, event, step.progress, sms, now)
        if isinstance(turn, SmsTurn):
            return turn
        step = turn
    log.error("SMS conversation %s: too many rounds without the sender", step.session_pk)
    return SmsTurn(
        xml=messaging_twiml.static(messaging_twiml.UNAVAILABLE), texts=[messaging_twiml.UNAVAILABLE]
    )


class _TextChannel(loop.Channel):
    """A flow run as a text conversation: texts to the sender are the reply, and where a call
    would wait for a person or a recording, the flow goes on as if none was available."""

    def split(
        self, session: CallSession, asked: list[Effect]
    ) -> tuple[list[Effect], list[SendSms]]:
        inline = [e for e in asked if isinstance(e, SendSms) and e.to == session.from_number]
        return [e for e in asked if e not in inline], inline

    def answer(
        self,
        request: Request,
        *,
        session: CallSession,
        loaded: dict[str, definitions.Loaded],
        state: engine.State,
    ) -> Any:
        if isinstance(request, ReserveAgent):
            return None  # nobody is put through to a text conversation
        return super().answer(request, session=session, loaded=loaded, state=state)

    def instead_of_waiting(self, state: engine.State) -> Event | None:
        if state.waiting in ("dial", "queue", "record"):
            return _unavailable(state.waiting)
        return None


SMS = _TextChannel()


def _reply_texts(session: CallSession, progress: loop.Progress) -> list[str]:
    """The words of every round of the turn, in order, with the lines the waiting node adds
    (a menu's options to reply)."""
    texts: list[str] = []
    for round_ in progress.rounds:
        state = round_.outcome.state
        voice_only = state.waiting in ("dial", "queue", "record")
        texts.extend(_texts(round_.outcome, round_.inline, voice_only))
        if state.waiting == "input":
            texts.extend(_text_options(session, state))
    return texts


def _unavailable(waiting: str | None) -> Event:
    """What a text conversation answers where a call would be connected or recorded."""
    if waiting == "dial":
        return Event(kind="dial", dial_status="failed")
    if waiting == "queue":
        return Event(kind="queue", queue_result="error")
    return Event(kind="record")


def _texts(outcome: engine.Outcome, inline: list[SendSms], voice_only: bool) -> list[str]:
    """The turn's words in order: spoken texts, prompts, and texts to the sender where asked."""
    commands = outcome.commands
    shown = len(commands) - len(outcome.wait_commands) if voice_only else len(commands)
    items: list[tuple[int, int, str]] = []
    for i, command in enumerate(commands[:shown]):
        if isinstance(command, Say):
            items.append((i, 1, command.text))
        elif isinstance(command, Gather):
            items.extend((i, 1, p.text) for p in command.prompts if isinstance(p, Say))
    for effect in inline:
        position = effect.position if effect.position is not None else len(commands)
        items.append((position, 0, effect.body))
    return [text for _, _, text in sorted(items, key=lambda item: item[:2]) if text.strip()]


def _text_options(session: CallSession, state: engine.State) -> list[str]:
    """The lines the waiting node adds to its prompt in a text (a menu's options)."""
    node_type, config = _waiting_at(session, state)
    return node_type.text_options(config)


def _finish(
    session: CallSession, progress: loop.Progress, sms: IncomingSms, now: datetime
) -> SmsTurn:
    state = progress.state
    assert state is not None
    texts = _reply_texts(session, progress)
    answer = messaging_twiml.to_xml(["\n".join(texts)] if texts else [])
    fields = sessions.record_answer(
        session,
        state,
        answer=answer,
        fingerprint=sms.fingerprint,
        errors=progress.errors,
        what="SMS conversation",
    )
    if state.ended:
        session.status = CallSession.Status.COMPLETED
        session.ended_at = now
        fields += ["status", "ended_at"]
    session.save(update_fields=fields)
    progress.save_last(session, now)
    return SmsTurn(xml=answer, texts=texts, session=session)
