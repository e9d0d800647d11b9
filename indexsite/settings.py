"""Django settings for the package index.

Every environment variable the index reads is read in the block labelled
"Environment" below, and documented in the README. Nothing else in the code
looks at ``os.environ``.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from environs import Env, EnvError, EnvValidationError
from marshmallow.validate import Range

from indexsite.storages import s3_storage
from packages_app.sizes import parse_size

BASE_DIR = Path(__file__).resolve().parent.parent


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


# --------------------------------------------------------------------------
# Environment: the only place the index reads environment variables.
# --------------------------------------------------------------------------
# environs parses every value and, rather than stopping at the first bad one, gathers
# them all (eager=False): `env.seal()` below turns them into one error that names each
# variable, the value given and the form expected.
env = Env(eager=False)


@env.parser_for("size")
def _size(value) -> int:
    """Bytes: a whole number, optionally with a unit (``packages_app.sizes``)."""
    try:
        return parse_size(value)
    except ValueError as exc:
        raise EnvError(str(exc)) from exc


@env.parser_for("choice")
def _choice(value, choices: tuple[str, ...]) -> str:
    chosen = str(value).strip().lower()
    if chosen not in choices:
        raise EnvError(f"Must be one of: {', '.join(choices)}.")
    return chosen


# Production: refuse to start without an explicit secret key, database and host names,
# and turn on https-only cookies, HSTS and the https redirect (see docs/deploy.md).
PRODUCTION = env.bool("PRODUCTION", False)
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", False)
HSTS_SECONDS = env.int("HSTS_SECONDS", 365 * 24 * 3600)
HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", False)
HSTS_PRELOAD = env.bool("HSTS_PRELOAD", False)
DEBUG = env.bool("DEBUG", False)
ALLOWED_HOSTS = _list(env.str("ALLOWED_HOSTS", "127.0.0.1,localhost"))
CSRF_TRUSTED_ORIGINS = _list(env.str("CSRF_TRUSTED_ORIGINS", ""))
DATA_DIR = Path(env.str("INDEX_DATA_DIR", str(BASE_DIR / "data"))).resolve()
# Unset, a local install reads the key ./scripts/serve made once in the data folder, so
# that manage.py runs with the very settings the server has.
SECRET_KEY = env.str("SECRET_KEY", "")
SECRET_KEY_FILE = DATA_DIR / "secret-key"
DATABASE_URL = env.str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'index.sqlite3'}")
FILE_STORAGE = env.choice("FILE_STORAGE", "local", choices=("local", "s3"))
FILES_ROOT = Path(env.str("FILES_ROOT", str(DATA_DIR / "files"))).resolve()
S3_BUCKET = env.str("S3_BUCKET", "")
S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", "") or None
S3_REGION = env.str("S3_REGION", "") or None
S3_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", "") or None
S3_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", "") or None
S3_PUBLIC_BASE_URL = env.str("S3_PUBLIC_BASE_URL", "").rstrip("/") or None
# redirect: /packages/ answers with a (signed) URL of the object store; stream: the app
# reads the object and sends it itself (for stores the clients cannot reach).
S3_DOWNLOADS = env.choice("S3_DOWNLOADS", "redirect", choices=("redirect", "stream"))
# PostgreSQL stops any query of a web request that runs longer (503 with Retry-After; see
# packages_app/statement_timeout.py); 0: no bound. Management commands are never bound.
DATABASE_STATEMENT_TIMEOUT_MS = env.int(
    "DATABASE_STATEMENT_TIMEOUT_MS", 5000, validate=Range(min=0, error="Must be 0 (no bound) or more milliseconds.")
)
REDIS_URL = env.str("REDIS_URL", "")
# Keys in the shared cache start with it: lets several indexes share one Redis.
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", "pyindex")
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", "").rstrip("/")
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(DATA_DIR / "static"))).resolve()
LOG_LEVEL = env.choice("LOG_LEVEL", "info", choices=("debug", "info", "warning", "error", "critical")).upper()
# plain: lines for people; json: one JSON object a line for log collectors (gunicorn's
# access log too, see gunicorn.conf.py).
LOG_FORMAT = env.choice("LOG_FORMAT", "plain", choices=("plain", "json"))
# Who may read (install, browse, query): "authenticated" (the default: a private index is
# private; every read needs a token or a password) or "public" (anyone who can reach it reads
# the projects open to the index). Restricted projects are for their role holders either way.
READ_ACCESS = env.choice("READ_ACCESS", "authenticated", choices=("authenticated", "public"))
# The visibility of a project created by its first upload: "index" or "restricted".
NEW_PROJECT_VISIBILITY = env.choice("NEW_PROJECT_VISIBILITY", "index", choices=("index", "restricted"))
# How long a worker keeps a verified credential (packages_app/credentials.py): a revoked token
# stops reading at once on the node that revoked it and within this time on the others.
CREDENTIALS_CACHE_SECONDS = env.int(
    "CREDENTIALS_CACHE_SECONDS", 30, validate=Range(min=0, max=60, error="Must be 0 to 60.")
)
# Uploads: PyPI's default limits; password uploads on (a private index has
# users), local versions off (as on PyPI), project creation for any user.
MAX_FILE_SIZE = env.size("MAX_FILE_SIZE", 100 * 1024**2)
MAX_PROJECT_SIZE = env.size("MAX_PROJECT_SIZE", 10 * 1024**3)
ALLOW_PASSWORD_UPLOADS = env.bool("ALLOW_PASSWORD_UPLOADS", True)
ALLOW_LOCAL_VERSIONS = env.bool("ALLOW_LOCAL_VERSIONS", False)
PROJECT_CREATION = env.choice("PROJECT_CREATION", "users", choices=("users", "staff"))
# PyPI's upload rules that a private index may need to relax, each off by default as on
# PyPI: `pkg @ git+https://...` in Requires-Dist, classifiers newer than the index's list.
# Wheels tagged for no platform PyPI knows (plain `linux_x86_64`) are accepted unless turned off.
ALLOW_DIRECT_URL_DEPENDENCIES = env.bool("ALLOW_DIRECT_URL_DEPENDENCIES", False)
ALLOW_UNKNOWN_CLASSIFIERS = env.bool("ALLOW_UNKNOWN_CLASSIFIERS", False)
ALLOW_UNSUPPORTED_PLATFORM_TAGS = env.bool("ALLOW_UNSUPPORTED_PLATFORM_TAGS", True)
# No new files on a release created more than this many days ago (unset: releases stay open).
CLOSE_RELEASES_AFTER_DAYS = env.int(
    "CLOSE_RELEASES_AFTER_DAYS", None, validate=Range(min=1, error="Must be 1 or more.")
)
# Failed sign-ins (upload, API, admin) per client, an address and a user name or token:
# after this many failures that client waits this long (packages_app/throttling.py).
AUTH_FAILURE_LIMIT = env.int("AUTH_FAILURE_LIMIT", 10)
AUTH_LOCKOUT_SECONDS = env.int("AUTH_LOCKOUT_SECONDS", 300)
# Reverse proxies in front that append the address they saw to X-Forwarded-For; 0 (the
# default) trusts no forwarded header and takes the connection's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0)
# Read by gunicorn.conf.py, which then serves https itself (no proxy in front); here for
# what https-only serving implies: secure cookies and HSTS.
TLS_CERT_FILE = env.str("TLS_CERT_FILE", "")
TLS_KEY_FILE = env.str("TLS_KEY_FILE", "")
# Read by gunicorn.conf.py in each new worker, before Django (indexsite/allocator.py): glibc's
# allocator limited to two arenas and a fixed mmap threshold, so memory freed after building
# a big page goes back to the kernel. Here so that a value of the wrong form stops the server.
MALLOC_TUNING = env.bool("MALLOC_TUNING", True)
# Simple API: how long clients may reuse a page without asking (0: they revalidate
# every time, a cheap 304, so a new upload is seen at once; PyPI, behind a CDN, uses 600).
SIMPLE_MAX_AGE = env.int("SIMPLE_MAX_AGE", 0)
# Prometheus metrics at /_metrics/ for "Authorization: Bearer <METRICS_TOKEN>"; empty: off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", "")
# Downloads counted per file and day (packages_app/download_counts.py), written every so many seconds.
DOWNLOAD_COUNTS = env.bool("DOWNLOAD_COUNTS", True)
DOWNLOAD_COUNT_FLUSH_SECONDS = env.int("DOWNLOAD_COUNT_FLUSH_SECONDS", 10, validate=Range(min=1))
# The metadata API's reads: same answer for every caller, revalidated by ETag.
API_MAX_AGE = env.int("API_MAX_AGE", 0)
# Built pages (simple, legacy JSON, the API's stored resources), one file per page and
# encoding, shared by every worker of the node; only the current serial of each is kept.
PAGE_STORE_DIR = Path(env.str("PAGE_STORE_DIR", str(DATA_DIR / "pages"))).resolve()
# Pages of /snapshot/ and /cooldown/ URLs (any moment a client names) are kept apart, in each
# process only, never in Redis: this much memory, and at most 1,000 pages (packages_app/pages/store.py).
TIME_TRAVEL_MEMORY_CACHE_BYTES = env.int("TIME_TRAVEL_MEMORY_CACHE_MB", 32) * 1024**2
# A cool-down on /simple/ itself ("3d", "12h"; empty: none), and the projects it never holds
# back (comma-separated; your own). Read by packages_app/simple/timetravel.py; see docs/time-travel.md.
SIMPLE_DEFAULT_COOLDOWN = env.str("SIMPLE_DEFAULT_COOLDOWN", "").strip()
COOLDOWN_EXEMPT_PROJECTS = _list(env.str("COOLDOWN_EXEMPT_PROJECTS", ""))
# The upstream proxy (packages_app/upstream/, docs/upstream.md): a PEP 691/503 index whose
# projects are served, through our own pages and /packages/, for names that do not exist here.
# Empty: off. Never merged with a local project of the same name.
UPSTREAM_INDEX_URL = env.str("UPSTREAM_INDEX_URL", "").strip()
# Normalised prefixes never taken from upstream ("acme": acme and acme-*), and, when set, the
# only names that may be (comma-separated).
UPSTREAM_BLOCKED_PREFIXES = _list(env.str("UPSTREAM_BLOCKED_PREFIXES", ""))
UPSTREAM_ALLOWED_PROJECTS = _list(env.str("UPSTREAM_ALLOWED_PROJECTS", ""))
# How long an upstream page is used before it is revalidated (ETag / Last-Modified), in seconds.
UPSTREAM_PAGE_TTL = env.int("UPSTREAM_PAGE_TTL", 600)
# Bound of each upstream connect and read, and of reading a whole page: past it, the last good
# page is served (stale-if-error) or, for a project never seen, 504.
UPSTREAM_TIMEOUT_SECONDS = env.float("UPSTREAM_TIMEOUT_SECONDS", 10.0)
# Largest upstream project page read (bytes, or with a unit); a larger one is refused.
UPSTREAM_MAX_PAGE_BYTES = env.size("UPSTREAM_MAX_PAGE_BYTES", 64 * 1024**2)
# Cool-downs on upstream files (packages_app/upstream/cooldown.py): files younger than
# UPSTREAM_COOLDOWN ("3d"), except on the exempt projects, and files uploaded after
# UPSTREAM_NOT_AFTER (a moment, for emergencies; exempt projects too) are hidden from everyone.
UPSTREAM_COOLDOWN = env.str("UPSTREAM_COOLDOWN", "").strip()
UPSTREAM_COOLDOWN_EXEMPT_PROJECTS = _list(env.str("UPSTREAM_COOLDOWN_EXEMPT_PROJECTS", ""))
UPSTREAM_NOT_AFTER = env.str("UPSTREAM_NOT_AFTER", "").strip()

# PEP 752 namespaces (docs/namespaces.md): the most hyphens a granted namespace may have
# (the PEP's SHOULD: a depth limit), so ``acme-data-eu`` is a grant at 2 and ``acme-a-b-c`` is not.
NAMESPACE_MAX_DEPTH = env.int("NAMESPACE_MAX_DEPTH", 2, validate=Range(min=0, error="Must be 0 or more hyphens."))
# Trusted publishing (README): OIDC issuers allowed besides GitHub Actions and gitlab.com (a
# self-managed GitLab too), the audience CI jobs request their ID token for, and how long a minted
# upload token lives (PEP 807's bounds: at most an hour).
TRUSTED_PUBLISHING_ISSUERS = [url.rstrip("/") for url in _list(env.str("TRUSTED_PUBLISHING_ISSUERS", ""))]
TRUSTED_PUBLISHING_AUDIENCE = env.str("TRUSTED_PUBLISHING_AUDIENCE", "").strip() or PUBLIC_BASE_URL or "pyindex"
TRUSTED_PUBLISHING_TOKEN_MINUTES = env.int(
    "TRUSTED_PUBLISHING_TOKEN_MINUTES", 15, validate=Range(min=1, max=60, error="Must be 1 to 60 minutes.")
)
# Read by `manage.py bootstrap_admin` (the serve script runs it).
ADMIN_USERNAME = env.str("ADMIN_USERNAME", "")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", "")
ADMIN_EMAIL = env.str("ADMIN_EMAIL", "")
_explicit = {
    name for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "TRUSTED_PROXY_COUNT") if env.str(name, "").strip()
}


def _configuration_error(errors: dict[str, list[str]]) -> ImproperlyConfigured:
    lines = [f"{name}={os.environ.get(name, '')!r}: {' '.join(messages)}" for name, messages in errors.items()]
    return ImproperlyConfigured("Invalid environment variables: " + "; ".join(lines))


try:
    env.seal()
except EnvValidationError as exc:
    raise _configuration_error(exc.error_messages) from None
for _issuer in TRUSTED_PUBLISHING_ISSUERS:
    # The index fetches the issuer's keys: over TLS, except from this machine (tests, a local issuer).
    if not (
        _issuer.startswith("https://") or re.match(r"http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|\Z)", _issuer)
    ):
        raise _configuration_error({"TRUSTED_PUBLISHING_ISSUERS": [f"{_issuer!r} is not an https:// URL."]})
# --------------------------------------------------------------------------

if PRODUCTION:
    # Defaults that suit a laptop would quietly do the wrong thing on a server: a fresh
    # SQLite file, host names of the loopback only, or debug pages full of settings.
    _missing = [name for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS") if name not in _explicit]
    if _missing:
        raise ImproperlyConfigured(f"PRODUCTION=true needs {', '.join(_missing)} set in the environment.")
    if DEBUG:
        raise ImproperlyConfigured("PRODUCTION=true and DEBUG=true cannot go together.")
    if BEHIND_TLS_PROXY and "TRUSTED_PROXY_COUNT" not in _explicit:
        # Left at 0 behind a proxy, every client has the proxy's address, and failed
        # sign-ins are counted per address: anyone could lock any user out.
        raise ImproperlyConfigured(
            "PRODUCTION=true with BEHIND_TLS_PROXY=true needs TRUSTED_PROXY_COUNT: the number of proxies in "
            "front that append the client's address to X-Forwarded-For (1 for one reverse proxy). Without it "
            "every client has the proxy's address, and anyone can lock any user out of signing in for "
            "AUTH_LOCKOUT_SECONDS. TRUSTED_PROXY_COUNT=0 keeps that, if you must."
        )

if not SECRET_KEY and not PRODUCTION and SECRET_KEY_FILE.is_file():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set. Set it in the environment, or run ./scripts/serve once: it keeps "
            f"a random one in {SECRET_KEY_FILE}, which manage.py then reads too (or set DEBUG=true for development)."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105 - debug only

INSTALLED_APPS = [
    # django.contrib.admin, with the index's own site (admin_site.IndexAdminSite) as admin.site.
    "packages_app.apps.IndexAdminConfig",
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
    # Times and counts every other request, and answers /_metrics/ to its token (metrics.py).
    "packages_app.metrics.MetricsMiddleware",
    # Then, before anything reads the URL: a NUL in it is a 400 (PostgreSQL cannot hold one).
    "packages_app.url_guard.NulInUrlMiddleware",
    # A query stopped by DATABASE_STATEMENT_TIMEOUT_MS is a 503 with Retry-After, not a 500.
    "packages_app.statement_timeout.StatementTimeoutMiddleware",
    # A body that breaks off while a view reads it is a 400, not a 500 (broken_bodies.py).
    "packages_app.broken_bodies.BrokenBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The admin's and the API docs' pages only; see indexsite/content_security_policy.py.
    "indexsite.content_security_policy.PeoplePagesCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who is reading: 401 for an anonymous read when READ_ACCESS=authenticated (read_access.py).
    "packages_app.read_access.ReadAccessMiddleware",
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
    # Django's, but a new database file is its owner's only (0600, in a 0700 folder if new).
    DATABASES["default"]["ENGINE"] = "indexsite.private_sqlite3"
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
    _files_storage = s3_storage(
        bucket=S3_BUCKET,
        endpoint_url=S3_ENDPOINT_URL,
        region=S3_REGION,
        access_key=S3_ACCESS_KEY_ID,
        secret_key=S3_SECRET_ACCESS_KEY,
        public_base_url=S3_PUBLIC_BASE_URL,
        read_access=READ_ACCESS,
    )
else:
    _files_storage = {
        "BACKEND": "packages_app.storage.AtomicFileSystemStorage",
        "OPTIONS": {"location": str(FILES_ROOT), "base_url": None},
    }

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
    # Built pages are shared between nodes through Redis, and its lock builds each once.
    SIMPLE_SHARED_CACHE = "default"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pyindex",
        }
    }
    # A per-process cache shares nothing; the node's page files and file locks do.
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
# The web UI's sign-in page (packages_app/web); the admin keeps its own.
LOGIN_URL = "web:sign-in"
LOGIN_REDIRECT_URL = "web:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The admin and the API docs (Swagger UI, Redoc) run only the index's own scripts and styles,
# and inline ones only with this answer's nonce (the docs' templates set it), so an injected
# script has nowhere to come from. Applied by indexsite.content_security_policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # Swagger UI's and Redoc's stylesheets draw their icons as data: URLs.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "en-us"
# One date format for people everywhere (indexsite/formats/en/formats.py).
FORMAT_MODULE_PATH = ["indexsite.formats"]
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
    # Applies the views' deferred annotations first (packages_app/api/annotations.py).
    "DEFAULT_GENERATOR_CLASS": "packages_app.api.schema.SchemaGenerator",
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "packages_app.models.ProjectStatus",
        "PublisherKindEnum": "packages_app.models.PublisherKind",
    },
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
if PRODUCTION or TLS_CERT_FILE or TLS_KEY_FILE:
    # https only: behind a TLS proxy in production, or gunicorn serving TLS itself (it
    # does with either file set). Cookies never go out over plain http, and browsers are
    # told to come back over https only.
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
