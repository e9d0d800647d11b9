"""Django settings for the package index.

Every environment variable the index reads is read in the block labelled
"Environment" below, and documented in the README. Nothing else in the code
looks at ``os.environ``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


# --------------------------------------------------------------------------
# Environment: the only place the index reads environment variables.
# --------------------------------------------------------------------------
_env = os.environ
# Production: refuse to start without an explicit secret key, database and host names,
# and turn on https-only cookies, HSTS and the https redirect (see docs/deploy.md).
PRODUCTION = _bool(_env.get("PRODUCTION", "false"))
BEHIND_TLS_PROXY = _bool(_env.get("BEHIND_TLS_PROXY", "false"))
HSTS_SECONDS = int(_env.get("HSTS_SECONDS", str(365 * 24 * 3600)))
HSTS_INCLUDE_SUBDOMAINS = _bool(_env.get("HSTS_INCLUDE_SUBDOMAINS", "false"))
HSTS_PRELOAD = _bool(_env.get("HSTS_PRELOAD", "false"))
DEBUG = _bool(_env.get("DEBUG", "false"))
SECRET_KEY = _env.get("SECRET_KEY", "")
ALLOWED_HOSTS = _list(_env.get("ALLOWED_HOSTS", "127.0.0.1,localhost"))
CSRF_TRUSTED_ORIGINS = _list(_env.get("CSRF_TRUSTED_ORIGINS", ""))
DATA_DIR = Path(_env.get("INDEX_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATABASE_URL = _env.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'index.sqlite3'}")
FILE_STORAGE = _env.get("FILE_STORAGE", "local").strip().lower()
FILES_ROOT = Path(_env.get("FILES_ROOT", str(DATA_DIR / "files"))).resolve()
S3_BUCKET = _env.get("S3_BUCKET", "")
S3_ENDPOINT_URL = _env.get("S3_ENDPOINT_URL", "") or None
S3_REGION = _env.get("S3_REGION", "") or None
S3_ACCESS_KEY_ID = _env.get("S3_ACCESS_KEY_ID", "") or None
S3_SECRET_ACCESS_KEY = _env.get("S3_SECRET_ACCESS_KEY", "") or None
S3_PUBLIC_BASE_URL = _env.get("S3_PUBLIC_BASE_URL", "").rstrip("/") or None
# redirect: /packages/ answers with a (signed) URL of the object store; stream: the app
# reads the object and sends it itself (for stores the clients cannot reach).
S3_DOWNLOADS = _env.get("S3_DOWNLOADS", "redirect").strip().lower()
# PostgreSQL stops any query of a web request that runs longer (503 with Retry-After; see
# packages_app/statement_timeout.py); 0: no bound. Management commands are never bound.
DATABASE_STATEMENT_TIMEOUT_MS = int(_env.get("DATABASE_STATEMENT_TIMEOUT_MS", "5000"))
REDIS_URL = _env.get("REDIS_URL", "")
# Keys in the shared cache start with it: lets several indexes share one Redis.
CACHE_KEY_PREFIX = _env.get("CACHE_KEY_PREFIX", "pyindex")
PUBLIC_BASE_URL = _env.get("PUBLIC_BASE_URL", "").rstrip("/")
STATIC_ROOT = Path(_env.get("STATIC_ROOT", str(DATA_DIR / "static"))).resolve()
LOG_LEVEL = _env.get("LOG_LEVEL", "INFO").upper()
# plain: lines for people; json: one JSON object a line for log collectors (gunicorn's
# access log too, see gunicorn.conf.py).
LOG_FORMAT = _env.get("LOG_FORMAT", "plain").strip().lower()
# Uploads: PyPI's default limits; password uploads on (a private index has
# users), local versions off (as on PyPI), project creation for any user.
MAX_FILE_SIZE = int(_env.get("MAX_FILE_SIZE", str(100 * 1024**2)))
MAX_PROJECT_SIZE = int(_env.get("MAX_PROJECT_SIZE", str(10 * 1024**3)))
ALLOW_PASSWORD_UPLOADS = _bool(_env.get("ALLOW_PASSWORD_UPLOADS", "true"))
ALLOW_LOCAL_VERSIONS = _bool(_env.get("ALLOW_LOCAL_VERSIONS", "false"))
PROJECT_CREATION = _env.get("PROJECT_CREATION", "users").strip().lower()
# Failed sign-ins (upload, API, admin) per client, an address and a user name or token:
# after this many failures that client waits this long (packages_app/throttling.py).
AUTH_FAILURE_LIMIT = int(_env.get("AUTH_FAILURE_LIMIT", "10"))
AUTH_LOCKOUT_SECONDS = int(_env.get("AUTH_LOCKOUT_SECONDS", "300"))
# Reverse proxies in front that append the address they saw to X-Forwarded-For; 0 (the
# default) trusts no forwarded header and takes the connection's address.
TRUSTED_PROXY_COUNT = int(_env.get("TRUSTED_PROXY_COUNT", "0"))
# Simple API: how long clients may reuse a page without asking (0: they revalidate
# every time, a cheap 304, so a new upload is seen at once; PyPI, behind a CDN,
# uses 600), and each process's memory for built pages (keyed by serial, never stale).
SIMPLE_MAX_AGE = int(_env.get("SIMPLE_MAX_AGE", "0"))
# The metadata API's reads: same answer for every caller, revalidated by ETag.
API_MAX_AGE = int(_env.get("API_MAX_AGE", "0"))
SIMPLE_MEMORY_CACHE_BYTES = int(_env.get("SIMPLE_MEMORY_CACHE_MB", "256")) * 1024**2
# Pages of /snapshot/ and /cooldown/ URLs (any moment a client names) are kept apart, in each
# process only, never in Redis: this much memory, and at most 1,000 pages (packages_app/caching.py).
TIME_TRAVEL_MEMORY_CACHE_BYTES = int(_env.get("TIME_TRAVEL_MEMORY_CACHE_MB", "32")) * 1024**2
# A cool-down on /simple/ itself ("3d", "12h"; empty: none), and the projects it never holds
# back (comma-separated; your own). Read by packages_app/timetravel.py; see docs/time-travel.md.
SIMPLE_DEFAULT_COOLDOWN = _env.get("SIMPLE_DEFAULT_COOLDOWN", "").strip()
COOLDOWN_EXEMPT_PROJECTS = _list(_env.get("COOLDOWN_EXEMPT_PROJECTS", ""))
# Not from the environment: the test settings turn it off so that gzip is there at once.
SIMPLE_GZIP_IN_BACKGROUND = True
# Read by `manage.py bootstrap_admin` (the serve script runs it).
ADMIN_USERNAME = _env.get("ADMIN_USERNAME", "")
ADMIN_PASSWORD = _env.get("ADMIN_PASSWORD", "")
ADMIN_EMAIL = _env.get("ADMIN_EMAIL", "")
# --------------------------------------------------------------------------

if PROJECT_CREATION not in {"users", "staff"}:
    raise ImproperlyConfigured(f"PROJECT_CREATION must be 'users' or 'staff', not {PROJECT_CREATION!r}.")

if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT!r}.")
if DATABASE_STATEMENT_TIMEOUT_MS < 0:
    raise ImproperlyConfigured("DATABASE_STATEMENT_TIMEOUT_MS must be 0 (no bound) or more milliseconds.")
if S3_DOWNLOADS not in {"redirect", "stream"}:
    raise ImproperlyConfigured(f"S3_DOWNLOADS must be 'redirect' or 'stream', not {S3_DOWNLOADS!r}.")

if PRODUCTION:
    # Defaults that suit a laptop would quietly do the wrong thing on a server: a fresh
    # SQLite file, host names of the loopback only, or debug pages full of settings.
    _missing = [name for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS") if not _env.get(name, "").strip()]
    if _missing:
        raise ImproperlyConfigured(f"PRODUCTION=true needs {', '.join(_missing)} set in the environment.")
    if DEBUG:
        raise ImproperlyConfigured("PRODUCTION=true and DEBUG=true cannot go together.")

if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (the serve script "
            "generates one for a local install), or set DEBUG=true for development."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105 - debug only

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    # Before drf_spectacular: its templates/drf_spectacular/redoc.html overrides the library's.
    "packages_app",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "legacy_api",
    "axes",
]

MIDDLEWARE = [
    # First: load balancers probe by IP address over plain http; the health answer
    # must not depend on ALLOWED_HOSTS or the https redirect.
    "packages_app.health.HealthCheckMiddleware",
    # Then, before anything reads the URL: a NUL in it is a 400 (PostgreSQL cannot hold one).
    "packages_app.url_guard.NulInUrlMiddleware",
    # A query stopped by DATABASE_STATEMENT_TIMEOUT_MS is a 503 with Retry-After, not a 500.
    "packages_app.statement_timeout.StatementTimeoutMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out admin login into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "indexsite.urls"
WSGI_APPLICATION = "indexsite.wsgi.application"

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
            ],
        },
    },
]

# Persistent connections: opening one (and, on SQLite, setting its pragmas) cost more
# than the whole of a cached simple-page request. Health checks drop a dead one.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE makes concurrent writers queue on the lock instead of
        # failing with "database is locked" when they upgrade a read lock.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

if FILE_STORAGE == "s3":
    if not S3_BUCKET:
        raise ImproperlyConfigured("FILE_STORAGE=s3 needs S3_BUCKET.")
    _files_storage = {
        "BACKEND": "packages_app.storage.PackageS3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL,
            "region_name": S3_REGION,
            "access_key": S3_ACCESS_KEY_ID,
            "secret_key": S3_SECRET_ACCESS_KEY,
            # With a public base URL, redirects go there unsigned; otherwise to a signed URL.
            "custom_domain": S3_PUBLIC_BASE_URL.split("://", 1)[-1] if S3_PUBLIC_BASE_URL else None,
            "url_protocol": S3_PUBLIC_BASE_URL.split("://", 1)[0] + ":" if S3_PUBLIC_BASE_URL else "https:",
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": not S3_PUBLIC_BASE_URL,
            "querystring_expire": 300,
        },
    }
elif FILE_STORAGE == "local":
    _files_storage = {
        "BACKEND": "packages_app.storage.AtomicFileSystemStorage",
        "OPTIONS": {"location": str(FILES_ROOT), "base_url": None},
    }
else:
    raise ImproperlyConfigured(f"FILE_STORAGE must be 'local' or 's3', not {FILE_STORAGE!r}.")

STORAGES = {
    "default": _files_storage,
    "packages": _files_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    # Built simple pages are shared between processes through Redis.
    SIMPLE_SHARED_CACHE = "default"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pyindex",
        }
    }
    # A per-process cache shares nothing; each process's own page memory is enough.
    SIMPLE_SHARED_CACHE = None

# django-axes refuses locked-out clients before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Failed sign-ins, counted in the cache (shared through Redis; per process without it)
# per address and name; see packages_app/throttling.py.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = AUTH_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=AUTH_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "packages_app.throttling.client_name"
AXES_CLIENT_IP_CALLABLE = "packages_app.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "packages_app.throttling.lockout_response"
AXES_ENABLE_ADMIN = False  # the cache handler keeps no rows to show

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

# Upload bodies: the distribution streams to a temporary file through
# packages_app.upload.receive; these bound only the other form fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024**2
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
FILE_UPLOAD_PERMISSIONS = 0o644
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    # Pagination is set per view, never here; JSON only (no browsable HTML renderer).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only, bounded in size: DRF's form parsers would spool files to disk.
    "DEFAULT_PARSER_CLASSES": ["packages_app.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Package index metadata API",
    "DESCRIPTION": (
        "Paginated, cacheable metadata of the index: projects, releases (including releases "
        "without files), files, the change feed for mirrors, and writes for automation. "
        "Errors are RFC 9457 problem details."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from our own static files: the docs work with no internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ProjectStatusEnum": "packages_app.models.ProjectStatus"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # 4xx answers are in the access log already; installers asking for names the index
    # does not hold (404 under /simple/) would otherwise fill the log with warnings.
    # axes logs every successful sign-in at INFO (every upload and API write); its
    # warnings (each failure, each lockout) are the ones worth keeping.
    "loggers": {"django.request": {"level": "ERROR"}, "axes": {"level": "WARNING"}},
}

SILENCED_SYSTEM_CHECKS: list[str] = []
if PRODUCTION:
    # What `manage.py check --deploy` asks for. The index is served over https only;
    # a health probe is answered before these apply (packages_app.health).
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = HSTS_SECONDS
    SECURE_HSTS_INCLUDE_SUBDOMAINS = HSTS_INCLUDE_SUBDOMAINS
    SECURE_HSTS_PRELOAD = HSTS_PRELOAD
    # HSTS for every subdomain, or a place on the browsers' preload list, binds hosts
    # this index does not serve: the operator opts in (HSTS_INCLUDE_SUBDOMAINS,
    # HSTS_PRELOAD), and the deploy check does not nag about a choice made on purpose.
    SILENCED_SYSTEM_CHECKS += ["security.W005"] if not HSTS_INCLUDE_SUBDOMAINS else []
    SILENCED_SYSTEM_CHECKS += ["security.W021"] if not HSTS_PRELOAD else []
if BEHIND_TLS_PROXY:
    # The proxy terminates TLS and says so; without this every request looks like http.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if not REDIS_URL:
    # axes warns that a per-process cache counts failures per process; that is the
    # documented trade-off without Redis (README, docs/reliability.md), not news at every start.
    SILENCED_SYSTEM_CHECKS += ["axes.W001"]
