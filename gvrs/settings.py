"""Django settings for gvrs: one module, every variable read through ``gvrs.env``.

Defaults suit one analyst on a laptop: SQLite under ``GVRS_HOME``, debug off, a secret key
generated on first run and kept in ``GVRS_HOME``. A production deployment sets
``GVRS_PRODUCTION=1`` and then must provide ``GVRS_SECRET_KEY`` and ``GVRS_ALLOWED_HOSTS``;
it refuses to start without them.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from gvrs.env import (
    ConfigurationError,
    env_bool,
    env_int,
    env_list,
    env_str,
    gvrs_home,
    writes_allowed,
)

BASE_DIR = Path(__file__).resolve().parent


def _plotly_js_dir() -> Path:
    """Found, not imported: importing plotly costs every command a tenth of a second."""
    from importlib.util import find_spec

    spec = find_spec("plotly")
    return Path(spec.origin).resolve().parent / "package_data"


def _ninja_dir() -> Path:
    """django-ninja's templates and static files (the API's Swagger page), found, not
    imported: as an installed app it was imported at every start-up, and with it pydantic."""
    from importlib.util import find_spec

    return Path(find_spec("ninja").origin).resolve().parent


GVRS_HOME = gvrs_home()
PRODUCTION = env_bool("GVRS_PRODUCTION", False)
DEBUG = env_bool("GVRS_DEBUG", False) and not PRODUCTION


def _secret_key() -> str:
    key = env_str("GVRS_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ConfigurationError("GVRS_PRODUCTION is set but GVRS_SECRET_KEY is not")
    # A laptop install keeps a generated key so sessions survive restarts.
    path = GVRS_HOME / "secret_key"
    if not path.exists() and not writes_allowed():
        return secrets.token_urlsafe(50)  # printing help: nothing is signed, nothing written
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _field_key() -> str:
    """The key that encrypts participants' personal fields (``gvrs.partners.crypto``)."""
    from cryptography.fernet import Fernet

    key = env_str("GVRS_FIELD_KEY")
    if not key and PRODUCTION:
        raise ConfigurationError("GVRS_PRODUCTION is set but GVRS_FIELD_KEY is not")
    if not key:
        # Like the secret key: generated once and kept beside the laptop's database, never in it.
        path = GVRS_HOME / "field_key"
        if not path.exists() and not writes_allowed():
            return Fernet.generate_key().decode()  # printing help: nothing is read or written
        if not path.exists():
            path.write_text(Fernet.generate_key().decode())
            path.chmod(0o600)
        key = path.read_text().strip()
    try:
        for part in key.split(","):
            Fernet(part.strip().encode())
    except ValueError:
        raise ConfigurationError(
            "GVRS_FIELD_KEY is not a Fernet key (32 url-safe base64-encoded bytes; make one"
            " with: python -c 'from cryptography.fernet import Fernet;"
            " print(Fernet.generate_key().decode())')"
        ) from None
    return key


GVRS_FIELD_KEY = _field_key()
ALLOWED_HOSTS = env_list("GVRS_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not env_list("GVRS_ALLOWED_HOSTS"):
    raise ConfigurationError("GVRS_PRODUCTION is set but GVRS_ALLOWED_HOSTS is not")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "gvrs.incidents",
    "gvrs.reports",
    "gvrs.public",  # the public dashboard: the only pages open without sign-in
    "gvrs.partners",  # before accounts: its permissions exist when the roles are synced
    "gvrs.reviews",  # likewise
    "gvrs.risk",
    "gvrs.evaluation",
    "gvrs.notifications",
    "gvrs.council",
    "gvrs.api",
    "gvrs.operations",
    "gvrs.accounts",
    "axes",
]

MIDDLEWARE = [
    # A request id for the logs and the time for the metrics, around everything else.
    "gvrs.operations.logs.RequestMiddleware",
    # /healthz, /readyz and /metrics, answered before host checks, redirects and sessions.
    "gvrs.operations.health.OperationsMiddleware",
    "gvrs.accounts.throttle.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "gvrs.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The reader's language on the public pages (cookie, else the browser's preference).
    "gvrs.i18n.PublicLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gvrs.accounts.grants.ActorMiddleware",
    "gvrs.security.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gvrs.urls"
WSGI_APPLICATION = "gvrs.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # django-ninja's Swagger page from the installed package (gvrs.api.api.Docs).
        "DIRS": [BASE_DIR / "templates", _ninja_dir() / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gvrs.navigation.navigation",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("GVRS_DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if config["ENGINE"] not in (
            "django.db.backends.postgresql",
            "django.db.backends.sqlite3",
        ):
            raise ConfigurationError(
                f"GVRS_DATABASE_URL names {config['ENGINE']}; gvrs supports PostgreSQL and SQLite"
            )
        if config["ENGINE"] == "django.db.backends.postgresql":
            pool = _pool()
            if pool:
                # A pooled connection goes back to the pool at the end of each request;
                # Django refuses persistent connections beside a pool.
                config["CONN_MAX_AGE"] = 0
                config.setdefault("OPTIONS", {})["pool"] = pool
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": GVRS_HOME / "gvrs.sqlite3",
        "OPTIONS": {
            # WAL lets the web app read while an import writes; IMMEDIATE avoids
            # "database is locked" upgrades half-way through a write transaction.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
                " PRAGMA temp.cache_size=-65536;"
            ),
            "transaction_mode": "IMMEDIATE",
            # A writer waits this long (seconds) for another's transaction to commit before
            # "database is locked": an import's lock is held while it writes.
            "timeout": env_int("GVRS_SQLITE_BUSY_TIMEOUT", 60),
        },
    }


def _pool() -> dict | None:
    """PostgreSQL connections per process, pooled and bounded (psycopg's pool, through
    Django): a process never holds more than GVRS_DB_POOL_MAX connections, however many
    threads serve requests; a request waits up to GVRS_DB_POOL_TIMEOUT seconds for one
    rather than opening more. Every process (each gunicorn worker, the background worker,
    a command) has its own pool, so the server sees at most the sum (docs/configuration.md).
    GVRS_DB_POOL_MAX=0 turns pooling off (a persistent connection per thread, e.g. behind
    PgBouncer)."""
    most = env_int("GVRS_DB_POOL_MAX", 4)
    if most <= 0:
        return None
    least = env_int("GVRS_DB_POOL_MIN", 1)
    if not 0 <= least <= most:
        raise ConfigurationError(
            f"GVRS_DB_POOL_MIN={least} must be between 0 and GVRS_DB_POOL_MAX={most}"
        )
    return {"min_size": least, "max_size": most, "timeout": env_int("GVRS_DB_POOL_TIMEOUT", 30)}


def _activity_database(default: dict) -> dict | None:
    """On SQLite, a second file for what sign-ins and page views write (sessions, sign-in
    attempts, the audit log, the page cache): its writers never wait for an import, which
    holds the registry's file for its whole transaction (``gvrs.accounts.router``)."""
    if default["ENGINE"] != "django.db.backends.sqlite3":
        return None
    name = str(default["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        return None
    path = Path(name)
    return {**default, "NAME": path.with_name(f"{path.stem}-activity{path.suffix or '.sqlite3'}")}


DATABASES = {"default": _database()}
if (_activity := _activity_database(DATABASES["default"])) is not None:
    DATABASES["activity"] = _activity
DATABASE_ROUTERS = ["gvrs.accounts.router.ActivityRouter"]
# Background jobs (imports and previews) on Django's tasks framework, stored in the database:
# `gvrs worker` runs them (`gvrs serve` starts one beside the server).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The cache lives in the database so that any number of stateless app servers share it.
CACHES = {
    "default": {
        # Django's database cache, counting hits and misses for the metrics.
        "BACKEND": "gvrs.operations.metrics.CountingDatabaseCache",
        "LOCATION": "gvrs_cache",
        "TIMEOUT": 24 * 3600,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in throttling (django-axes): 5 failures per (user name, address) pair lock that pair
# out for 15 minutes, and GVRS_SIGNIN_FAILURES_PER_ADDRESS failures from one address across
# user names lock that address out (gvrs.accounts.lockout). The address is the connection's,
# or X-Forwarded-For's when the connection comes from one of GVRS_TRUSTED_PROXIES (addresses
# or networks), which are also the only senders whose X-Forwarded-Proto is believed.
GVRS_TRUSTED_PROXIES = env_list("GVRS_TRUSTED_PROXIES", [])
AUTHENTICATION_BACKENDS = [
    "gvrs.accounts.backends.RequestThrottledBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_HANDLER = "gvrs.accounts.lockout.AddressLimitedHandler"
GVRS_SIGNIN_FAILURES_PER_ADDRESS = env_int("GVRS_SIGNIN_FAILURES_PER_ADDRESS", 20)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "gvrs.accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "gvrs.accounts.views.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are kept; sign-ins are in the sessions

PASSWORD_HASHERS = [
    "gvrs.accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Dates on pages in the house style ("21 Dec 2025"; gvrs/formats/en/formats.py).
FORMAT_MODULE_PATH = ["gvrs.formats"]
# Stored instants are UTC; an incident's wall-clock time is read in its jurisdiction's zone.
TIME_ZONE = "UTC"
USE_I18N = True
# The public pages are published in English and Spanish (docs/public.md); the rest of the site
# is in English. The catalogues are gvrs/locale/<lang>/LC_MESSAGES/django.po and its .mo.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
# The reader's choice of language, remembered for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_TZ = True
# A street basemap for maps: a MapLibre style URL (…/style.json) or a raster tile URL template
# (https://tiles.example.org/{z}/{x}/{y}.png). Unset, maps draw area boundaries on a plain
# background and need no network. The Content-Security-Policy allows exactly its origin.
GVRS_MAP_TILES = env_str("GVRS_MAP_TILES")
# The place this deployment serves (name or slug): users land on its overview. An
# administrator's choice in the admin (Site settings) takes precedence.
GVRS_HOME_JURISDICTION = env_str("GVRS_HOME_JURISDICTION")
# The zone given to jurisdictions created on import when none is named.
GVRS_DEFAULT_TIME_ZONE = env_str("GVRS_TIME_ZONE", "America/Los_Angeles")
# The state (USPS code or name) of places in files that name none; unset, such a file is refused.
GVRS_DEFAULT_STATE = env_str("GVRS_DEFAULT_STATE", "")
if GVRS_DEFAULT_STATE:
    from gvrs.data.states import state_code

    if state_code(GVRS_DEFAULT_STATE) is None:
        raise ConfigurationError(f"GVRS_DEFAULT_STATE={GVRS_DEFAULT_STATE!r} is not a US state")
    GVRS_DEFAULT_STATE = state_code(GVRS_DEFAULT_STATE)

STATIC_URL = "static/"
STATIC_ROOT = GVRS_HOME / "static"
if writes_allowed():
    STATIC_ROOT.mkdir(exist_ok=True)
# Plotly's JavaScript is served from the installed plotly package, never from a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/plotly", _plotly_js_dir()),
    ("ninja", _ninja_dir() / "static" / "ninja"),  # the API's Swagger UI, never a CDN
]
# Served pages (`gvrs serve`, production) get collected static files with content hashes in
# their names, compressed with Brotli and gzip, cached immutably by browsers; tests and
# management commands read them straight from the packages.
COMPRESSED_STATIC = PRODUCTION or env_bool("GVRS_COMPRESSED_STATIC", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if COMPRESSED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not COMPRESSED_STATIC
# Compress only the hashed copies that pages link to (half the work of compressing both).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
LOGIN_URL = "accounts-login"
LOGIN_REDIRECT_URL = "reports-overview"
LOGOUT_REDIRECT_URL = "accounts-login"
SESSION_COOKIE_AGE = 8 * 3600  # a working day
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
UPLOAD_ROOT = GVRS_HOME / "uploads"
# An upload whose preview is left unconfirmed is removed by the worker after this many hours.
GVRS_UPLOAD_TTL_HOURS = env_int("GVRS_UPLOAD_TTL_HOURS", 24)
# Roles without incidents.view_restricted_fields see the dashboard map as counts per grid cell
# of this size (never under 250 m), and counts under GVRS_SUPPRESS_BELOW are not shown.
GVRS_MAP_CELL_M = env_int("GVRS_MAP_CELL_M", 500)
GVRS_SUPPRESS_BELOW = env_int("GVRS_SUPPRESS_BELOW", 5)
# The secret behind the disclosure policy's perturbations (docs/disclosure.md); unset, it is
# derived from the secret key. Set it to keep every figure unchanged through a rotation of the
# secret key.
GVRS_DISCLOSURE_KEY = env_str("GVRS_DISCLOSURE_KEY")
# Threads of the risk commands' compiled kernels (Knox, the contagion fit): a whole number, or
# unset/"all" for every core. Read as given and checked where used (gvrs.risk.threads), so a
# bad value stops only the commands it applies to, with an error naming it.
GVRS_THREADS = env_str("GVRS_THREADS")
# Shooting review (gvrs.reviews): the defaults of a place without its own review policy
# (a jurisdiction's ReviewPolicy, in the admin, overrides them for it and the places inside).
GVRS_REVIEW_DEADLINE_DAYS = 7  # a shooting is due for review this many days after it happened
GVRS_REVIEW_QUEUE_BACK_DAYS = 30  # older shootings entering the registry are history, not queued
GVRS_DESIGNATION_MONTHS = 12  # a group designation expires unless renewed
GVRS_ALERT_WINDOW_DAYS = 14  # a retaliation alert stays open this many days
# Scheduled imports (gvrs.incidents.scheduled): a certificate authority file (PEM) trusted, besides
# the system's, for https:// feeds signed by a city's own authority.
GVRS_FETCH_CA_FILE = env_str("GVRS_FETCH_CA_FILE")
# Email (gvrs.notifications): alerts, overdue reviews and failed scheduled imports reach the
# users who subscribe. Unset GVRS_EMAIL_HOST: no email is sent (subscriptions are kept).
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("GVRS_EMAIL_HOST")
EMAIL_PORT = env_int("GVRS_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("GVRS_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("GVRS_EMAIL_PASSWORD")
_EMAIL_SECURITY = env_str("GVRS_EMAIL_SECURITY", "starttls")
if _EMAIL_SECURITY not in ("starttls", "tls", "none"):
    raise ConfigurationError(
        f"GVRS_EMAIL_SECURITY={_EMAIL_SECURITY!r}: give starttls (port 587), tls (465) or none"
    )
EMAIL_USE_TLS = _EMAIL_SECURITY == "starttls"
EMAIL_USE_SSL = _EMAIL_SECURITY == "tls"
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("GVRS_EMAIL_FROM", "gvrs@localhost")
# The address users reach gvrs at, for the sign-in link in an email.
GVRS_SITE_URL = env_str("GVRS_SITE_URL", "http://127.0.0.1:8000")
# How often (seconds) `gvrs worker` queues the scheduled imports that are due and the emails.
GVRS_WORKER_CLOCK_S = env_int("GVRS_WORKER_CLOCK_S", 60)
# The read API (gvrs.api): requests allowed per token (N/second, N/minute, N/hour or N/day).
GVRS_API_RATE = env_str("GVRS_API_RATE", "600/minute")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 2**20
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 2**20

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("GVRS_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Operations (gvrs.operations.health, docs/deploy.md): /metrics is readable with
# "Authorization: Bearer $GVRS_METRICS_TOKEN", or with no token set from loopback only;
# /readyz wants a worker heartbeat younger than GVRS_WORKER_STALE_S seconds.
GVRS_METRICS_TOKEN = env_str("GVRS_METRICS_TOKEN")
GVRS_WORKER_STALE_S = env_int("GVRS_WORKER_STALE_S", 60)
# Logs: "text" lines, or "json" (one object per line, with the request id) for a log shipper.
GVRS_LOG_FORMAT = env_str("GVRS_LOG_FORMAT", "text")
if GVRS_LOG_FORMAT not in ("text", "json"):
    raise ConfigurationError(f"GVRS_LOG_FORMAT={GVRS_LOG_FORMAT!r}: give text or json")
# One log line per request from gvrs itself (gunicorn's access log has no request id).
GVRS_ACCESS_LOG = env_bool("GVRS_ACCESS_LOG", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused request (403, 404, 429) is one line, without its traceback.
    "filters": {
        "no_traceback_below_500": {"()": "gvrs.security.NoTracebackBelow500"},
        "request_id": {"()": "gvrs.operations.logs.RequestIdFilter"},
    },
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "gvrs.operations.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["no_traceback_below_500", "request_id"],
            "formatter": GVRS_LOG_FORMAT,
        }
    },
    "loggers": {"gvrs.access": {"level": "INFO"}},
    "root": {"handlers": ["console"], "level": env_str("GVRS_LOG_LEVEL", "WARNING")},
}
