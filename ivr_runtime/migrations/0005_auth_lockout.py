"""PIN lockout: an account's lock, and the failed PIN checks counted by account and number."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ivr_runtime", "0004_flow_finished"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="locked_until",
            field=models.DateTimeField(
                blank=True,
                help_text="Too many wrong PINs: no PIN is accepted for this account until then",
                null=True,
            ),
        ),
        migrations.CreateModel(
            name="PinFailure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "caller",
                    models.CharField(help_text="The calling number (From) as given", max_length=64),
                ),
                ("simulated", models.BooleanField(default=False)),
                ("at", models.DateTimeField()),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        help_text="The account tried (none: an account number that is not ours)",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="ivr_runtime.customer",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["customer", "simulated", "at"], name="pinfailure_customer_at"
                    ),
                    models.Index(fields=["caller", "simulated", "at"], name="pinfailure_caller_at"),
                    models.Index(fields=["at"], name="pinfailure_at"),
                ],
            },
        ),
    ]
