from django.db import migrations, models


def mark_finished_flows(apps, schema_editor):
    """Rows written before the column: the flow has finished where the state says ended."""
    CallSession = apps.get_model("ivr_runtime", "CallSession")
    CallSession.objects.filter(state__ended=True).update(flow_finished=True)


class Migration(migrations.Migration):
    dependencies = [
        ("ivr_runtime", "0003_fewer_indexes_on_the_turn_path"),
    ]

    operations = [
        migrations.AddField(
            model_name="callsession",
            name="flow_finished",
            field=models.BooleanField(default=False, help_text="The flow has reached its end"),
        ),
        migrations.RunPython(mark_finished_flows, migrations.RunPython.noop, elidable=True),
    ]
