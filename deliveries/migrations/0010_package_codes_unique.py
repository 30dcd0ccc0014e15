"""Package codes unique for ever: every code gains its cycle's number in front (``ZH-1-1-001`` of
cycle 12 becomes ``12-ZH-1-1-001``), then one unique constraint on the code replaces the one per cycle.
Old labels keep working: their URL names the cycle (``/p/ZH-1-1-001/?cycle=12``)."""

import re

from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Concat

PREFIXED = re.compile(r"^[0-9]+-")


def prefix_codes(apps, schema_editor):
    Package = apps.get_model("deliveries", "Package")
    Cycle = apps.get_model("supply", "Cycle")
    for cycle_id, number in Cycle.objects.values_list("pk", "number"):
        # Only codes that do not carry a cycle yet (running the migration's function twice changes nothing).
        Package.objects.filter(cycle_id=cycle_id).exclude(code__regex=r"^[0-9]+-").update(
            code=Concat(Value(f"{number}-"), F("code"), output_field=models.CharField())
        )


def unprefix_codes(apps, schema_editor):
    Package = apps.get_model("deliveries", "Package")
    for package in Package.objects.filter(code__regex=r"^[0-9]+-").only("pk", "code"):
        Package.objects.filter(pk=package.pk).update(code=PREFIXED.sub("", package.code, count=1))


class Migration(migrations.Migration):
    dependencies = [
        ("deliveries", "0009_volunteer_teams"),
        ("supply", "0006_stock_baseline"),
    ]

    operations = [
        migrations.RunPython(prefix_codes, unprefix_codes),
        migrations.RemoveConstraint(model_name="package", name="package_code_unique_in_cycle"),
        migrations.AddConstraint(
            model_name="package",
            constraint=models.UniqueConstraint(fields=("code",), name="package_code_unique"),
        ),
    ]
