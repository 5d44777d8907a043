"""Binding phone numbers against the database: moves, no-op rebinds, E.164, unbinding."""

import pytest

from flows import numbers, services
from flows.models import PhoneNumber
from tests.flows.db_helpers import snapshot
from tests.flows.spec_helpers import simple_flow

pytestmark = pytest.mark.django_db


def test_binding_a_number_moves_it_and_rebinding_writes_nothing():
    a = services.flow_create(definition=simple_flow("a"))
    b = services.flow_create(definition=simple_flow("b"))
    bound = numbers.number_bind(number="+442079460001", flow=a, label="Main line")
    assert (bound.flow, bound.label) == (a, "Main line")
    moved = numbers.number_bind(number="+442079460001", flow=b)
    assert (moved.pk, moved.flow, moved.label) == (bound.pk, b, "Main line")
    before = snapshot()
    numbers.number_bind(number="+442079460001", flow=b)
    assert snapshot() == before
    assert PhoneNumber.objects.get().flow == b


@pytest.mark.parametrize(
    "number", ["442079460001", "+44 20 7946 0001", "+4420", "+999123456789", "call me"]
)
def test_binding_refuses_numbers_not_in_e164(number):
    a = services.flow_create(definition=simple_flow("a"))
    with pytest.raises(numbers.InvalidNumber, match="E.164"):
        numbers.number_bind(number=number, flow=a)
    assert PhoneNumber.objects.count() == 0


def test_unbinding():
    a = services.flow_create(definition=simple_flow("a"))
    numbers.number_bind(number="+442079460001", flow=a)
    numbers.number_unbind(number="+442079460001")
    assert PhoneNumber.objects.count() == 0
    with pytest.raises(numbers.NumberNotBound):
        numbers.number_unbind(number="+442079460001")
