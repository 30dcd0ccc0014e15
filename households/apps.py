from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = _("Places and households")

    def ready(self) -> None:
        from households import rules, schedule  # noqa: F401  (who may do what; the timed jobs' run records)
