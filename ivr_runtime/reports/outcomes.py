"""What a call came to (`CallSession.outcome`), from its steps and its state.

Pure: no ORM, no network. The turn loop folds each turn's steps into what the call has
`reached` so far and, on the turn that ends the flow, turns that into the outcome; so a
call whose flow has finished carries its outcome before its status callback comes, and
that callback stays one UPDATE with no read (voice.call_end._close_finished). The data
migration that fills the outcome of older calls runs the same fold over their stored steps.

Outcomes, first match wins:
- `routed`: a `route` node exited `connected` (the caller reached a person);
- `voicemail`: a `voicemail` node exited `recorded`;
- `callback`: a `callback` node exited `scheduled`;
- `sms_fallback`: a `self_service` node texted its link (`link_sms`, exit `done`), or the
  flow's fallback SMS was sent;
- `failed`: the flow failed (its fallback ran, or a node's error), or never started (an
  outbound call nobody answered);
- `abandoned`: the caller hung up before the flow ended (`outcome_node`: where);
- `self_served`: the flow finished without any of these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

ROUTED = "routed"
SELF_SERVED = "self_served"
SMS_FALLBACK = "sms_fallback"
VOICEMAIL = "voicemail"
CALLBACK = "callback"
ABANDONED = "abandoned"
FAILED = "failed"
IN_PROGRESS = "in_progress"

#: what a call may reach on the way, best first: the outcome is the best one reached
REACHED = (ROUTED, VOICEMAIL, CALLBACK, SMS_FALLBACK, FAILED)

#: (node type, exit) -> what leaving the node that way reaches
_MILESTONES = {
    ("route", "connected"): ROUTED,
    ("voicemail", "recorded"): VOICEMAIL,
    ("callback", "scheduled"): CALLBACK,
}


@dataclass(frozen=True)
class Visit:
    """What the outcome needs of one step."""

    node: str
    node_type: str
    exit: str = ""
    hung_up: bool = False
    error: str = ""
    #: a self_service node in `link_sms` mode (it texts its link)
    texts_link: bool = False


@dataclass(frozen=True)
class Ending:
    outcome: str
    node: str = ""


def best(*candidates: str) -> str:
    """The best of what was reached ("" when nothing)."""
    ranked = [REACHED.index(c) for c in candidates if c in REACHED]
    return REACHED[min(ranked)] if ranked else ""


def reached(
    so_far: str, visits: Iterable[Visit], *, fallbacks: int = 0, fallback_sms: bool = False
) -> str:
    """`so_far` with these visits (and the state's fallback counters) folded in."""
    found = [so_far]
    for visit in visits:
        found.append(_MILESTONES.get((visit.node_type, visit.exit), ""))
        if visit.node_type == "self_service" and visit.exit == "done" and visit.texts_link:
            found.append(SMS_FALLBACK)
        if visit.error:
            found.append(FAILED)
    if fallback_sms:
        found.append(SMS_FALLBACK)
    if fallbacks:
        found.append(FAILED)
    return best(*found)


def ending(so_far: str, visits: Iterable[Visit], *, started: bool) -> Ending:
    """The outcome of a call whose flow has ended, given what it reached and the visits of
    the turn that ended it (a visit hung up on is where the caller left)."""
    if so_far:
        return Ending(so_far)
    if not started:
        return Ending(FAILED)
    left = [visit.node for visit in visits if visit.hung_up]
    if left:
        return Ending(ABANDONED, left[-1])
    return Ending(SELF_SERVED)


def node_texts_link(config: dict[str, Any] | None) -> bool:
    return bool(config) and (config or {}).get("mode") == "link_sms"


def visits_of(
    records: Iterable[Any], config_of: Callable[[str, str], dict[str, Any] | None]
) -> list[Visit]:
    """Visits from step records (engine.StepRecord, or rows with the same names):
    `config_of(flow key, node id)` is the node's config, for the node types that need it."""
    visits = []
    for record in records:
        node_type = record.node_type
        texts_link = node_type == "self_service" and node_texts_link(
            config_of(record.flow, record.node)
        )
        visits.append(
            Visit(
                node=record.node,
                node_type=node_type,
                exit=record.exit or "",
                hung_up=record.hung_up,
                error=record.error or "",
                texts_link=texts_link,
            )
        )
    return visits
