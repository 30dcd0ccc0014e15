"""celery -A packprof_app worker: the project's Celery app with deliveries.services.community_build
replaced by the variant named in PACKPROF_VARIANT (an experiment; the project is not edited)."""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from config.celery import app  # noqa: E402

django.setup()
import variants  # noqa: E402
from deliveries import services  # noqa: E402

services.community_build = variants.VARIANTS[os.environ["PACKPROF_VARIANT"]]
