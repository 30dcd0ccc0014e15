from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveriesConfig(AppConfig):
    name = "deliveries"
    verbose_name = _("Deliveries")

    def ready(self) -> None:
        from core.demo import register_step
        from deliveries import (
            access,  # noqa: F401  (registers deliveries models with households.access)
            dashboard,  # (its figures for households.dashboard)
            rules,  # noqa: F401  (who may do what, for templates and the navigation)
        )

        dashboard.register()
        from deliveries.volunteers import dashboard as volunteer_dashboard

        volunteer_dashboard.register()
        from deliveries.selectors import package_views_of_orders
        from supply import packages

        packages.register(package_views_of_orders)
        register_step("deliveries.volunteers", order=35, path="deliveries.demo.demo_step")
