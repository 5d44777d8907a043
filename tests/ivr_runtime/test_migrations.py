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
