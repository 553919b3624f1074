"""Neuron Atlas settings: every knob is read from the environment here, and only here.

With nothing set, the service runs on the embedded default (SQLite and Celery's file-system
broker under ``var/``). ``ATLAS_ENV=production`` switches on the hardened configuration and
refuses to start without a real ``SECRET_KEY``.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from error


def env_float(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from error


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


ATLAS_ENV = env_str("ATLAS_ENV", "development")
if ATLAS_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"ATLAS_ENV must be 'development' or 'production', got {ATLAS_ENV!r}"
    )
PRODUCTION = ATLAS_ENV == "production"

VAR_DIR = Path(env_str("ATLAS_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEVELOPMENT_SECRET_KEY = "django-insecure-neuron-atlas-development-key-never-use-in-production"  # noqa: S105 (refused in production)
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (
    len(SECRET_KEY) < 50
    or SECRET_KEY == DEVELOPMENT_SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "ATLAS_ENV=production needs SECRET_KEY: at least 50 random characters, not the "
        'development key. Generate one with: python -c "import secrets; '
        'print(secrets.token_urlsafe(64))"'
    )

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # django.contrib.admin, with failed sign-ins throttled (server/admin_site.py).
    "server.apps.AtlasAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    # API tokens: hashed, expiring, named (annotations.ApiToken, a knox token model).
    "knox",
    "django_filters",
    "drf_spectacular",
    # Swagger UI's scripts and styles, served by the project (the CSP allows no other origin).
    "drf_spectacular_sidecar",
    "server",
    "workers",
    "annotations",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a body (the CSRF check reads form posts).
    "server.middleware.RequestSizeLimitMiddleware",
    "server.middleware.NulInUrlMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"

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

# --- database -------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'atlas.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share one file: WAL lets readers run beside the writer,
    # IMMEDIATE transactions take the write lock up front instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not memory: the worker processes started by the tests must see the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-atlas-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:landing"
LOGOUT_REDIRECT_URL = "frontend:landing"

# --- i18n, static and media -----------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Development serves static files straight from the apps; production collects them first.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))) if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # A re-run of a job writes the same names again instead of piling up copies.
        "OPTIONS": {"allow_overwrite": True},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}

# --- REST API -------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "server.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "server.pagination.AtlasPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "server.schema.AtlasAutoSchema",
    "EXCEPTION_HANDLER": "server.errors.api_exception_handler",
    # The API takes JSON bodies; the two file uploads (imports, networks) add multipart.
    "DEFAULT_PARSER_CLASSES": ["server.parsers.AtlasJSONParser"],
    "DEFAULT_METADATA_CLASS": "server.metadata.AtlasMetadata",
    "DEFAULT_THROTTLE_RATES": {
        "credentials": env_str("ATLAS_CREDENTIALS_THROTTLE", "10/minute"),
    },
    # Proxies in front of the web process that append to X-Forwarded-For; with 0 the throttles
    # count REMOTE_ADDR and ignore the header, which any client can forge.
    "NUM_PROXIES": env_int("ATLAS_NUM_PROXIES", 0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# API tokens (django-rest-knox with annotations.ApiToken): sent as "Authorization: Token <secret>";
# a token lives ATLAS_TOKEN_TTL_DAYS unless its owner asks for less when creating it.
ATLAS_TOKEN_TTL_DAYS = env_int("ATLAS_TOKEN_TTL_DAYS", 90)
if ATLAS_TOKEN_TTL_DAYS < 1:
    raise ImproperlyConfigured(
        f"ATLAS_TOKEN_TTL_DAYS must be at least 1, got {ATLAS_TOKEN_TTL_DAYS}"
    )
KNOX_TOKEN_MODEL = "annotations.ApiToken"  # noqa: S105 (a model label, not a secret)
# knox's migrations would create its default token table (which ApiToken replaces) with a foreign
# key to users that no model owns, and PostgreSQL then refuses to flush the users between tests.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_TTL": timedelta(days=ATLAS_TOKEN_TTL_DAYS), "AUTH_HEADER_PREFIX": "Token"}

SPECTACULAR_SETTINGS = {
    "TITLE": "Neuron Atlas API",
    "DESCRIPTION": "Map the neurons of vision networks together: catalog, render jobs, "
    "projects and roles.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "server.schema.no_nul_in_request_text",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    # Without deep links an operation's summary is one button, with no link nested inside it
    # (axe-core: nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "workers.models.jobs.Job.Status",
        "NetworkStatusEnum": "workers.models.catalog.Network.Status",
        "HealthStatusEnum": ["ok", "degraded"],
        "HypothesisStatusEnum": "annotations.models.hypotheses.Hypothesis.Status",
        "ReviewVerdictEnum": "annotations.models.hypotheses.Review.Verdict",
        "CommentTargetTypeEnum": "annotations.models.comments.Comment.TargetType",
        "ImportFormatEnum": "annotations.api.serializers_exports.IMPORT_FORMATS",
        "RoundStatusEnum": "annotations.models.rounds.LabellingRound.Status",
        "WebhookEventTypeEnum": "annotations.models.webhooks.Webhook.EventType",
        "WebhookDeliveryStatusEnum": "annotations.models.webhooks.WebhookDelivery.Status",
        "EmailModeEnum": "annotations.models.webhooks.EmailPreference.Mode",
    },
}

# Throttles count in the cache; a per-process memory cache is enough for one web process,
# production with several gunicorn workers points ATLAS_CACHE_URL at Redis. While Redis is
# unreachable the web keeps serving from each process's memory (server/cache.py).
CACHE_URL = env_str("ATLAS_CACHE_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "server.cache.FallbackRedisCache",
            "LOCATION": CACHE_URL,
            "RETRY_SECONDS": env_float("ATLAS_CACHE_RETRY_SECONDS", 5.0),
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 2.0},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery ---------------------------------------------------------------------------------

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
ATLAS_TASK_HARD_TIME_LIMIT = env_int("ATLAS_TASK_HARD_TIME_LIMIT", 6 * 3600)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
    for broker_folder in ("queue", "processed", "control"):
        (BROKER_DIR / broker_folder).mkdir(parents=True, exist_ok=True)
else:
    # A message not acked within the visibility timeout is handed out again; it must
    # outlast the longest job or a running job would be delivered twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": ATLAS_TASK_HARD_TIME_LIMIT + 3600}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"workers.tasks.run_job": {"queue": "gpu"}}
# A job is acknowledged only once it finished; a worker that dies mid-job leaves its message
# to be delivered again, and the job row decides whether anything runs.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = ATLAS_TASK_HARD_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = ATLAS_TASK_HARD_TIME_LIMIT - 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- the engine and its workers ---------------------------------------------------------------

# "auto" picks cuda:0 when a GPU is visible (CUDA_VISIBLE_DEVICES), else cpu.
ATLAS_DEVICE = env_str("ATLAS_DEVICE", "auto")
ATLAS_JOB_LEASE_SECONDS = env_float("ATLAS_JOB_LEASE_SECONDS", 120.0)
ATLAS_HEARTBEAT_SECONDS = env_float("ATLAS_HEARTBEAT_SECONDS", 15.0)
ATLAS_JOB_MAX_ATTEMPTS = env_int("ATLAS_JOB_MAX_ATTEMPTS", 3)
# A job that meets a transient error (a dropped database connection) goes back to the queue
# without spending an attempt, at most this many times, after a backoff that doubles from
# ATLAS_JOB_TRANSIENT_BACKOFF_SECONDS (capped at a minute); then it fails.
ATLAS_JOB_MAX_TRANSIENT_RETRIES = env_int("ATLAS_JOB_MAX_TRANSIENT_RETRIES", 8)
ATLAS_JOB_TRANSIENT_BACKOFF_SECONDS = env_float("ATLAS_JOB_TRANSIENT_BACKOFF_SECONDS", 2.0)
ATLAS_SWEEP_SECONDS = env_float("ATLAS_SWEEP_SECONDS", 30.0)
# A queued job whose message may have been lost (broker restart) is sent again after this.
ATLAS_REQUEUE_QUEUED_AFTER_SECONDS = env_float("ATLAS_REQUEUE_QUEUED_AFTER_SECONDS", 600.0)
ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = env_float("ATLAS_PROGRESS_MIN_INTERVAL_SECONDS", 0.5)
CELERY_BEAT_SCHEDULE = {
    "sweep-job-leases": {
        "task": "workers.tasks.sweep_jobs",
        "schedule": ATLAS_SWEEP_SECONDS,
        "options": {"queue": "default", "expires": ATLAS_SWEEP_SECONDS},
    },
    # Heartbeat rows of workers killed without a goodbye would otherwise stay forever.
    "prune-worker-heartbeats": {
        "task": "workers.tasks.prune_heartbeats",
        "schedule": 3600.0,
        "options": {"queue": "default", "expires": 3600.0},
    },
}
# --- events out of the app: webhooks and e-mail -----------------------------------------------

# The address links in webhook payloads and e-mails start with (no trailing slash).
ATLAS_SITE_URL = env_str("ATLAS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Webhook URLs whose host resolves to a loopback, private, link-local or reserved address are
# refused unless this is on (off in production, so a hook cannot reach the internal network).
ATLAS_WEBHOOK_ALLOW_PRIVATE = env_bool("ATLAS_WEBHOOK_ALLOW_PRIVATE", not PRODUCTION)
ATLAS_WEBHOOK_TIMEOUT_SECONDS = env_float("ATLAS_WEBHOOK_TIMEOUT_SECONDS", 5.0)
ATLAS_WEBHOOK_MAX_ATTEMPTS = env_int("ATLAS_WEBHOOK_MAX_ATTEMPTS", 5)
# A failed attempt is retried after this, doubled after each further failure.
ATLAS_WEBHOOK_BACKOFF_SECONDS = env_float("ATLAS_WEBHOOK_BACKOFF_SECONDS", 30.0)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Neuron Atlas <atlas@localhost>")
# The hour (UTC) the daily digest of mentions and reviews goes out.
ATLAS_DIGEST_HOUR = env_int("ATLAS_DIGEST_HOUR", 7)
CELERY_BEAT_SCHEDULE["send-email-digests"] = {
    "task": "annotations.tasks.send_email_digests",
    "schedule": crontab(minute=0, hour=ATLAS_DIGEST_HOUR),
    "options": {"queue": "default", "expires": 3600.0},
}

# CPU threads torch may use in a worker process (0: torch's default, one per core). On a small
# machine shared with the web server, fewer threads make render times far steadier.
ATLAS_TORCH_THREADS = env_int("ATLAS_TORCH_THREADS", 0)
# Compile the network of feature-visualization renders on CUDA with torch.compile: faster
# renders once compiled, but the first render of each layer and batch shape in a worker
# process first spends tens of seconds compiling (featurevis/speedups/compiled.py; numbers in
# bench/GPU.md). For long-lived GPU workers.
ATLAS_COMPILE_RENDERS = env_bool("ATLAS_COMPILE_RENDERS", False)
# Images per feature-visualization optimisation (0: the engine's default for the device).
ATLAS_RENDER_BATCH_SIZE = env_int("ATLAS_RENDER_BATCH_SIZE", 0)
# Images per forward pass of a dataset-examples job.
ATLAS_DATASET_BATCH_SIZE = env_int("ATLAS_DATASET_BATCH_SIZE", 32)
# Processes that decode a dataset pass's images beside its forward; by default one per core
# this process may use; 0: one background thread in the worker itself.
ATLAS_DECODE_WORKERS = env_int("ATLAS_DECODE_WORKERS", len(os.sched_getaffinity(0)))
# A dataset-examples pass saves its running state through the storage every this many images
# (and when cancelled), so that a job whose worker is lost goes on from there; 0: never.
ATLAS_CHECKPOINT_IMAGES = env_int("ATLAS_CHECKPOINT_IMAGES", 2000)
# Where the worker keeps networks it loaded; one network at a time per GPU by default.
ATLAS_NETWORK_CACHE_SIZE = env_int("ATLAS_NETWORK_CACHE_SIZE", 2)
# A registered TorchScript model is inspected (one forward pass) in a child process of the
# worker with this much address space and this much wall-clock time; past either it fails.
ATLAS_INSPECT_MEMORY_MB = env_int("ATLAS_INSPECT_MEMORY_MB", 4096)
ATLAS_INSPECT_TIMEOUT_SECONDS = env_float("ATLAS_INSPECT_TIMEOUT_SECONDS", 120.0)
ATLAS_MAX_UPLOAD_BYTES = env_int("ATLAS_MAX_UPLOAD_BYTES", 2 * 1024**3)
# Request bodies (server/middleware.py): JSON and forms, then taxonomy import files.
ATLAS_MAX_JSON_BYTES = env_int("ATLAS_MAX_JSON_BYTES", 2 * 1024**2)
ATLAS_MAX_IMPORT_BYTES = env_int("ATLAS_MAX_IMPORT_BYTES", 64 * 1024**2)
# How long a rendered layer-grid page stays in the cache (0: no grid cache). Pages are keyed by
# the project's change count, so this only bounds how long a page can outlive a change whose
# count was lost (a process dying between COMMIT and counting it).
ATLAS_GRID_CACHE_SECONDS = env_int("ATLAS_GRID_CACHE_SECONDS", 30)
# Who may see and act on the catalog: the workers app asks this module (see workers/access.py).
ATLAS_ACCESS_POLICY = "annotations.policies"

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024**2
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024**2

# --- Content-Security-Policy (django-csp) ------------------------------------------------------

# Every page loads only what the project serves: module scripts and style sheets from files (no
# inline script, style or handler), images from here and data: URLs (Swagger UI's icons), API
# calls to this origin. Artifacts served from another origin (object storage) add it here.
CSP_MEDIA_ORIGINS = env_list("ATLAS_CSP_MEDIA_ORIGINS", [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *CSP_MEDIA_ORIGINS],
        "connect-src": [SELF, *CSP_MEDIA_ORIGINS],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- production hardening -----------------------------------------------------------------

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SESSION_COOKIE_AGE = int(timedelta(days=14).total_seconds())
