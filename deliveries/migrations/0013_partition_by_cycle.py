"""PostgreSQL only: the order, order-line, package and package-order tables partitioned by cycle.

Each table becomes ``PARTITION BY LIST (cycle_id)``, with one partition per cycle
(``<table>_cycle_<id>``, made and attached by a trigger when the cycle is inserted) and no default
partition. A cycle can then be archived and dropped whole (``archive_cycle``); handover events stay
append-only but for that.

PostgreSQL asks every unique key of a partitioned table to hold the partition key, so:
- the primary keys become ``(id, cycle_id)``; ids still come from one sequence per table, so
  ``id`` alone stays unique, and Django keeps ``id`` as the primary key;
- the unique keys were given the cycle in 0012 and supply 0012; the order's one package
  (``order_id`` unique) becomes ``(order_id, cycle_id)``, the same thing as an order has one cycle;
- a key pointing at one of these tables is ``(x_id, cycle)``: order lines and package orders carry
  their cycle (one key to the order, one to the package, so both are of the same cycle); payments,
  refunds, shortfalls and handover events carry it in a column of their own (``order_cycle_id``,
  ``package_cycle_id``), filled by a trigger, that Django does not see.

Nothing changes in Django's state: on SQLite the tables stay plain.
"""

from django.db import migrations

PARTITIONED = ("supply_order", "supply_orderline", "deliveries_package", "deliveries_packageorder")

# The unique constraint Django made for PackageOrder.order (a OneToOneField), which does not hold
# the cycle: made again with it, under the same name.
ONE_PACKAGE_PER_ORDER = "deliveries_packageorder_order_id_key"

# Composite keys between the partitioned tables: (table, columns, referenced table).
LINKS = (
    ("supply_orderline", "order_id, cycle_id", "supply_order"),
    ("deliveries_packageorder", "order_id, cycle_id", "supply_order"),
    ("deliveries_packageorder", "package_id, cycle_id", "deliveries_package"),
)

# Tables that point at a partitioned one and keep the cycle in a column of their own:
# (table, the id column, its cycle column, the referenced table).
CARRIERS = (
    ("supply_payment", "order_id", "order_cycle_id", "supply_order"),
    ("supply_refund", "order_id", "order_cycle_id", "supply_order"),
    ("supply_refund", "line_id", "order_cycle_id", "supply_orderline"),
    ("supply_shortfall", "order_id", "order_cycle_id", "supply_order"),
    ("deliveries_handoverevent", "package_id", "package_cycle_id", "deliveries_package"),
)

# A new cycle's partitions: made apart, then attached. ATTACH PARTITION takes only a SHARE UPDATE
# EXCLUSIVE lock of the parent (CREATE TABLE … PARTITION OF would take ACCESS EXCLUSIVE, held
# until cycle_open commits its baseline orders: every read of the cycle being delivered waits).
# No default partition: a row of a cycle without its partition (an archived one) is refused.
PARTITIONS_FUNCTION = """
CREATE FUNCTION baogong_cycle_partitions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent text;
    partition text;
BEGIN
    FOREACH parent IN ARRAY ARRAY['supply_order', 'supply_orderline', 'deliveries_package',
                                  'deliveries_packageorder'] LOOP
        partition := parent || '_cycle_' || NEW.id;
        IF to_regclass(partition) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', partition, parent);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%s)', parent, partition, NEW.id);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER cycle_partitions AFTER INSERT ON supply_cycle
    FOR EACH ROW EXECUTE FUNCTION baogong_cycle_partitions();
"""

# Handover events stay append-only, except for archive_cycle, which writes a cycle's events to its
# files and then deletes them with ``SET LOCAL baogong.archiving = 'on'``.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION deliveries_handoverevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('baogong.archiving', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'handover events are append-only (' || TG_OP || ' refused)';
END;
$$ LANGUAGE plpgsql;
"""
APPEND_ONLY_BEFORE = """
CREATE OR REPLACE FUNCTION deliveries_handoverevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'handover events are append-only (' || TG_OP || ' refused)';
END;
$$ LANGUAGE plpgsql;
"""

CARRIER_FUNCTION = """
CREATE FUNCTION baogong_{column}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.{column} := (SELECT t.cycle_id FROM {referenced} t WHERE t.id = NEW.{id_column});
    RETURN NEW;
END $$;
"""


def _rebuild(cursor, table: str, *, partitioned: bool) -> None:
    """Make ``table`` again, partitioned by its cycle or plain, with its rows, indexes and outgoing
    keys."""
    old = f"{table}_rebuilt"
    cursor.execute(
        """SELECT i.relname, pg_get_indexdef(x.indexrelid), c.contype, pg_get_constraintdef(c.oid)
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
            WHERE x.indrelid = %s::regclass AND NOT x.indisprimary""",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    key, by = ("id, cycle_id", " PARTITION BY LIST (cycle_id)") if partitioned else ("id", "")
    cursor.execute(
        f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS,"
        f" CONSTRAINT {table}_new_pkey PRIMARY KEY ({key})){by}"
    )
    if partitioned:
        cursor.execute("SELECT id FROM supply_cycle ORDER BY id")
        for (cycle_id,) in cursor.fetchall():
            cursor.execute(f"CREATE TABLE {table}_cycle_{cycle_id} PARTITION OF {table} FOR VALUES IN ({cycle_id})")
    cursor.execute(f"INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM {old}")
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL)"
        f" FROM {table}"
    )
    cursor.execute(f"DROP TABLE {old} CASCADE")
    cursor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {table}_new_pkey TO {table}_pkey")
    cursor.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
    cursor.execute(f"ALTER SEQUENCE {cursor.fetchone()[0]} RENAME TO {table}_id_seq")
    for name, definition, kind, constraint in indexes:
        if name == ONE_PACKAGE_PER_ORDER:
            constraint = "UNIQUE (order_id, cycle_id)" if partitioned else "UNIQUE (order_id)"
        if kind == "u":
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {constraint}")
        else:
            cursor.execute(definition)  # read before the rename: it names the new table
    for name, definition in foreign_keys:
        if not definition.startswith("FOREIGN KEY (order_id, cycle_id)") and "(package_id, cycle_id)" not in definition:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def _nullable(cursor, table: str, column: str) -> bool | None:
    cursor.execute(
        "SELECT is_nullable = 'YES' FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
        [table, column],
    )
    row = cursor.fetchone()
    return None if row is None else row[0]


def _carry(cursor, table: str, id_column: str, column: str, referenced: str) -> None:
    """Give ``table`` the cycle of the row it points at, kept by a trigger, and the composite key.

    The cycle column is NOT NULL when the id column is (a missing row fails there); otherwise the
    key is MATCH FULL, so an id without its cycle fails it."""
    if _nullable(cursor, table, column) is None:
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} bigint")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")  # handover events refuse UPDATE
        cursor.execute(
            f"UPDATE {table} x SET {column} = t.cycle_id FROM {referenced} t WHERE t.id = x.{id_column}"
        )
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        if not _nullable(cursor, table, id_column):
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")
        cursor.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")  # what archive_cycle reads
        cursor.execute(f"SELECT 1 FROM pg_proc WHERE proname = 'baogong_{column}'")
        if cursor.fetchone() is None:
            cursor.execute(CARRIER_FUNCTION.format(column=column, referenced=referenced, id_column=id_column))
        cursor.execute(
            f"CREATE TRIGGER {table}_{column} BEFORE INSERT OR UPDATE OF {id_column} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION baogong_{column}()"
        )
    match = " MATCH FULL" if _nullable(cursor, table, column) else ""
    cursor.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_{id_column}_cycle_fk FOREIGN KEY ({id_column}, {column})"
        f" REFERENCES {referenced} (id, cycle_id){match} DEFERRABLE INITIALLY DEFERRED"
    )


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in PARTITIONED:
            _rebuild(cursor, table, partitioned=True)
        for table, columns, referenced in LINKS:
            name = f"{table}_{columns.split(',')[0]}_cycle_fk"
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns})"
                f" REFERENCES {referenced} (id, cycle_id) DEFERRABLE INITIALLY DEFERRED"
            )
        for carrier in CARRIERS:
            _carry(cursor, *carrier)
        cursor.execute(PARTITIONS_FUNCTION)
        cursor.execute(APPEND_ONLY_FUNCTION)


def unpartition(apps, schema_editor):
    """Back to plain tables and Django's own keys."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DROP TRIGGER cycle_partitions ON supply_cycle")
        cursor.execute("DROP FUNCTION baogong_cycle_partitions()")
        cursor.execute(APPEND_ONLY_BEFORE)
        cursor.execute("DROP FUNCTION baogong_order_cycle_id(), baogong_package_cycle_id() CASCADE")  # and triggers
        for table, _id_column, column, _referenced in CARRIERS:
            cursor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column} CASCADE")
        for table in reversed(PARTITIONED):
            _rebuild(cursor, table, partitioned=False)
    for model in apps.get_models():
        for field in model._meta.local_fields:
            if field.is_relation and field.db_constraint and field.related_model._meta.db_table in PARTITIONED:
                schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))


class Migration(migrations.Migration):
    dependencies = [
        ("deliveries", "0012_packageorder_cycle"),
        ("supply", "0012_line_cycle"),
    ]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
