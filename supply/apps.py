from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupplyConfig(AppConfig):
    name = "supply"
    verbose_name = _("Supply")

    def ready(self) -> None:
        from core.demo import register_step
        from supply import (
            access,  # noqa: F401  (registers supply models with households.access)
            dashboard,  # (its figures for households.dashboard)
            rules,  # noqa: F401  (who may do what, for templates and the navigation)
        )

        dashboard.register()
        register_step("supply.suppliers", order=10, path="supply.demo.step.demo_suppliers_step")
        register_step("supply.catalog", order=30, path="supply.demo.step.demo_catalog_step")
