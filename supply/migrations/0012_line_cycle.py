"""Order lines carry their order's cycle, and every unique key of the order and order-line tables
holds the cycle: on PostgreSQL both tables are partitioned by it (deliveries 0012)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def copy_cycles(apps, schema_editor):
    Order = apps.get_model("supply", "Order")
    OrderLine = apps.get_model("supply", "OrderLine")
    OrderLine.objects.update(cycle_id=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("cycle_id")))


class Migration(migrations.Migration):
    dependencies = [("supply", "0011_shortfalls")]

    operations = [
        migrations.AddField(
            model_name="orderline",
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
            model_name="orderline",
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
        migrations.RemoveConstraint(model_name="orderline", name="one_line_per_product"),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.UniqueConstraint(fields=("order", "product", "cycle"), name="one_line_per_product"),
        ),
        migrations.RemoveConstraint(model_name="order", name="order_idempotency_key"),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=Q(idempotency_key__isnull=False),
                fields=("placed_by", "idempotency_key", "cycle"),
                name="order_idempotency_key",
            ),
        ),
    ]
