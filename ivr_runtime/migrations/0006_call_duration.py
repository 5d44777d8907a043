"""A call's length as Twilio reports it; the index of each incoming SMS's conversation lookup."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ivr_runtime", "0005_auth_lockout"),
    ]

    operations = [
        migrations.AddField(
            model_name="callsession",
            name="duration",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="seconds: Twilio's CallDuration, from the final status callback",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="callsession",
            index=models.Index(
                condition=models.Q(("channel", "sms")),
                fields=["from_number", "to_number", "-started_at"],
                name="callsession_sms_conversation",
            ),
        ),
    ]
