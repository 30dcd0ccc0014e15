import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after the application has loaded the settings)

if not settings.REDIS_URL:
    # Said plainly in the embedded demo: without Redis each web process keeps its own counts.
    logging.getLogger("baogong.guard").warning(
        "No REDIS_URL: limits on sign-in attempts and one-time codes are counted per web process (embedded demo)."
    )
if settings.SHOW_SMS_CODES:
    logging.getLogger("baogong.sms").warning("SHOW_SMS_CODES: one-time codes are shown on the page (demo only).")
