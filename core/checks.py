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
    if settings.PAYMENT_GATEWAY == "fake":
        problems.append(
            Error(
                "PAYMENT_GATEWAY is 'fake': online orders would be 'paid' on the demo's own cashier, with no money.",
                hint="Set PAYMENT_GATEWAY=wechat or alipay with its keys (README, 'Online payment').",
                id="baogong.E003",
            )
        )
    required = {
        "wechat": (
            "WECHATPAY_MCHID",
            "WECHATPAY_APPID",
            "WECHATPAY_CERT_SERIAL_NO",
            "WECHATPAY_PRIVATE_KEY",
            "WECHATPAY_APIV3_KEY",
            "WECHATPAY_PUBLIC_KEY",
            "WECHATPAY_PUBLIC_KEY_ID",
        ),
        "alipay": ("ALIPAY_APPID", "ALIPAY_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"),
    }.get(settings.PAYMENT_GATEWAY, ())
    missing = [name for name in required if not getattr(settings, name)]
    if missing:
        problems.append(
            Error(
                f"PAYMENT_GATEWAY is '{settings.PAYMENT_GATEWAY}' but {', '.join(missing)} is not set.",
                hint="README, 'Online payment', lists what each provider needs.",
                id="baogong.E004",
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
