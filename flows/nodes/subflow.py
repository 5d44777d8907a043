from . import register
from .base import Node, NodeType
from .common import obj
from .runtime import EnterFlow, Event, LoadFlow, Need, NodeFailure, Result, Run


@register
class Subflow(NodeType):
    """Continue in another published flow; when it ends without hanging up, take `return`.

    The call runs the version of that flow that was published when the call started (or,
    for a flow first published during the call, when the call first entered it), however
    often it enters it and whatever is published meanwhile.

    Example::

        {"id": "identify", "type": "subflow", "config": {"flow": "shared-auth"},
         "exits": {"return": "main_menu"}}
    """

    type = "subflow"
    title = "Sub-flow"
    color = "#553c9a"
    icon = "Sf"
    summary = ("continue in {flow|?}",)
    description = "Continue in another published flow, then come back."
    fixed_exits = ("return",)
    config_schema = obj(
        {"flow": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"}},
        required=("flow",),
    )

    # The engine pushes a frame (this node) and runs the subflow's version (the runtime
    # answers LoadFlow with the one the call is pinned to) from its start; the first unconnected exit in the subflow pops the frame and this node
    # takes `return`. A hang-up in the subflow ends the call.
    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        return Need(LoadFlow(slug=node["config"]["flow"]))

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        if not event.result:
            raise NodeFailure(f"flow {node['config']['flow']!r} is not published")
        return EnterFlow(key=event.result)
