"""System checks of deployment settings (``manage.py check --deploy``): identity and labels."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def identity_deploy_check(app_configs, **kwargs):
    problems = []
    if settings.SHOW_SMS_CODES:
        problems.append(
            Error(
                "SHOW_SMS_CODES is on: one-time codes are shown on the page that asks for them.",
                hint="Only for the demo. Set SHOW_SMS_CODES=false (and DEBUG=false) in a real deployment.",
                id="baogong.E001",
            )
        )
    if not settings.SITE_URL:
        problems.append(
            Error(
                "SITE_URL is not set: the QR codes on printed labels would point at http://127.0.0.1:8000.",
                hint="Set SITE_URL to the address residents' and workers' phones reach the site at.",
                id="baogong.E002",
            )
        )
    if settings.SMS_BACKEND == "console":
        problems.append(
            Warning(
                "SMS_BACKEND is 'console': one-time codes and notices are written to the log, not sent.",
                hint="Set SMS_BACKEND=http with SMS_GATEWAY_URL (and SMS_GATEWAY_TOKEN).",
                id="baogong.W001",
            )
        )
    if not settings.REDIS_URL:
        problems.append(
            Warning(
                "REDIS_URL is not set: limits on sign-in attempts and codes are counted per web process.",
                hint="Set REDIS_URL so every process counts together.",
                id="baogong.W002",
            )
        )
    return problems
