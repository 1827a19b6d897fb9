"""Harvester settings: one module, driven by the environment.

Embedded default (nothing set, DEBUG=1): SQLite in the repo and Celery tasks run in-process.
Production (DEBUG unset or 0): SECRET_KEY and ALLOWED_HOSTS are required; DATABASE_URL and REDIS_URL
select PostgreSQL and real Celery workers. See README.md "Configuration" for every variable.
"""

import os
import sys
from datetime import timedelta as _timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from harvester.env import check_redis_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("HARVESTER_TESTING", False) or "pytest" in sys.modules

_DEV_SECRET = "dev-only-insecure-secret-key-never-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG off) needs a long random SECRET_KEY; "
            "for local development set DEBUG=1."
        )
    SECRET_KEY = _DEV_SECRET
elif not (DEBUG or TESTING) and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY is too short for production: use at least 32 random characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if (DEBUG or TESTING) else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set. Production needs e.g. ALLOWED_HOSTS=harvester.example.com")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

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
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_htmx",
    "template_partials",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accounts",
    "lots",
    "harvester",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "harvester.headers.SecurityHeadersMiddleware",  # before WhiteNoise, so static files get the headers too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.OTPMiddleware",  # django-otp's, with a cheaper device lookup
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.SessionExpiryMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it turns a lockout into its page
]

ROOT_URLCONF = "harvester.urls"
WSGI_APPLICATION = "harvester.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# Database: PostgreSQL through psycopg 3 when DATABASE_URL is set, else the embedded SQLite file.
_database_url = env_str("DATABASE_URL")
if _database_url:
    try:
        _db = dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, maximum=3600))
    except Exception as exc:  # dj_database_url raises several types for malformed URLs
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if not _db.get("ENGINE"):
        raise ImproperlyConfigured(f"DATABASE_URL scheme is not supported: {_database_url.split(':', 1)[0]!r}")
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:  # the slow password hash costs about a second per test user; tests are not about it
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE") or "America/New_York"
USE_I18N = False
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEBUG or TESTING)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security defaults (docs/security.md). Production is HTTPS-only without any variable set; DEBUG (and the
# test suite) relaxes only what a plain-HTTP laptop needs. The response headers Django has no setting for
# (Content-Security-Policy, Permissions-Policy, ...) come from harvester/headers.py.
_HTTPS_ONLY = not (DEBUG or TESTING)
SESSION_ENGINE = "accounts.sessions"  # Django's database sessions, read with one plain query
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _HTTPS_ONLY)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _HTTPS_ONLY)
# "__Host-" cookies are refused by browsers unless Secure, host-only and Path=/: no subdomain can set them.
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
# Behind a proxy that terminates TLS, BEHIND_TLS_PROXY=1 makes Django trust its X-Forwarded-Proto, so the
# redirect and HSTS know the request was HTTPS. SECURE_SSL_REDIRECT=0 only when the proxy redirects itself.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS_ONLY)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 86400 if _HTTPS_ONLY else 0, maximum=63072000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is a commitment about the whole registrable domain that its owner makes at hstspreload.org;
# an application should not make it for them. Opting out is what check --deploy's W021 reports.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sessions end 8 hours after login (SESSION_COOKIE_AGE) or after 30 idle minutes (SESSION_IDLE_TIMEOUT),
# whichever comes first: accounts/middleware.py SessionExpiryMiddleware.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300, maximum=30 * 86400)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60, minimum=60, maximum=SESSION_COOKIE_AGE)

# Login: a password, then for anyone with a second factor (and always for advisors and staff) a TOTP code
# or a backup code (accounts/mfa.py). Five wrong passwords or codes for one username from one address lock
# that pair out for 15 minutes (django-axes; accounts/lockout.py audits each lockout).
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = _timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = False  # accounts/lockout.py clears the count once the whole login (code included) succeeds
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "harvester.audit.client_ip"  # the address the audit log records, by one rule
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "confirm", "old_password", "new_password1",
                             "new_password2"]
OTP_TOTP_ISSUER = "Harvester"
OTP_TOTP_THROTTLE_FACTOR = 1  # after n wrong codes in a row, the next is refused for 2^(n-1) seconds
OTP_STATIC_THROTTLE_FACTOR = 1

# Email: console in development, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST") or ""
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Harvester <harvester@localhost>"
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
if EMAIL_BACKEND.endswith("smtp.EmailBackend") and not EMAIL_HOST:
    raise ImproperlyConfigured("EMAIL_BACKEND is SMTP but EMAIL_HOST is not set.")

# Celery: a real broker when REDIS_URL is set; otherwise tasks run in-process (embedded default).
REDIS_URL = env_str("REDIS_URL") or ""
if REDIS_URL:
    check_redis_url("REDIS_URL", REDIS_URL)
# The cache (harvester/cache.py): Redis, in a database of its own beside the broker's (so that clearing the
# cache never touches queued tasks), shared by every web process; without Redis, each process's memory.
if REDIS_URL:
    _broker_db = REDIS_URL.rstrip("/").rsplit("/", 1)[-1]
    _cache_url = env_str("REDIS_CACHE_URL") or (
        f"{REDIS_URL.rstrip('/').rsplit('/', 1)[0]}/{1 if _broker_db != '1' else 2}"
        if _broker_db.isdigit() else f"{REDIS_URL.rstrip('/')}/1"
    )
    CACHES = {
        "default": {
            "BACKEND": "harvester.cache.ResilientRedisCache",
            "LOCATION": _cache_url,
            # A test run's entries cannot meet another run's (their databases reuse ids and stamps).
            "KEY_PREFIX": f"harvester-test-{os.getpid()}" if TESTING else "harvester",
            # A Redis that hangs must not hang the page: after this long the read is a miss.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600, maximum=86400)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "reporting.api_auth.ApiTokenAuthentication",  # DRF's, in one hand-written query
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Harvester API",
    "DESCRIPTION": "Read access to households, accounts, lots and realized results. Money is a decimal string.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Every record ends at the root handler, whose filter redacts secrets (harvester/logredact.py): Django's
# own loggers lose their default handlers and propagate there, and Celery workers keep this configuration
# instead of replacing the root handler with theirs.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "harvester.logredact.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"], "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "ofxtools": {"level": "WARNING"},  # it logs every element it converts at INFO
        "axes": {"level": "WARNING"},  # failures and lockouts; its INFO lines repeat the AccessLog table
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Harvest scans (docs/scans.md): households per chunk of a firm-wide scan, the daily scan after market
# close (New York time whatever TIME_ZONE says), and when a chunk left 'running' counts as lost: later than
# a task may run (CELERY_TASK_TIME_LIMIT), so the reaper never re-enqueues work that is still going.
from datetime import datetime as _datetime  # noqa: E402
from zoneinfo import ZoneInfo as _ZoneInfo  # noqa: E402

from celery.schedules import crontab as _crontab  # noqa: E402

# A firm-wide scan's chunks: at most SCAN_CHUNK_SIZE households each (big chunks spread the fixed costs of a
# chunk: claim, scan row, commit), but at least SCAN_MIN_CHUNKS chunks when there are households enough for
# chunks of 50, so that every worker has work (docs/scans.md, "Speed").
SCAN_CHUNK_SIZE = env_int("SCAN_CHUNK_SIZE", 500, minimum=1, maximum=10000)
SCAN_MIN_CHUNKS = env_int("SCAN_MIN_CHUNKS", 8, minimum=1, maximum=10000)
SCAN_SCHEDULE_HOUR = env_int("SCAN_SCHEDULE_HOUR", 16, maximum=23)
SCAN_SCHEDULE_MINUTE = env_int("SCAN_SCHEDULE_MINUTE", 30, maximum=59)
SCAN_SCHEDULE_TIMEZONE = "America/New_York"


def _scan_schedule_now() -> _datetime:
    """The clock of the daily scan's crontab (a module function, so celery beat can pickle the schedule)."""
    return _datetime.now(_ZoneInfo(SCAN_SCHEDULE_TIMEZONE))


SCAN_STALLED_SECONDS = env_int("SCAN_STALLED_SECONDS", CELERY_TASK_TIME_LIMIT + 60, minimum=10, maximum=86400)
SCAN_CHUNK_MAX_ATTEMPTS = env_int("SCAN_CHUNK_MAX_ATTEMPTS", 3, minimum=1, maximum=100)
CELERY_BEAT_SCHEDULE = {
    "harvest-scan-daily": {
        "task": "harvester.tasks.scan_daily_task",
        "schedule": _crontab(
            hour=SCAN_SCHEDULE_HOUR,
            minute=SCAN_SCHEDULE_MINUTE,
            day_of_week="mon-fri",
            nowfun=_scan_schedule_now,
        ),
    },
    "harvest-scan-reaper": {"task": "harvester.tasks.scan_reap_stalled_task", "schedule": 60.0},
}

# Reporting (docs/reporting.md): the calendar-token app, the API's error bodies, throttling and read-only
# tokens, and the daily review-reminder task. Throttle rates come from the environment ("1200/minute");
# the counts live in the default cache (per process unless a shared cache is configured).
from celery.schedules import crontab as _reporting_crontab  # noqa: E402

INSTALLED_APPS.append("reporting")
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "reporting.api_errors.exception_handler"
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = [
    "rest_framework.permissions.IsAuthenticated",
    "reporting.api_auth.TokensAreReadOnly",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "rest_framework.throttling.AnonRateThrottle",
    "rest_framework.throttling.UserRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "anon": env_str("API_THROTTLE_ANON") or ("100000/minute" if TESTING else "60/minute"),
    "user": env_str("API_THROTTLE_USER") or ("100000/minute" if TESTING else "1200/minute"),
}
REVIEW_REMINDER_DAYS_AHEAD = env_int("REVIEW_REMINDER_DAYS_AHEAD", 7, maximum=60)
CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
CELERY_BEAT_SCHEDULE.update(
    {
        "review-reminders-daily": {
            "task": "harvester.calendar_tasks.review_reminders_task",
            "schedule": _reporting_crontab(hour=8, minute=0),
        },
    }
)

# Approvals (docs/approvals.md): expire past-due proposals and remind approvers before expiry; paper
# execution at the last price is a demo feature (on with DEBUG unless PAPER_EXECUTION says otherwise).
PAPER_EXECUTION = env_bool("PAPER_EXECUTION", DEBUG or TESTING)
SITE_URL = env_str("SITE_URL") or ""
CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
CELERY_BEAT_SCHEDULE.update(
    {
        "approvals-expire": {"task": "harvester.approval_tasks.proposals_expire_task", "schedule": 300.0},
        "approvals-remind": {"task": "harvester.approval_tasks.proposals_remind_task", "schedule": 900.0},
    }
)

# Onboarding (docs/importing.md): a close older than this many NYSE trading days is stale (lots/prices.py).
PRICE_STALE_TRADING_DAYS = env_int("PRICE_STALE_TRADING_DAYS", 3, minimum=0, maximum=60)

# Operations (docs/operations.md): a reused database connection is checked before a request uses it, so
# the site recovers by itself after PostgreSQL restarts; a request that meets an unavailable database
# answers a short 503 (JSON under /api/) instead of a 500 (harvester/db_errors.py, right after
# SecurityMiddleware, so every middleware that may query is inside it). STATIC_ROOT in the environment
# moves the collected static files (the fault drill collects into its scratch directory).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", True)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "harvester.db_errors.DatabaseUnavailableMiddleware"
)
if env_str("STATIC_ROOT"):
    STATIC_ROOT = Path(env_str("STATIC_ROOT"))
