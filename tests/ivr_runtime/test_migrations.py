"""Data migrations of the runtime's tables, run forward from the state before them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ivr_runtime", "0003_fewer_indexes_on_the_turn_path")]
AFTER = [("ivr_runtime", "0004_flow_finished")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_calls_whose_flow_ended_are_marked_finished():
    apps = migrate(BEFORE)
    try:
        CallSession = apps.get_model("ivr_runtime", "CallSession")
        CallSession.objects.create(call_sid="CAended", state={"ended": True, "node": "bye"})
        CallSession.objects.create(call_sid="CAwaiting", state={"ended": False, "node": "menu"})
        CallSession.objects.create(call_sid="CAempty", state={})
        apps = migrate(AFTER)
        CallSession = apps.get_model("ivr_runtime", "CallSession")
        finished = dict(CallSession.objects.values_list("call_sid", "flow_finished"))
        assert finished == {"CAended": True, "CAwaiting": False, "CAempty": False}
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_calls_that_ended_get_their_outcome_from_their_steps():
    apps = migrate([("ivr_runtime", "0009_call_controls")])
    try:
        CallSession = apps.get_model("ivr_runtime", "CallSession")
        CallStep = apps.get_model("ivr_runtime", "CallStep")
        Customer = apps.get_model("ivr_runtime", "Customer")
        ann = Customer.objects.create(name="Ann", account_number="1001")
        now = "2026-12-01T10:00:00Z"

        def call(sid, steps, *, ended=True, state=None):
            session = CallSession.objects.create(
                call_sid=sid, state=state or {}, ended_at=now if ended else None
            )
            for index, (node, node_type, exit, hung_up) in enumerate(steps, 1):
                CallStep.objects.create(
                    session=session,
                    index=index,
                    node_id=node,
                    node_type=node_type,
                    exit=exit,
                    hung_up=hung_up,
                    at=now,
                )

        call(
            "CArouted",
            [("main", "menu", "1", False), ("agent", "route", "connected", False)],
            state={"customer": {"id": ann.pk}},
        )
        call("CAqueue", [("main", "menu", "2", False), ("queue", "route", "", True)])
        call("CAhours", [("main", "menu", "5", False), ("bye", "hangup", "", False)])
        call("CAfailed", [("main", "menu", "7", False)], state={"fallbacks": 1})
        call("CAlive", [("agent", "route", "connected", False)], ended=False)
        apps = migrate([("ivr_runtime", "0010_call_outcomes")])
        CallSession = apps.get_model("ivr_runtime", "CallSession")
        rows = {
            sid: (outcome, node, reached, customer)
            for sid, outcome, node, reached, customer in CallSession.objects.values_list(
                "call_sid", "outcome", "outcome_node", "reached", "customer_id"
            )
        }
        assert rows == {
            "CArouted": ("routed", "", "routed", ann.pk),
            "CAqueue": ("abandoned", "queue", "", None),
            "CAhours": ("self_served", "", "", None),
            "CAfailed": ("failed", "", "failed", None),
            "CAlive": ("in_progress", "", "routed", None),
        }
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
