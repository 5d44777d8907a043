"""Loading the customer and agent directory (fixtures/directory.json) idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ivr_runtime.models import Agent, Customer, Skill


@dataclass
class Loaded:
    customers_created: int = 0
    customers_updated: int = 0
    agents_created: int = 0
    agents_updated: int = 0


@transaction.atomic
def directory_load(*, data: dict[str, Any]) -> Loaded:
    """Customers by account number and agents by name: created, or updated when changed.

    PINs arrive in clear and are stored hashed; a PIN that already matches is not re-hashed,
    so loading the same file twice changes nothing.
    """
    loaded = Loaded()
    for row in data.get("customers", []):
        customer = Customer.objects.filter(account_number=row["account_number"]).first()
        created = customer is None
        customer = customer or Customer(account_number=row["account_number"])
        changed = created
        for field in ("name", "phone", "tier"):
            if getattr(customer, field) != row.get(field):
                setattr(customer, field, row.get(field))
                changed = True
        if row.get("pin") and not customer.check_pin(str(row["pin"])):
            customer.set_pin(str(row["pin"]))
            changed = True
        if changed:
            customer.save()
            loaded.customers_created += created
            loaded.customers_updated += not created
    for row in data.get("agents", []):
        agent, created = Agent.objects.get_or_create(
            name=row["name"],
            defaults={"number": row["number"], "status": row.get("status", Agent.Status.AVAILABLE)},
        )
        changed = False
        if not created and (agent.number, agent.status) != (
            row["number"],
            row.get("status", agent.status),
        ):
            agent.number, agent.status = row["number"], row.get("status", agent.status)
            agent.save(update_fields=["number", "status"])
            changed = True
        wanted = {Skill.objects.get_or_create(name=name)[0].pk for name in row.get("skills", [])}
        if set(agent.skills.values_list("pk", flat=True)) != wanted:
            agent.skills.set(wanted)
            changed = True
        loaded.agents_created += created
        loaded.agents_updated += changed and not created
    return loaded
