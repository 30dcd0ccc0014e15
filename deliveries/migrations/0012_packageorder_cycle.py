"""Package orders carry their package's cycle, and the package code's unique key holds the cycle:
on PostgreSQL the package tables are partitioned by it (0013)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_cycles(apps, schema_editor):
    Package = apps.get_model("deliveries", "Package")
    PackageOrder = apps.get_model("deliveries", "PackageOrder")
    PackageOrder.objects.update(
        cycle_id=Subquery(Package.objects.filter(pk=OuterRef("package_id")).values("cycle_id"))
    )


class Migration(migrations.Migration):
    dependencies = [("deliveries", "0011_cash_at_the_door"), ("supply", "0012_line_cycle")]

    operations = [
        migrations.AddField(
            model_name="packageorder",
            name="cycle",
            field=models.ForeignKey(
                null=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="supply.cycle",
                verbose_name="cycle",
            ),
        ),
        migrations.RunPython(copy_cycles, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="packageorder",
            name="cycle",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="supply.cycle",
                verbose_name="cycle",
            ),
        ),
        migrations.RemoveConstraint(model_name="package", name="package_code_unique"),
        migrations.AddConstraint(
            model_name="package",
            constraint=models.UniqueConstraint(fields=("code", "cycle"), name="package_code_unique"),
        ),
    ]
