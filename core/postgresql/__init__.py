"""Django's PostgreSQL backend, told which tables are partitioned by cycle (ARCHITECTURE.md,
"Partitioned by cycle"): ``ENGINE = "core.postgresql"``, which config/settings.py sets for every
postgres:// URL."""

# Partitioned by LIST (cycle_id) in deliveries/migrations/0013_partition_by_cycle.py.
PARTITIONED_TABLES = frozenset({"supply_order", "supply_orderline", "deliveries_package", "deliveries_packageorder"})
