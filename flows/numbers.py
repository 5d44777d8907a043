"""Binding phone numbers to flows: calls and texts to a bound number run its flow.

Keyword-only like flows.services; a number is checked (E.164) before anything is written,
and the errors are FlowServiceError subclasses.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from flows.models import Flow, PhoneNumber, validate_e164
from flows.services import FlowServiceError

# --- errors -----------------------------------------------------------------------------


class InvalidNumber(FlowServiceError):
    pass


class NumberNotBound(FlowServiceError):
    def __init__(self, number: str):
        self.number = number
        super().__init__(f"{number} is not bound to any flow.")


# --- phone numbers ----------------------------------------------------------------------


def number_bind(*, number: str, flow: Flow, label: str | None = None) -> PhoneNumber:
    """Calls and texts to `number` (E.164) run `flow`; a bound number moves. InvalidNumber."""
    number = number.strip()
    try:
        validate_e164(number)
    except ValidationError as exc:
        raise InvalidNumber(" ".join(exc.messages)) from exc
    with transaction.atomic():
        bound = PhoneNumber.objects.select_for_update().filter(number=number).first()
        if bound is None:
            return PhoneNumber.objects.create(number=number, flow=flow, label=label or "")
        fields = []
        if bound.flow_id != flow.pk:
            bound.flow = flow
            fields.append("flow")
        if label is not None and label != bound.label:
            bound.label = label
            fields.append("label")
        if fields:  # binding again to the same flow writes nothing
            bound.save(update_fields=[*fields, "updated_at"])
    return bound


def number_unbind(*, number: str) -> None:
    """Calls to `number` no longer run a flow. NumberNotBound."""
    deleted, _ = PhoneNumber.objects.filter(number=number.strip()).delete()
    if not deleted:
        raise NumberNotBound(number)
