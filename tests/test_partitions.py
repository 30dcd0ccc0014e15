"""On PostgreSQL the order, order-line, package and package-order tables are partitioned by cycle
(deliveries/migrations/0013_partition_by_cycle.py): each cycle's rows in a table of its own, every
key between them holding the cycle, so that nothing of one cycle can point at another's."""

import csv
import datetime
import gzip
import hashlib
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone, translation

from deliveries.models import HandoverEvent, Package, PackageOrder
from supply.models import Cycle, CycleStatus, Order, OrderLine, Payment

pytestmark = pytest.mark.postgres

TABLES = ("supply_order", "supply_orderline", "deliveries_package", "deliveries_packageorder")


def _partitions(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def _table_of(model, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _other_cycle(cycle: Cycle) -> Cycle:
    opens = timezone.now() - datetime.timedelta(days=10)
    return Cycle.objects.create(
        number=cycle.number + 100,
        opens_at=opens,
        cutoff_at=opens + datetime.timedelta(days=1),
        first_delivery_date=(opens + datetime.timedelta(days=2)).date(),
        status=CycleStatus.COMPLETE,
    )


def _order_in(cycle: Cycle, *, household) -> Order:
    return Order.objects.create(
        household=household,
        cycle=cycle,
        status="placed",
        channel="web",
        total=0,
        payment_method="free",
        payment_state="free",
    )


def _immediately(write) -> None:
    """``write`` inside a savepoint, with the deferred keys checked before the savepoint ends."""
    with transaction.atomic():
        write()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_each_cycle_has_its_own_partitions_and_its_rows_are_in_them(packed):
    cycle = packed.cycle
    for table in TABLES:
        assert f"{table}_cycle_{cycle.pk}" in _partitions(table)
    order = Order.objects.filter(cycle=cycle).first()
    line = OrderLine.objects.filter(order=order).first()
    package = Package.objects.filter(cycle=cycle).first()
    link = PackageOrder.objects.filter(package=package).first()
    assert _table_of(Order, order.pk) == f"supply_order_cycle_{cycle.pk}"
    assert _table_of(OrderLine, line.pk) == f"supply_orderline_cycle_{cycle.pk}"
    assert _table_of(Package, package.pk) == f"deliveries_package_cycle_{cycle.pk}"
    assert _table_of(PackageOrder, link.pk) == f"deliveries_packageorder_cycle_{cycle.pk}"
    assert line.cycle_id == link.cycle_id == cycle.pk

    later = _other_cycle(cycle)  # a cycle made by any path gets its partitions as it is inserted
    for table in TABLES:
        assert f"{table}_cycle_{later.pk}" in _partitions(table)


def test_a_query_for_one_cycle_reads_only_that_cycle_s_tables(packed):
    _other_cycle(packed.cycle)
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT * FROM supply_order o JOIN supply_orderline l ON l.order_id = o.id AND l.cycle_id = o.cycle_id"
            " WHERE o.cycle_id = %s",
            [packed.cycle.pk],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"supply_order_cycle_{packed.cycle.pk}" in plan
    assert f"_cycle_{packed.cycle.pk + 1}" not in plan


def test_nothing_of_one_cycle_can_point_at_another_s(packed):
    other = _other_cycle(packed.cycle)
    order = Order.objects.filter(cycle=packed.cycle).first()
    package = Package.objects.filter(cycle=packed.cycle).first()
    with pytest.raises(IntegrityError):  # a line in another cycle than its order's
        _immediately(
            lambda: OrderLine.objects.create(
                order=order,
                cycle=other,
                product=OrderLine.objects.filter(order=order).first().product,
                name="x",
                unit="盒",
                quantity=1,
                unit_price=Decimal("1.00"),
                line_total=Decimal("1.00"),
            )
        )
    other_order = _order_in(other, household=order.household)
    with pytest.raises(IntegrityError):  # an order packed into another cycle's package
        _immediately(lambda: PackageOrder.objects.create(package=package, order=other_order, cycle=other))
    with pytest.raises(IntegrityError):
        _immediately(lambda: PackageOrder.objects.create(package=package, order=other_order, cycle=packed.cycle))
    with pytest.raises(IntegrityError):  # an order in a second package
        _immediately(lambda: PackageOrder.objects.create(package=package, order=order, cycle=packed.cycle))


def test_rows_pointing_at_an_order_carry_its_cycle(packed):
    order = Order.objects.filter(cycle=packed.cycle).first()
    payment = Payment.objects.create(order=order, provider="demo", out_trade_no="P-partition-1", amount=Decimal("1"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT order_cycle_id FROM supply_payment WHERE id = %s", [payment.pk])
        assert cursor.fetchone()[0] == packed.cycle.pk
    with pytest.raises(IntegrityError):  # a payment for no order at all
        _immediately(
            lambda: Payment.objects.create(
                order_id=order.pk + 10_000, provider="demo", out_trade_no="P-partition-2", amount=Decimal("1")
            )
        )


def _archive(cycle: Cycle, to, capture) -> dict:
    """archive_cycle, its transaction's commit callbacks run (the directory takes its name then)."""
    out = io.StringIO()
    with translation.override("en"), capture(execute=True):
        call_command("archive_cycle", "--cycle", str(cycle.number), "--to", str(to), "--json", stdout=out)
    return json.loads(out.getvalue())


def _door_event(package: Package, user) -> HandoverEvent:
    return HandoverEvent.objects.create(
        package=package, kind="out", delivery_date=package.delivery_date, by=user, at=timezone.now()
    )


def test_a_complete_cycle_is_written_to_files_and_its_tables_dropped(
    packed, city, tmp_path, django_capture_on_commit_callbacks
):
    cycle = packed.cycle
    Cycle.objects.filter(pk=cycle.pk).update(status=CycleStatus.COMPLETE)
    order = Order.objects.filter(cycle=cycle).first()
    Payment.objects.create(order=order, provider="demo", out_trade_no="P-archive", amount=Decimal("1"), status="closed")
    package = Package.objects.filter(cycle=cycle).first()
    _door_event(package, city.users.admin)  # append-only, but for the archive
    other = _other_cycle(cycle)
    kept = _order_in(other, household=order.household)
    expected = {
        "supply_order": Order.objects.filter(cycle=cycle).count(),
        "supply_orderline": OrderLine.objects.filter(cycle=cycle).count(),
        "deliveries_package": Package.objects.filter(cycle=cycle).count(),
        "deliveries_packageorder": PackageOrder.objects.filter(cycle=cycle).count(),
        "supply_payment": 1,
        "deliveries_handoverevent": HandoverEvent.objects.filter(package__cycle=cycle).count(),
    }
    assert all(expected.values())

    summary = _archive(cycle, tmp_path, django_capture_on_commit_callbacks)

    directory = tmp_path / f"cycle-{cycle.number}"
    assert summary["directory"] == str(directory)
    assert not (tmp_path / f"cycle-{cycle.number}.partial").exists()
    manifest = json.loads((directory / "manifest.json").read_text())
    for table, rows in expected.items():
        assert summary["rows"][table] == rows
        entry = manifest["files"][f"{table}.csv.gz"]
        data = (directory / f"{table}.csv.gz").read_bytes()
        assert entry == {"rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
        table_rows = list(csv.reader(io.StringIO(gzip.decompress(data).decode())))
        assert len(table_rows) == rows + 1 and table_rows[0][0] == "id"
    for table in TABLES:
        assert f"{table}_cycle_{cycle.pk}" not in _partitions(table)
    assert not Order.objects.filter(cycle=cycle).exists()
    assert not Package.objects.filter(cycle=cycle).exists()
    assert not Payment.objects.filter(out_trade_no="P-archive").exists()
    assert not HandoverEvent.objects.filter(package_id=package.pk).exists()
    assert Order.objects.filter(pk=kept.pk).exists()  # another cycle's rows are not touched
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.ARCHIVED
    with pytest.raises(CommandError, match="complete"):  # once
        _archive(cycle, tmp_path, django_capture_on_commit_callbacks)
    with pytest.raises(IntegrityError):  # and nothing of it can be written again
        _immediately(lambda: _order_in(cycle, household=order.household))


def test_only_a_complete_cycle_with_its_money_settled_is_archived(packed, tmp_path, django_capture_on_commit_callbacks):
    cycle = packed.cycle
    with pytest.raises(CommandError, match="complete"):  # packed: still being delivered
        _archive(cycle, tmp_path, django_capture_on_commit_callbacks)
    Cycle.objects.filter(pk=cycle.pk).update(status=CycleStatus.COMPLETE)
    order = Order.objects.filter(cycle=cycle).first()
    Payment.objects.create(order=order, provider="demo", out_trade_no="P-pending", amount=Decimal("1"))
    with pytest.raises(CommandError, match="pending"):
        _archive(cycle, tmp_path, django_capture_on_commit_callbacks)
    assert list(tmp_path.iterdir()) == []
    for table in TABLES:
        assert f"{table}_cycle_{cycle.pk}" in _partitions(table)
    assert Order.objects.filter(cycle=cycle).exists()


def test_handover_events_stay_append_only_outside_the_archive(packed, city):
    event = _door_event(Package.objects.filter(cycle=packed.cycle).first(), city.users.admin)
    with pytest.raises(DatabaseError, match="append-only"):
        _immediately(lambda: HandoverEvent.objects.filter(pk=event.pk).delete())


def test_a_count_per_order_groups_by_every_column_selected(packed):
    """Grouping by ``id`` alone would be refused: it is no longer the table's whole primary key."""
    orders = list(Order.objects.filter(cycle=packed.cycle).annotate(lines_count=Count("lines")))
    assert orders
    assert sum(order.lines_count for order in orders) == OrderLine.objects.filter(cycle=packed.cycle).count()


def test_every_key_to_a_partitioned_table_is_a_composite_key_in_the_database(db):
    """A new foreign key to one of these tables needs its cycle column and composite key
    (CONTRIBUTING.md): this lists any that has none."""
    from django.apps import apps

    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            for field in model._meta.local_fields:
                if not field.is_relation or field.related_model._meta.db_table not in TABLES:
                    continue
                cursor.execute(
                    """SELECT count(*) FROM pg_constraint c
                        WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND c.confrelid = %s::regclass
                          AND array_length(c.conkey, 1) = 2
                          AND c.conkey[1] = (SELECT attnum FROM pg_attribute
                                              WHERE attrelid = c.conrelid AND attname = %s)""",
                    [model._meta.db_table, field.related_model._meta.db_table, field.column],
                )
                if cursor.fetchone()[0] != 1:
                    missing.append(f"{model._meta.label}.{field.name}")
    assert missing == []
