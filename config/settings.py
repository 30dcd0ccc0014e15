"""Settings for Baogong. The only module that reads the environment.

Embedded default (no environment): SQLite file, eager Celery, local-memory cache.
Real deployment: DATABASE_URL (PostgreSQL), REDIS_URL (broker, results, cache), SECRET_KEY,
DEBUG, ALLOWED_HOSTS.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost", "[::1]"]),
    REDIS_URL=(str, ""),
    CITY_SUPPLY_HOTLINE=(str, "0371-67180381"),
    SMS_BACKEND=(str, "console"),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# The embedded default key is only for the demo on 127.0.0.1; production sets SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="django-insecure-baogong-demo-only-change-me")
DEBUG = env("DEBUG")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "core",
    "households",
    "supply",
    "deliveries",
    "hotlines",
]

MIDDLEWARE = [
    "core.replica.ReplicaReadsMiddleware",  # before anything reads the session or the user
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed on the wire (the shop page: 59 KB → about 5 KB). Django pads each response
    # against BREACH and masks the CSRF token per response.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",  # database restarting → 503, not 500
    "core.middleware.RequestEdgesMiddleware",  # control characters, oversized bodies, bad parameters → 4xx
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",  # a page beyond its rate → RATELIMIT_VIEW (429)
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "households.context_processors.hotline",
                "households.context_processors.large_text",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded demo takes simultaneous writes from gunicorn's workers and threads and from eager
    # tasks: WAL lets readers go on while one writes, and IMMEDIATE transactions take the write lock
    # when they begin, so a second writer waits its turn (up to the busy timeout) instead of failing
    # at once with "database is locked" when a deferred transaction tries to upgrade its lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["ENGINE"] = "core.postgresql"  # Django's, knowing the tables partitioned by cycle
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# A PostgreSQL streaming replica for dashboards and reports (core/replica.py): their GETs read
# there, every write and everything else goes to the primary; a person who just wrote reads the
# primary for REPLICA_PIN_SECONDS.
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["ENGINE"] = DATABASES["default"]["ENGINE"]
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"].get("CONN_MAX_AGE", 0)
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # a test run has no replica of its own
    DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "households.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "households.auth.PhoneNumberBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# Our own MONTH_DAY_FORMAT per language (core/dates.py); the rest is Django's.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "core.storage.StaticStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: eager in-process when there is no Redis (the embedded demo), a real broker otherwise.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A prefork child that has grown past this (KB) is replaced after its task: drawing lists keeps
# fonts and layouts in memory (about 520 MB per process, BENCHMARKS.md "paper").
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=800_000)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
# Queues per kind of work, so each can get its own workers on other machines (docker compose: the
# paper service; `celery -A config worker -Q paper` elsewhere). A worker started without -Q takes
# every queue below, so one worker still does everything on one machine.
CELERY_TASK_QUEUES = tuple(Queue(name) for name in ("celery", "orders", "packing", "paper", "notify"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    # the side effects of ordering, which must not wait behind a city's close
    "deliveries.tasks.urgent_package*": {"queue": "orders"},
    "supply.tasks.payments_expire_task": {"queue": "orders"},
    "supply.tasks.refunds_send_task": {"queue": "orders"},
    "supply.tasks.cycle_open_due_task": {"queue": "orders"},
    # printed lists: the heaviest CPU work, by far
    "deliveries.tasks.*lists_print_task": {"queue": "paper"},
    "deliveries.tasks.stale_lists_refresh_task": {"queue": "paper"},
    # telling people: SMS and in-app notices
    "households.tasks.sms_*": {"queue": "notify"},
    "*_notify_task": {"queue": "notify"},
    "supply.tasks.restock_alerts_send_task": {"queue": "notify"},
    "deliveries.tasks.volunteer_call_task": {"queue": "notify"},
    # packing a cycle and what follows it
    "deliveries.tasks.community_build_task": {"queue": "packing"},
    "deliveries.tasks.cycle_close_due_task": {"queue": "packing"},
    "deliveries.tasks.builds_requeue_stale_task": {"queue": "packing"},
    "deliveries.tasks.packages_recompute_task": {"queue": "packing"},
    "deliveries.tasks.cycle*complete*": {"queue": "packing"},
}
CELERY_BEAT_SCHEDULE: dict = {
    "open-due-cycle": {"task": "supply.tasks.cycle_open_due_task", "schedule": 15 * 60},
    "expire-unpaid-orders": {"task": "supply.tasks.payments_expire_task", "schedule": 60},
    "send-refunds": {"task": "supply.tasks.refunds_send_task", "schedule": 5 * 60},
    "restock-alerts": {"task": "supply.tasks.restock_alerts_send_task", "schedule": 60},
    "abandon-stale-calls": {"task": "hotlines.tasks.calls_abandon_stale_task", "schedule": 5 * 60},
    "close-due-cycle": {"task": "deliveries.tasks.cycle_close_due_task", "schedule": 60},
    "requeue-stale-builds": {"task": "deliveries.tasks.builds_requeue_stale_task", "schedule": 60},
    "urgent-packages": {"task": "deliveries.tasks.urgent_packages_sweep_task", "schedule": 60},
    "refresh-stale-lists": {"task": "deliveries.tasks.stale_lists_refresh_task", "schedule": 120},
    "complete-done-cycles": {"task": "deliveries.tasks.cycles_complete_due_task", "schedule": 10 * 60},
    "escalate-overdue-tickets": {"task": "hotlines.tasks.tickets_escalate_due_task", "schedule": 60},
    "send-due-sms": {"task": "households.tasks.sms_send_due_task", "schedule": 30},
    "notify-confirmed-orders": {"task": "supply.tasks.orders_confirmed_notify_task", "schedule": 30},
    "apply-due-lockdown-changes": {"task": "households.tasks.lockdown_changes_apply_due_task", "schedule": 60},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token authentication in one hand-written query (see households/auth.py).
        "households.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, refusing too-deep nesting and control characters (core/parsers.py)
    "DEFAULT_PARSER_CLASSES": ["core.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    # core/throttling.py: sign-in per address, orders per account (429 beyond)
    "DEFAULT_THROTTLE_RATES": {
        "sign_in": env("SIGN_IN_RATE", default="20/m"),
        "orders": env("ORDER_RATE", default="60/m"),
    },
}
# The same rates for the pages (django-ratelimit).
SIGN_IN_RATE = REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["sign_in"]
ORDER_RATE = REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["orders"]
REGISTER_RATE = env("REGISTER_RATE", default="10/h")  # registration forms sent per client address
RATELIMIT_VIEW = "households.views.too_many_requests"
RATELIMIT_FAIL_OPEN = True  # Redis down: let sign-ins and orders through rather than refuse them all
# Who the client is (core/guard.py): X-Forwarded-For is believed only for this many proxies
# of our own in front of the web processes (0: the connection's own address, whatever the header says).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
RATELIMIT_IP_META_KEY = "core.guard.client_ip"
# Wrong passwords and codes (core/guard.py): free failures per account (or phone number) and
# per client address, then a lock that doubles with each failure, from GUARD_BACKOFF_SECONDS up to
# GUARD_BACKOFF_MAX_SECONDS. Counts are forgotten GUARD_WINDOW_SECONDS after the last failure.
GUARD_FREE_FAILURES_PER_ACCOUNT = env.int("GUARD_FREE_FAILURES_PER_ACCOUNT", default=5)
GUARD_FREE_FAILURES_PER_ADDRESS = env.int("GUARD_FREE_FAILURES_PER_ADDRESS", default=30)
GUARD_BACKOFF_SECONDS = env.int("GUARD_BACKOFF_SECONDS", default=30)
GUARD_BACKOFF_MAX_SECONDS = env.int("GUARD_BACKOFF_MAX_SECONDS", default=3600)
GUARD_WINDOW_SECONDS = env.int("GUARD_WINDOW_SECONDS", default=24 * 3600)
# One-time text-message codes (households/identity.py).
PHONE_CODE_LIFETIME_SECONDS = env.int("PHONE_CODE_LIFETIME_SECONDS", default=5 * 60)
PHONE_CODE_MAX_TRIES = env.int("PHONE_CODE_MAX_TRIES", default=5)
PHONE_CODE_RESEND_SECONDS = env.int("PHONE_CODE_RESEND_SECONDS", default=60)
PHONE_CODE_DAILY_PER_PHONE = env.int("PHONE_CODE_DAILY_PER_PHONE", default=10)
PHONE_CODE_DAILY_PER_ADDRESS = env.int("PHONE_CODE_DAILY_PER_ADDRESS", default=100)
# API tokens expire this many days after they are issued.
API_TOKEN_LIFETIME_DAYS = env.int("API_TOKEN_LIFETIME_DAYS", default=30)
SPECTACULAR_SETTINGS = {
    "TITLE": "Baogong API",
    "DESCRIPTION": "保供: lockdown supply ordering and door-to-door delivery.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from our own static files: no CDN is reachable in a sealed city's network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind HTTPS (a real deployment): HTTPS_ONLY=true turns on the redirect, HSTS and secure
# cookies. Off by default so that `make run` serves the demo on http://127.0.0.1:8000.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=False)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SESSION_COOKIE_SECURE = HTTPS_ONLY or env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=31536000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts only from our own static files, never inline
# (static/js/baogong.js holds every handler); no frames, no plugins, forms post only to us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # style attributes in templates and the inline styles of the admin and Swagger UI
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if env.bool("BEHIND_PROXY", default=False):
    # the proxy in front (nginx, a load balancer) terminates TLS and says so in this header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Fault-injection for the crash tests only: seconds each community build waits inside its
# transaction, so a test can kill a worker in the middle of one. Always 0 in real use.
DELIVERIES_BUILD_PAUSE = env.float("DELIVERIES_BUILD_PAUSE", default=0.0)

# Volunteers' rounds (deliveries/volunteers): a door counts 10 (tenths), plus ROUND_CLIMB_PER_FLOOR
# for each floor above ROUND_FREE_FLOORS in a building without a lift, when rounds are divided.
ROUND_FREE_FLOORS = env.int("ROUND_FREE_FLOORS", default=3)
ROUND_CLIMB_PER_FLOOR = env.int("ROUND_CLIMB_PER_FLOOR", default=2)

# Printed lists (deliveries/printing): drawn for every community, office and supplier as soon
# as a cycle is packed, and kept.
DELIVERIES_PRINT_ON_PACK = env.bool("DELIVERIES_PRINT_ON_PACK", default=True)
# The printed lists are set by Typst ("typst"), or by WeasyPrint from their HTML ("weasyprint":
# the slower way they were drawn before, kept as bench/paper.py's baseline).
PAPER_ENGINE = env.str("PAPER_ENGINE", default="typst")
# seconds to wait, times the attempt, before drawing a list again when the database is busy
DELIVERIES_PRINT_BUSY_PAUSE = env.float("DELIVERIES_PRINT_BUSY_PAUSE", default=0.5)
# Without Redis (eager tasks), long work nobody waits for runs in a thread of the web process
# (core/queue.py), so closing a cycle in the demo does not wait for every PDF.
EAGER_TASKS_IN_THREADS = env.bool("EAGER_TASKS_IN_THREADS", default=True)
# The address phones reach the site at: label QR codes open SITE_URL/p/<package code>/. Required
# in a deployment (check --deploy: baogong.E002); `make run` sets it from HOST and PORT; unset in
# development, labels point at http://127.0.0.1:8000 and pages shown on screen at their own host.
SITE_URL = env("SITE_URL", default="")

# Text messages to residents (core/sms.py): "console" logs them, "http" posts
# them to a provider's gateway. A failed send is retried SMS_MAX_ATTEMPTS times, then reported.
SMS_BACKEND = env("SMS_BACKEND")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
# The demo has no phones: with the console backend, a one-time code is also shown on the page that
# asks for it when DEBUG is on (or SHOW_SMS_CODES=true, as `make run` sets). Never with a real
# gateway; `check --deploy` refuses it (core/checks.py).
SHOW_SMS_CODES = env.bool("SHOW_SMS_CODES", default=DEBUG) and SMS_BACKEND == "console"

# Online payment (supply/payments): PAYMENT_GATEWAY is "fake" (the demo's own cashier, no real
# money, refused by check --deploy), "wechat" (WeChat Pay API v3) or "alipay". Keys and ids come
# from the environment only (README, "Online payment"); the *_GATEWAY_URL settings point an
# adapter at another server (the tests' local ones). An online order not paid within
# PAYMENT_EXPIRY_MINUTES is cancelled and its items go back on sale.
# A hotline call nobody finished (the operator went to another caller, or the page was closed)
# closes itself as "not finished" after this many minutes.
CALL_ABANDON_MINUTES = env.int("CALL_ABANDON_MINUTES", default=60)
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="fake")
PAYMENT_EXPIRY_MINUTES = env.int("PAYMENT_EXPIRY_MINUTES", default=15)
PAYMENT_NOTICE_MAX_AGE_SECONDS = env.int("PAYMENT_NOTICE_MAX_AGE_SECONDS", default=300)
PAYMENT_TIMEOUT_SECONDS = env.float("PAYMENT_TIMEOUT_SECONDS", default=10.0)
FAKEPAY_SECRET = env("FAKEPAY_SECRET", default="") or SECRET_KEY
WECHATPAY_MCHID = env("WECHATPAY_MCHID", default="")
WECHATPAY_APPID = env("WECHATPAY_APPID", default="")
WECHATPAY_CERT_SERIAL_NO = env("WECHATPAY_CERT_SERIAL_NO", default="")
WECHATPAY_PRIVATE_KEY = env("WECHATPAY_PRIVATE_KEY", default="")  # PEM text, or @/path/to/apiclient_key.pem
WECHATPAY_APIV3_KEY = env("WECHATPAY_APIV3_KEY", default="")
WECHATPAY_PUBLIC_KEY = env("WECHATPAY_PUBLIC_KEY", default="")  # the platform's public key (PEM or @path)
WECHATPAY_PUBLIC_KEY_ID = env("WECHATPAY_PUBLIC_KEY_ID", default="")
WECHATPAY_GATEWAY_URL = env("WECHATPAY_GATEWAY_URL", default="https://api.mch.weixin.qq.com")
ALIPAY_APPID = env("ALIPAY_APPID", default="")
ALIPAY_PRIVATE_KEY = env("ALIPAY_PRIVATE_KEY", default="")  # the app's private key (PEM or @path)
ALIPAY_PUBLIC_KEY = env("ALIPAY_PUBLIC_KEY", default="")  # Alipay's public key (PEM or @path)
ALIPAY_GATEWAY_URL = env("ALIPAY_GATEWAY_URL", default="https://openapi.alipay.com/gateway.do")

# The city's 24-hour supply hotline (a district's own number takes precedence on its pages).
CITY_SUPPLY_HOTLINE = env("CITY_SUPPLY_HOTLINE")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
