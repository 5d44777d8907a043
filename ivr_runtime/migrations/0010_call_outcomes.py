"""Calls' outcomes, their customer, voicemail transcriptions, and the indexes of the call
history and timelines; the outcome of the calls made before, from their stored steps."""

from types import SimpleNamespace

import django.db.models.deletion
from django.db import migrations, models

from ivr_runtime.reports import outcomes

BATCH = 500


def fill_outcomes(apps, schema_editor):
    """What each call has reached, its customer and, for a call that has ended (or whose
    flow has), its outcome: the fold the turn loop now does, over the steps kept."""
    CallSession = apps.get_model("ivr_runtime", "CallSession")
    CallStep = apps.get_model("ivr_runtime", "CallStep")
    FlowVersion = apps.get_model("flows", "FlowVersion")
    Customer = apps.get_model("ivr_runtime", "Customer")
    customers = set(Customer.objects.values_list("pk", flat=True))
    definitions = {}

    def config_of(version_id, draft):
        def lookup(_key, node_id):
            if version_id is None:
                raw = draft or {}
            else:
                if version_id not in definitions:
                    definitions[version_id] = (
                        FlowVersion.objects.filter(pk=version_id)
                        .values_list("definition", flat=True)
                        .first()
                    ) or {}
                raw = definitions[version_id]
            for node in raw.get("nodes") or []:
                if isinstance(node, dict) and node.get("id") == node_id:
                    return node.get("config") or {}
            return None

        return lookup

    batch = []
    calls = CallSession.objects.order_by("pk").only(
        "pk", "state", "ended_at", "flow_finished", "draft_definition", "flow_version_id"
    )
    for call in calls.iterator(chunk_size=BATCH):
        rows = CallStep.objects.filter(session_id=call.pk).order_by("index")
        records = [
            SimpleNamespace(
                flow=step.flow_version_id,
                node=step.node_id,
                node_type=step.node_type,
                exit=step.exit,
                hung_up=step.hung_up,
                error=step.error,
            )
            for step in rows
        ]
        lookups = {}

        def config(key, node_id, call=call):
            version = call.flow_version_id if key is None else key
            if version not in lookups:
                lookups[version] = config_of(version, call.draft_definition)
            return lookups[version](key, node_id)

        state = call.state or {}
        visits = outcomes.visits_of(records, config)
        call.reached = outcomes.reached(
            "",
            visits,
            fallbacks=int(state.get("fallbacks") or 0),
            fallback_sms=bool(state.get("fallback_sms_sent")),
        )
        customer = (state.get("customer") or {}).get("id")
        call.customer_id = customer if customer in customers else None
        if call.ended_at is not None or call.flow_finished:
            end = outcomes.ending(call.reached, visits, started=bool(records))
            call.outcome, call.outcome_node = end.outcome, end.node[:64]
        batch.append(call)
        if len(batch) >= BATCH:
            CallSession.objects.bulk_update(
                batch, ["reached", "customer", "outcome", "outcome_node"]
            )
            batch = []
    if batch:
        CallSession.objects.bulk_update(batch, ["reached", "customer", "outcome", "outcome_node"])


class Migration(migrations.Migration):

    dependencies = [
        ('flows', '0003_kept_drafts'),
        ('ivr_runtime', '0009_call_controls'),
    ]

    operations = [
        # callsession_list (simulated, -started_at, -id) serves the list it served
        migrations.RemoveIndex(
            model_name='callsession',
            name='callsession_started',
        ),
        migrations.AddField(
            model_name='callsession',
            name='customer',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, help_text='The customer the call identified (authenticate), if any', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='calls', to='ivr_runtime.customer'),
        ),
        migrations.AddField(
            model_name='callsession',
            name='outcome',
            field=models.CharField(choices=[('routed', 'Routed to a person'), ('self_served', 'Self-served'), ('sms_fallback', 'Sent an SMS instead'), ('voicemail', 'Left a voicemail'), ('callback', 'Callback scheduled'), ('abandoned', 'Abandoned'), ('failed', 'Failed'), ('in_progress', 'In progress')], default='in_progress', max_length=16),
        ),
        migrations.AddField(
            model_name='callsession',
            name='outcome_node',
            field=models.CharField(blank=True, help_text='Where the caller hung up (abandoned calls only)', max_length=64),
        ),
        migrations.AddField(
            model_name='callsession',
            name='reached',
            field=models.CharField(blank=True, help_text='The best outcome reached so far (routed, voicemail...): the outcome the call ends with, unless nothing is reached', max_length=16),
        ),
        migrations.AddField(
            model_name='recording',
            name='transcription_sid',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='recording',
            name='transcription_status',
            field=models.CharField(blank=True, choices=[('', 'Not asked for'), ('completed', 'Completed'), ('failed', 'Failed')], default='', max_length=16),
        ),
        # GET /api/timeline/?number=: the callbacks asked for a number, newest first
        migrations.AddIndex(
            model_name='callbackrequest',
            index=models.Index(fields=['number', '-created_at'], name='callback_number_created'),
        ),
        # GET /api/calls/ (and its CSV): the first page, newest first, keyset (started_at, id)
        migrations.AddIndex(
            model_name='callsession',
            index=models.Index(fields=['simulated', '-started_at', '-id'], name='callsession_list'),
        ),
        # GET /api/calls/?outcome=: the calls with an outcome, newest first
        migrations.AddIndex(
            model_name='callsession',
            index=models.Index(fields=['outcome', '-started_at'], name='callsession_outcome_started'),
        ),
        # GET /api/calls/?search=<number>, GET /api/timeline/?number=: a number's calls
        migrations.AddIndex(
            model_name='callsession',
            index=models.Index(fields=['from_number', '-started_at'], name='callsession_from_started'),
        ),
        # GET /api/timeline/?customer=, ?search=<name or account>: a customer's calls
        migrations.AddIndex(
            model_name='callsession',
            index=models.Index(condition=models.Q(('customer__isnull', False)), fields=['customer', '-started_at'], name='callsession_customer_started'),
        ),
        # the transcription and recording status callbacks, by RecordingSid
        migrations.AddIndex(
            model_name='recording',
            index=models.Index(fields=['recording_sid'], name='recording_sid'),
        ),
        migrations.RunPython(fill_outcomes, migrations.RunPython.noop, elidable=True),
    ]
