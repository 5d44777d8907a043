"""The indexes of a flow's analytics (ivr_runtime.reports.analytics): each serves the
statements its comment names; the new ones are built before the ones they replace go."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("flows", "0003_kept_drafts"),
        ("ivr_runtime", "0011_recovery_offers"),
    ]

    operations = [
        # GET /api/calls/?flow= (a flow's calls, newest first) and a flow's analytics: its
        # calls in a period by outcome, hour and day, index-only; replaces
        # callsession_flow_started (flow, -started_at)
        migrations.AddIndex(
            model_name="callsession",
            index=models.Index(
                fields=["flow", "simulated", "-started_at", "-id"],
                include=("outcome", "outcome_node"),
                name="callsession_flow_stats",
            ),
        ),
        # The analytics of one version (?version=, ?compare=); also serves the foreign
        # key's lookups, whose own index goes below
        migrations.AddIndex(
            model_name="callsession",
            index=models.Index(
                fields=["flow_version", "simulated", "-started_at", "-id"],
                include=("outcome", "outcome_node"),
                name="callsession_version_stats",
            ),
        ),
        # avg_seconds_to_agent: a flow's route steps in a period, joined to routed calls
        migrations.AddIndex(
            model_name="callstep",
            index=models.Index(
                condition=models.Q(("node_type", "route")),
                fields=["flow", "simulated", "at"],
                include=("session",),
                name="callstep_route_stats",
            ),
        ),
        migrations.RemoveIndex(
            model_name="callsession",
            name="callsession_flow_started",
        ),
        migrations.AlterField(
            model_name="callsession",
            name="flow_version",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="calls",
                to="flows.flowversion",
            ),
        ),
    ]
