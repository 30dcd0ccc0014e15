from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlinesConfig(AppConfig):
    name = "hotlines"
    verbose_name = _("Hotlines")

    def ready(self) -> None:
        from core.demo import register_step
        from hotlines import (
            access,  # noqa: F401  (registers hotline models with households.access)
            dashboard,  # (its figures for households.dashboard)
            receivers,  # noqa: F401  (a care household's missed delivery opens a ticket)
        )

        dashboard.register()
        register_step("hotlines", order=40, path="hotlines.demo.demo_step")
