from . import register
from .base import Config, Node, NodeType
from .common import EXIT_NAME, obj
from .runtime import NodeFailure, Result, Run

SOURCES = ["studio", "connect"]


@register
class Placeholder(NodeType):
    """A step brought over from another system that has no equivalent here yet.

    An import leaves one where a Studio widget or an Amazon Connect action cannot be
    converted (a payment capture, a virtual agent...): it keeps the source's type, name and
    settings and the exits it had, so the flow keeps its shape on the canvas. Reached on a
    call, it runs the flow's fallback. A flow with a placeholder imports as a draft and is
    published only when asked explicitly (`--allow-placeholders`); replace each one with a
    node that does the work first.

    Example::

        {"id": "take_payment", "type": "placeholder",
         "config": {"source": "studio", "source_type": "capture-payments",
                    "source_name": "take_payment",
                    "note": "Payments are not supported: take them with an agent or a payment link by SMS.",
                    "exit_names": ["success", "failure"],
                    "original": {"payment_amount": "{{flow.data.amount}}"}},
         "exits": {"success": "thanks", "failure": "agent"}}
    """

    type = "placeholder"
    title = "Placeholder (imported)"
    description = "An imported step with no equivalent: runs the fallback until it is replaced."
    # a call reaching it leaves for the fallback: an imported loop through one is not endless
    waits_for_input = True
    exits_from = ("exit_names", None)
    config_schema = obj(
        {
            "source": {"enum": SOURCES, "description": "The system the step came from"},
            "source_type": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "description": "The widget or action type there",
            },
            "source_name": {
                "type": "string",
                "maxLength": 200,
                "description": "The widget's name or the action's identifier",
            },
            "note": {"type": "string", "maxLength": 2000, "description": "What to do about it"},
            "exit_names": {
                "type": "array",
                "items": EXIT_NAME,
                "maxItems": 50,
                "uniqueItems": True,
                "description": "The exits the step had",
            },
            "original": {
                "description": "The step's settings in the source system, kept as they were"
            },
        },
        required=("source", "source_type"),
    )

    @classmethod
    def required_exits(cls, config: Config) -> list[str]:
        return []  # it never takes an exit: its exits only keep the imported flow's shape

    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        config = node["config"]
        raise NodeFailure(
            f"placeholder for {config.get('source')} {config.get('source_type')!r}: "
            "replace it with a node that does the work"
        )
