"""The backend itself: Django's, with one feature answered per model."""

from django.db.backends.postgresql import base, features

from core.postgresql import PARTITIONED_TABLES


class DatabaseFeatures(features.DatabaseFeatures):
    def allows_group_by_selected_pks_on_model(self, model) -> bool:
        """Django groups by the primary key alone and selects the other columns, which PostgreSQL
        allows only for a real primary key: a partitioned table's is ``(id, cycle_id)``, not the
        ``id`` Django knows, so its queries group by every selected column."""
        return model._meta.db_table not in PARTITIONED_TABLES and super().allows_group_by_selected_pks_on_model(model)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
