from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = _("Places and households")

    def ready(self) -> None:
        from core.demo import register_step
        from households import rules, schedule  # noqa: F401  (who may do what; the timed jobs' run records)

        register_step("households.city", order=20, path="households.demo.step.demo_step")
