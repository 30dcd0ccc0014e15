from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app uses and no app owns: the project error and its API envelope, request
    parsing at the edges, the queue helper, throttles and guessing limits, middleware, phone
    numbers and pinyin, deployment checks. Imports no other app of the project."""

    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers the deploy checks)
