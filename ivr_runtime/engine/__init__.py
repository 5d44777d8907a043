"""The pure interpreter: (definitions, state, event) -> outcome (commands, effects, steps).

No ORM, no twilio, no network: `interpreter` runs the node types of `flows.nodes`;
`state` is the call's state it reads and returns, and the indexed definitions it runs.
"""

from .interpreter import GOODBYE, MAX_DEPTH, MAX_FALLBACKS, MAX_VISITS, SORRY, Outcome, advance
from .state import Definition, Frame, State, StepRecord, index_definition

__all__ = [
    "GOODBYE",
    "MAX_DEPTH",
    "MAX_FALLBACKS",
    "MAX_VISITS",
    "SORRY",
    "Definition",
    "Frame",
    "Outcome",
    "State",
    "StepRecord",
    "advance",
    "index_definition",
]
