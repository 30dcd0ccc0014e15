"""Deployment settings: `check --deploy` is clean with production variables, headers are set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k7#Qz9!vX2m@Lp4$Rt8^Wn1&Yb6*Hc3(Jd5)Fg0_Ks-Ua+Ee=Io~Oh|Pq;Mr:Nt",
    "ALLOWED_HOSTS": "baogong.zhengzhou.example",
    "CSRF_TRUSTED_ORIGINS": "https://baogong.zhengzhou.example",
    "HTTPS_ONLY": "true",
    "BEHIND_PROXY": "true",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "SMS_BACKEND": "http",
    "SMS_GATEWAY_URL": "https://sms.zhengzhou.example/send",
    "SITE_URL": "https://baogong.zhengzhou.example",
    # Not keys: the check only asks that each is set (the files live outside the repository).
    "PAYMENT_GATEWAY": "alipay",
    "ALIPAY_APPID": "2021000000000000",
    "ALIPAY_PRIVATE_KEY": "@/run/secrets/alipay_app_private_key.pem",
    "ALIPAY_PUBLIC_KEY": "@/run/secrets/alipay_public_key.pem",
}


def _check_deploy(**overrides) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "HTTPS_ONLY", "DJANGO_SETTINGS_MODULE", "SHOW_SMS_CODES"}
    }
    env.update(PRODUCTION, **overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    done = _check_deploy()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_requires_the_address_labels_point_at():
    done = _check_deploy(SITE_URL="")
    assert done.returncode != 0 and "baogong.E002" in done.stderr + done.stdout


def test_check_deploy_refuses_the_demo_cashier_and_a_provider_without_its_keys():
    done = _check_deploy(PAYMENT_GATEWAY="fake")
    assert done.returncode != 0 and "baogong.E003" in done.stderr + done.stdout
    done = _check_deploy(PAYMENT_GATEWAY="wechat")
    assert done.returncode != 0 and "baogong.E004" in done.stderr + done.stdout
    assert "WECHATPAY_MCHID" in done.stderr + done.stdout


def test_make_run_points_labels_at_its_own_host_and_port():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)}" in makefile


def test_check_deploy_refuses_the_demo_key_and_plain_http():
    done = _check_deploy(SECRET_KEY="", HTTPS_ONLY="false")
    assert done.returncode != 0
    assert "security.W009" in done.stderr + done.stdout  # the embedded demo key is not a secret
    assert "security.W008" in done.stderr + done.stdout  # no HTTPS redirect


@pytest.mark.django_db
def test_security_headers_on_every_page(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
def test_healthz_says_the_database_answers(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
