"""Settings for seedance-web, read from the environment (django-environ).

Every variable is listed with a comment in `.env.example`. The embedded defaults (no variable set)
give the development setup: SQLite in WAL mode, the django-q2 ORM broker, local file storage and
no gateway keys. Production differences come only from the environment; there is no separate
production module.
"""

import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from seedance_web.gateways import gateway_settings
from seedance_web.local_secret import local_secret_key
from seedance_web.logging_config import default_mailer, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SEEDANCE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # a missing file is fine: the real environment wins anyway
# While `manage.py rundemo` runs, a manage.py beside it (`generate`) reaches the same site and
# simulator (projects/management/commands/rundemo.py writes it, and removes it on exit). Not
# rundemo itself: a file left by a killed run must not configure the next one.
if sys.argv[1:2] != ["rundemo"]:
    env.read_env(VAR_DIR / "demo.env")

# --- Core -------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Absolute base for links that leave the browser: callbacks and reference media fetched by gateways.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# A local run (DEBUG, or a site on a loopback address: `manage.py generate` on a laptop) gets a
# key of its own in var/secret_key; any other site must set DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
_LOCAL_SITE = urlsplit(SITE_URL).hostname in ("127.0.0.1", "localhost", "::1")
if not SECRET_KEY and (DEBUG or _LOCAL_SITE):
    SECRET_KEY = local_secret_key(VAR_DIR)
if not SECRET_KEY:
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY must be set for a site served at {SITE_URL} (only DEBUG or a "
        "loopback SITE_URL makes its own key in var/)."
    )
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "seedance_web.apps.SeedanceAdminConfig",  # django.contrib.admin, login rate limited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "django_ratelimit",
    "ninja",  # the team API's OpenAPI docs page, served from its bundled static files
    # Only its hashed-key model and key generator (projects/models/api_keys.py); its own
    # APIKey table exists but is unused, and its admin is unregistered (projects/api/admin.py).
    "rest_framework_api_key",
    "projects",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "projects.redaction.RequestSecretsMiddleware",  # URL secrets never reach logs or reports
    "projects.api.errors.ApiErrorsMiddleware",  # /api/v3/: every refusal in Ark's JSON shape
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "projects.session_limits.SessionLimitsMiddleware",  # idle and absolute session limits
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "seedance_web.urls"
WSGI_APPLICATION = "seedance_web.wsgi.application"
ASGI_APPLICATION = "seedance_web.asgi.application"

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

# --- Database (https://docs.djangoproject.com/en/6.0/ref/databases/#sqlite-notes) -------------
# Without WAL + IMMEDIATE + a busy timeout, the web process and the worker hit "database is locked".
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            # Seconds a statement waits for another connection's write lock before
            # "database is locked" (the worker rides that out: services/sweep.py).
            "timeout": env.float("SEEDANCE_SQLITE_TIMEOUT", default=30.0),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# Keep each process's connection between requests (seconds; 0 = one per request). On SQLite
# too: opening the file and running the PRAGMAs above cost more than a simple page's queries
# (bench/pages.py). runserver starts a thread per request, so there it changes nothing.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:project_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True  # serve straight from static/ without collectstatic in development

# --- Media storage ----------------------------------------------------------------------------
# django-storages S3 when SEEDANCE_S3_BUCKET is set, local files under var/media otherwise.
# Either way the files are private: browsers and gateways get expiring links (projects/storage.py).
# Keys: teams/<team>/assets/<asset>/<file> and teams/<team>/outputs/<task>/<file>.
MEDIA_ROOT = VAR_DIR / "media"
SEEDANCE_S3_BUCKET = env.str("SEEDANCE_S3_BUCKET", default="")
SEEDANCE_LINK_TTL = env.int("SEEDANCE_LINK_TTL", default=6 * 3600)  # seconds a browser link lives
# Seconds a reference link handed to a gateway lives. A gateway may fetch a reference when the
# task leaves its queue, not only at create, and a task may wait upstream up to Ark's default
# execution_expires_after (48 h, upstream-research §1.3) before our own deadline (49 h) ends it:
# the link must outlive that, and no more. SigV4 presigned URLs cannot exceed 7 days.
SEEDANCE_REFERENCE_LINK_TTL = env.int("SEEDANCE_REFERENCE_LINK_TTL", default=49 * 3600)
# Seconds the video and last-frame links in the team API's answers live (projects/api/): each
# GET signs fresh ones for the stored copy, so they outlive the gateway's 24 h links.
SEEDANCE_API_LINK_TTL = env.int("SEEDANCE_API_LINK_TTL", default=7 * 24 * 3600)
# Largest file accepted by an upload (the gateways' own limits are checked when it is used).
SEEDANCE_UPLOAD_MAX_MB = env.int("SEEDANCE_UPLOAD_MAX_MB", default=200)
if SEEDANCE_S3_BUCKET:
    # https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
    _s3_endpoint = env.str("SEEDANCE_S3_ENDPOINT_URL", default="")
    for _ttl_name in ("SEEDANCE_LINK_TTL", "SEEDANCE_REFERENCE_LINK_TTL", "SEEDANCE_API_LINK_TTL"):
        if not 1 <= globals()[_ttl_name] <= 7 * 24 * 3600:
            raise ImproperlyConfigured(
                f"{_ttl_name} must be 1-604800 seconds on S3 (SigV4 presigned URLs last 7 days "
                "at most)."
            )
    _default_storage = {
        # S3Storage made private, non-overwriting and memory-bounded (projects/storage.py).
        "BACKEND": "projects.storage.MediaS3Storage",
        "OPTIONS": {
            "bucket_name": SEEDANCE_S3_BUCKET,
            "endpoint_url": _s3_endpoint or None,
            # SigV4 signs the region into every request and link; S3-compatible servers
            # (SeaweedFS, MinIO) accept us-east-1.
            "region_name": env.str("SEEDANCE_S3_REGION", default="") or "us-east-1",
            "access_key": env.str("SEEDANCE_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("SEEDANCE_S3_SECRET_ACCESS_KEY", default="") or None,
            # Path style (endpoint/bucket/key) for S3-compatible servers, which rarely have
            # wildcard DNS for bucket subdomains; boto3's own choice (virtual) on AWS.
            "addressing_style": env.str(
                "SEEDANCE_S3_ADDRESSING_STYLE", default="path" if _s3_endpoint else ""
            )
            or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": SEEDANCE_LINK_TTL,
            "file_overwrite": False,
            "signature_version": "s3v4",
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # bigger uploads spool to disk, never to memory
# The size limits are enforced while the body is read: at most the limit plus one 64 KB chunk of
# a file reaches the disk (projects/uploads.py). A request may carry several files (the no-script
# library form, a generation's references) up to SEEDANCE_UPLOAD_MAX_REQUEST_MB in all.
SEEDANCE_UPLOAD_MAX_REQUEST_MB = env.int(
    "SEEDANCE_UPLOAD_MAX_REQUEST_MB", default=3 * SEEDANCE_UPLOAD_MAX_MB
)
FILE_UPLOAD_HANDLERS = [
    "projects.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Upstream gateways (offered when <NAME>_API_KEY is set; seedance_web/gateways.py) ---------
SEEDANCE_PROVIDERS = gateway_settings(env)
SEEDANCE_DEFAULT_PROVIDER = env.str("SEEDANCE_DEFAULT_PROVIDER", default="tokenhub")
SEEDANCE_HTTP_TIMEOUT = env.float("SEEDANCE_HTTP_TIMEOUT", default=30.0)  # seconds per request
SEEDANCE_DOWNLOAD_TIMEOUT = env.float("SEEDANCE_DOWNLOAD_TIMEOUT", default=60.0)  # s between bytes
# Output links a gateway gives are fetched over https from public addresses only. Hosts listed
# here ('host' or 'host:port') may also be plain http and private: the simulator, a gateway's
# CDN inside your own network (projects/providers/outbound.py).
SEEDANCE_FETCH_ALLOW_HOSTS = env.list("SEEDANCE_FETCH_ALLOW_HOSTS", default=[])
# Team webhooks (notifications) go to public addresses only; hosts listed here (a receiver
# inside the network) are exempt. Separate from the fetch list: a team admin types these URLs.
SEEDANCE_WEBHOOK_ALLOW_HOSTS = env.list("SEEDANCE_WEBHOOK_ALLOW_HOSTS", default=[])
# Callback URLs for the gateways that call back: auto (sent only when SITE_URL is https on a
# public host, projects/callback_reach.py), on (always: a tunnel, a local simulator), off.
SEEDANCE_CALLBACKS = env.str("SEEDANCE_CALLBACKS", default="auto").strip().lower()
if SEEDANCE_CALLBACKS not in ("auto", "on", "off", "1", "0", "true", "false", "yes", "no"):
    raise ImproperlyConfigured("SEEDANCE_CALLBACKS must be auto, on or off.")
# The worker's knobs, read as one typed object (projects/worker_config.py) and checked at startup
# (`manage.py check`, projects.E001). Polling policy: projects/services/poll_schedule.py.
SEEDANCE_POLL_MIN_INTERVAL = env.float("SEEDANCE_POLL_MIN_INTERVAL", default=5.0)
SEEDANCE_POLL_MAX_INTERVAL = env.float("SEEDANCE_POLL_MAX_INTERVAL", default=60.0)
# Finished tasks of a kind before its polls follow their render times (services/render_estimate.py).
SEEDANCE_POLL_ESTIMATE_MIN_SAMPLES = env.int("SEEDANCE_POLL_ESTIMATE_MIN_SAMPLES", default=20)
# Gateways that answer for many tasks at once (Ark, AceData) are asked this often.
SEEDANCE_BATCH_POLL_INTERVAL = env.float("SEEDANCE_BATCH_POLL_INTERVAL", default=5.0)
# Real seconds per upstream second: 1 for real gateways, 1/speed against a fast simulator.
SEEDANCE_UPSTREAM_TIME_SCALE = env.float("SEEDANCE_UPSTREAM_TIME_SCALE", default=1.0)
# Seconds one scheduled sweep keeps polling before it returns (schedules run each minute).
SEEDANCE_SWEEP_SECONDS = env.float("SEEDANCE_SWEEP_SECONDS", default=55.0)
# Sweeps running at once across all clusters (each polls on SEEDANCE_POLL_CONCURRENCY threads).
SEEDANCE_SWEEPERS = env.int("SEEDANCE_SWEEPERS", default=1)
# Seconds after a lost create before "the gateway lists no such task" is believed.
SEEDANCE_RECONCILE_AFTER = env.float("SEEDANCE_RECONCILE_AFTER", default=120.0)
SEEDANCE_POLL_CONCURRENCY = env.int("SEEDANCE_POLL_CONCURRENCY", default=8)  # polls in flight
# Leases, in real seconds: how long a worker that died holding a task keeps it from the others.
# The submit lease must outlast any create call (SEEDANCE_HTTP_TIMEOUT); the download lease is
# renewed every third of it while a copy runs (services/outputs.py DownloadLeaseKeeper). Tests
# shorten them so a killed worker's task comes back in seconds.
SEEDANCE_SUBMIT_LEASE = env.float("SEEDANCE_SUBMIT_LEASE", default=120.0)
SEEDANCE_POLL_LEASE = env.float("SEEDANCE_POLL_LEASE", default=120.0)
SEEDANCE_DOWNLOAD_LEASE = env.float("SEEDANCE_DOWNLOAD_LEASE", default=90.0)
# Real seconds a rendered task waits for a store job to claim it before the sweep queues
# another: a queued job lost with a killed worker costs this, not the whole download lease.
SEEDANCE_STORE_PICKUP = env.float("SEEDANCE_STORE_PICKUP", default=60.0)
# Seconds before the first retry of an output copy that failed (storage or network down);
# doubled each time, at most 600 s, MAX_STORE_ATTEMPTS times (services/outputs.py).
SEEDANCE_STORE_RETRY_SECONDS = env.float("SEEDANCE_STORE_RETRY_SECONDS", default=10.0)

# --- Worker (django-q2: https://django-q2.readthedocs.io/en/master/configure.html) ------------
# ORM broker on the default database unless REDIS_URL is set. `retry` must exceed `timeout`.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env.str("SEEDANCE_Q_NAME", default="seedance"),
    "workers": env.int("SEEDANCE_Q_WORKERS", default=4),
    "timeout": 900,
    "retry": 960,
    "max_attempts": 10,
    "ack_failures": True,
    "catch_up": False,
    # Keep failures only: with a positive limit django-q2 locks every kept success row on each
    # save (monitor.save_task), a bottleneck under load; our task history is in TaskEvent.
    "save_limit": -1,
    "queue_limit": 50,
    "label": "Worker",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.2

# --- Cache (rate-limit counters: https://docs.djangoproject.com/en/6.0/topics/cache/) ---------
# Shared by every web process: Redis when REDIS_URL is set, otherwise a database table
# (`manage.py createcachetable`; rundemo and the test database create it) whose increment is
# made atomic by projects/cache.py.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "seedance",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "projects.cache.AtomicDatabaseCache",
            "LOCATION": "seedance_cache",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
# Rendered page fragments (projects/page_cache.py), per process: their keys hold the versions
# of what they show, so processes need not share them. About 20 kB each. Off: every page is
# rendered anew (bench/pages.py --no-keep measures that).
SEEDANCE_PAGE_CACHE = env.bool("SEEDANCE_PAGE_CACHE", default=True)
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
    if SEEDANCE_PAGE_CACHE
    else "django.core.cache.backends.dummy.DummyCache",
    "LOCATION": "seedance-pages",
    "TIMEOUT": 30,
    "OPTIONS": {"MAX_ENTRIES": 1000},
}

# --- Rate limits (django-ratelimit) -----------------------------------------------------------
# https://django-ratelimit.readthedocs.io/  Rates are "count/period" (s, m, h, d), e.g. "10/m".
SEEDANCE_LOGIN_RATE = env.str("SEEDANCE_LOGIN_RATE", default="10/m")  # per IP and per username
SEEDANCE_SUBMIT_RATE = env.str("SEEDANCE_SUBMIT_RATE", default="20/m")  # generations per user
# Member additions and role changes per team admin: adding by username is the one place a team
# admin learns that an account exists; this keeps it from becoming a site-wide directory.
SEEDANCE_MEMBER_ADD_RATE = env.str("SEEDANCE_MEMBER_ADD_RATE", default="30/h")
# The team API (projects/api/): requests per API key (any operation), and creates per key.
SEEDANCE_API_RATE = env.str("SEEDANCE_API_RATE", default="600/m")
SEEDANCE_API_CREATE_RATE = env.str("SEEDANCE_API_CREATE_RATE", default="60/m")
# META key of the client address set by a proxy in front (e.g. HTTP_X_REAL_IP); empty: REMOTE_ADDR.
SEEDANCE_CLIENT_IP_HEADER = env.str("SEEDANCE_CLIENT_IP_HEADER", default="")
RATELIMIT_IP_META_KEY = "projects.ratelimits.client_ip"
RATELIMIT_USE_CACHE = "default"
# django_ratelimit.W001 only says a backend is missing from its allowlist, which predates
# Django's own RedisCache (atomic INCRBY) and cannot know projects.cache.AtomicDatabaseCache
# (increment under a row lock); the check for real problems (E003) stays on.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# --- Logging and error reports (seedance_web/logging_config.py: every handler redacts secrets) --
ADMINS = env.list("DJANGO_ADMINS", default=[])  # e-mail addresses that get error reports
SERVER_EMAIL = env.str("DJANGO_SERVER_EMAIL", default="seedance-web@localhost")
DEFAULT_FROM_EMAIL = SERVER_EMAIL
# SMTP at DJANGO_EMAIL_HOST; the console under DEBUG without one (`make run`); tests: in-memory.
MAILERS = {"default": default_mailer(env, debug=DEBUG)}
DEFAULT_EXCEPTION_REPORTER = "projects.error_reports.SecretSafeExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "projects.error_reports.SecretSafeExceptionReporterFilter"
# Console lines are `plain` (time level logger message key=value...) or, with
# SEEDANCE_LOG_FORMAT=json, one JSON object per line with the fields as keys (`task`,
# `tasks`, `provider`, `event`, ...; projects/logs.py). The context filter adds the fields of
# the job being run; the redaction filter then runs over the message and every field.
SEEDANCE_LOG_FORMAT = env.str("SEEDANCE_LOG_FORMAT", default="plain")
if SEEDANCE_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("SEEDANCE_LOG_FORMAT must be plain or json.")
LOGGING = logging_config(SEEDANCE_LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))

# --- Security (effective when DEBUG is off) ---------------------------------------------------
# https://docs.djangoproject.com/en/6.0/howto/deployment/checklist/ (`manage.py check --deploy`
# is clean with the production variables in .env.example; tests/test_deploy_check.py).
SESSION_COOKIE_HTTPONLY = True
# A session ends after this many minutes without a request, and this many hours after login
# (ASVS 3.3.2; projects/session_limits.py). The cookie lives no longer than the second.
SEEDANCE_SESSION_IDLE_MINUTES = env.int("SEEDANCE_SESSION_IDLE_MINUTES", default=30)
SEEDANCE_SESSION_MAX_HOURS = env.int("SEEDANCE_SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = SEEDANCE_SESSION_MAX_HOURS * 3600
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # pages carry the token (forms, hx-headers); no script reads it
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# Load balancers probe /healthz over plain HTTP inside the network: no redirect for it.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
    else None
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy (Django 6's built-in middleware): scripts only from our own static
# files; media also from https (presigned S3 links live on the bucket's host).
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],  # no inline styles: tests/test_browser_csp.py
    "img-src": ["'self'", "data:", "blob:", "https:"],
    "media-src": ["'self'", "blob:", "https:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
