"""Django settings, read from the environment.

TONGBAN_DATABASE_URL  database (default: SQLite file var/tongban.sqlite3, WAL, synchronous=FULL)
TONGBAN_SECRET_KEY    required unless TONGBAN_DEBUG=1
TONGBAN_DEBUG         1 for development
TONGBAN_DEMO          1 to show demo accounts on the login page
TONGBAN_CATALOG       folder of matter YAML files (default: catalog/ at the repo root)
TONGBAN_VAR           folder for the database, uploads and logs (default: var/ at the repo root)
TONGBAN_PUBLIC_URL    the site's public address, printed in certificate QR codes (see below)

Nothing here connects to anything: reading settings never opens a database.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("TONGBAN_DEBUG")
DEMO = _flag("TONGBAN_DEMO")
VAR_DIR = Path(os.environ.get("TONGBAN_VAR", BASE_DIR / "var"))
CATALOG_DIR = Path(os.environ.get("TONGBAN_CATALOG", BASE_DIR / "catalog"))

_INSECURE_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("TONGBAN_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "TONGBAN_SECRET_KEY is not set. Set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set TONGBAN_DEBUG=1 for development only."
        )
    SECRET_KEY = _INSECURE_KEY

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("TONGBAN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks_db",
    "tongban.store",
    "tongban.cli",
    "tongban.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tongban.web.middleware.DatabaseUnavailableMiddleware",  # DB down → 503, Chinese
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tongban.web.middleware.JsonMethodNotAllowedMiddleware",  # API 405 in the API's error shape
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tongban.web.urls"
WSGI_APPLICATION = "tongban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongban.web.context.nav",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("TONGBAN_DATABASE_URL", "")
    if not url:
        url = f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=0)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the writer; synchronous=FULL makes an acknowledged
        # commit survive a power cut. IMMEDIATE takes the write lock at BEGIN, so two
        # writers queue on busy_timeout instead of failing with "database is locked"
        # when a read transaction tries to upgrade.
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        # One file per test run, so two runs on one machine never share a database.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", 5)
        # A request stuck behind a lock fails (and is retried by its caller) instead of
        # holding a worker forever; a session left idle inside a transaction is cut off.
        options.setdefault(
            "options", "-c lock_timeout=15000 -c idle_in_transaction_session_timeout=120000"
        )
        # Keep a worker's connection between requests (checked before reuse): opening one
        # per request cost ~40 % of the throughput in bench/web.py (104 → 171 req/s).
        config["CONN_MAX_AGE"] = int(os.environ.get("TONGBAN_CONN_MAX_AGE", "60"))
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database()}
# The case engine's step statements are prepared on the PostgreSQL server (parsed and planned
# once per connection). Behind a pooler that hands one session's statements to different
# server connections (PgBouncer in transaction mode without max_prepared_statements), set
# TONGBAN_PG_PREPARE=0.
PG_PREPARE = os.environ.get("TONGBAN_PG_PREPARE", "1").strip().lower() not in {
    "0",
    "false",
    "no",
    "off",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "tongban" / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"

# One password check for every login path (site, admin, test client): it is throttled.
AUTHENTICATION_BACKENDS = ["tongban.services.auth.ThrottledModelBackend"]
# Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses).
TRUSTED_PROXIES = tuple(
    a.strip() for a in os.environ.get("TONGBAN_TRUSTED_PROXIES", "").split(",") if a.strip()
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _flag("TONGBAN_HTTPS")
CSRF_COOKIE_SECURE = _flag("TONGBAN_HTTPS")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"tongban": {"handlers": ["console"], "level": "INFO"}},
}
WHITENOISE_USE_FINDERS = True

# Certificates (电子证照): Ed25519 signing keys and the CJK font for the PDF.
# TONGBAN_CERT_KEYS         key_id:base64-private-key,...  The first key signs; the others are
#                           retired keys kept so the certificates they signed still verify.
#                           Rotate by putting a new key first. `tongban cert keygen` prints one.
# TONGBAN_CERT_PUBLIC_KEYS  key_id:base64-public-key,...   Verify-only keys (offline checks,
#                           keys whose private half is destroyed).
# Without TONGBAN_CERT_KEYS, development (TONGBAN_DEBUG=1), demo mode (TONGBAN_DEMO=1) and the
# test suite sign with a key derived from SECRET_KEY — development only; `tongban check` warns.
# Anywhere else issuing a certificate fails until keys are set (never an unsigned one).
# TONGBAN_CJK_FONT          Noto Sans CJK font file (Debian: apt-get install fonts-noto-cjk).
TONGBAN_CERT_KEYS = os.environ.get("TONGBAN_CERT_KEYS", "").strip()
TONGBAN_CERT_PUBLIC_KEYS = os.environ.get("TONGBAN_CERT_PUBLIC_KEYS", "").strip()
TONGBAN_CERT_DEV_KEY = (
    DEBUG or DEMO or os.environ.get("DJANGO_SETTINGS_MODULE") == "tongban.settings_test"
)
TONGBAN_CJK_FONT = os.environ.get(
    "TONGBAN_CJK_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
)


# TONGBAN_PUBLIC_URL  the address the public reaches this site at, e.g. https://tongban.example.gov.cn
#                     (a path prefix is allowed). A certificate's QR code is
#                     <TONGBAN_PUBLIC_URL>/verify/<number>?sig=<signed payload>, so a phone camera
#                     opens the verification page; it is printed on paper, so set it before
#                     issuing certificates in production: a QR printed with the wrong address
#                     still verifies with `tongban cert verify` or the /verify/ page, but a
#                     camera will not open it.
def _public_url(value: str) -> str:
    from urllib.parse import urlsplit

    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"TONGBAN_PUBLIC_URL={value!r} is not an http(s) address "
            "(e.g. https://tongban.example.gov.cn)"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ImproperlyConfigured(
            f"TONGBAN_PUBLIC_URL={value!r}: no query, fragment or user name, just scheme, "
            "host, optional port and path"
        )
    return url


TONGBAN_PUBLIC_URL = _public_url(
    os.environ.get("TONGBAN_PUBLIC_URL", "") or "http://127.0.0.1:8000"
)
