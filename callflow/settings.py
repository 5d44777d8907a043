"""Settings, read from the environment.

Without any environment the project runs embedded: SQLite in the repo's `var/` folder and a
Celery broker on the filesystem (no broker process). Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and the Twilio credentials.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CALLFLOW_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_seconds(name: str, default: str) -> tuple[float, ...]:
    """A comma-separated list of delays in seconds (a retry schedule)."""
    return tuple(float(item) for item in env_list(name, default))


def env_required(name: str) -> str:
    """A secret the service cannot run without: with DEBUG off, a missing one stops it from
    starting (`make run` sets development values itself; see the README)."""
    value = os.environ.get(name, "").strip()
    if not value and not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. Callflow refuses to start without it (DEBUG is off): set "
            f"{name} in the environment (the README's 'Running in production' lists them all)."
        )
    return value


DEBUG = env_bool("DEBUG", False)
# With DEBUG on and no key, a key made for this process alone: sessions do not outlive it,
# and nothing signed with a public development key is ever accepted.
SECRET_KEY = env_required("SECRET_KEY") or secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "flows",
    "ivr_runtime",
    "designer_ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # a control character in the URL is a 400 naming the parameter (PostgreSQL refuses NUL)
    "flows.middleware.RefuseControlCharacters",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as django-axes asks: it answers a locked-out login attempt
    "axes.middleware.AxesMiddleware",
]

# Login brute force: django-axes counts failed logins (designer, admin, API browser) per
# username and address and locks out after AXES_FAILURE_LIMIT for AXES_COOLOFF_TIME hours.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("LOGIN_LOCKOUT_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
if env_bool("SECURE_PROXY", False):
    # behind the proxy, the client's address is the last one it appends
    AXES_IPWARE_PROXY_COUNT = int(os.environ.get("SECURE_PROXY_COUNT", "1"))
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

ROOT_URLCONF = "callflow.urls"
WSGI_APPLICATION = "callflow.wsgi.application"
ASGI_APPLICATION = "callflow.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "callflow" / "templates"],
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

#: a database that does not accept a connection, or does not answer a statement, within these
#: fails the webhook's turn (the caller hears the static apology) instead of holding it
DB_CONNECT_TIMEOUT_SECONDS = int(os.environ.get("DB_CONNECT_TIMEOUT_SECONDS", "3"))
DB_STATEMENT_TIMEOUT_SECONDS = float(os.environ.get("DB_STATEMENT_TIMEOUT_SECONDS", "5"))

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'callflow.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A kept connection is checked (one `SELECT 1` on PostgreSQL) at its first use in a
        # request, so one the server dropped is replaced instead of failing that webhook.
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, with writers queueing at a gate (callflow/sqlite3/base.py);
    # SQLITE_WRITE_GATE=0 keeps Django's own, whose writers wait in SQLite's busy handler
    # (`python -m benchmarks sqlite_gate` compares the two).
    if env_bool("SQLITE_WRITE_GATE", True):
        DATABASES["default"]["ENGINE"] = "callflow.sqlite3"
    # WAL lets the web process and the embedded worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        # how long a writer waits for the lock: well inside a webhook's deadline
        "timeout": DB_STATEMENT_TIMEOUT_SECONDS,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Connections are kept (CONN_MAX_AGE, as with PostgreSQL): a new SQLite connection runs
    # the PRAGMAs above and registers Django's SQL functions, about 0.5 ms, as much as all
    # the queries of a webhook. Keeping them is safe: in WAL mode a connection holds no lock
    # or snapshot between transactions, and the health check drops a broken one.
    # A file, not memory, so a real Celery worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-callflow.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's PostgreSQL backend, whose health check asks the server only when the socket
    # has something to say (callflow/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "callflow.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": DB_CONNECT_TIMEOUT_SECONDS,
            # the server ends a statement, or a transaction left idle, past the bound
            "options": (
                f"-c statement_timeout={int(DB_STATEMENT_TIMEOUT_SECONDS * 1000)}"
                f" -c idle_in_transaction_session_timeout={int(DB_STATEMENT_TIMEOUT_SECONDS * 2000)}"
            ),
        }
    )
    # Server-side binding: values travel apart from the statement (psycopg quotes nothing
    # in Python), and a statement a connection has run DB_PREPARE_THRESHOLD times is
    # prepared, so the server parses and plans it once. On the webhook path this took a
    # third of PostgreSQL's CPU per webhook off (README, "Measured figures"). Behind a
    # pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction
    # mode), set DB_PREPARE_THRESHOLD=none.
    if env_bool("DB_SERVER_SIDE_BINDING", True):
        threshold = os.environ.get("DB_PREPARE_THRESHOLD", "5").strip().lower()
        DATABASES["default"]["OPTIONS"].update(
            {
                "server_side_binding": True,
                "prepare_threshold": None if threshold == "none" else int(threshold),
            }
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Serve app static files (the designer's built assets) straight from the apps, also under
# runserver with DEBUG off, without a collectstatic step.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/designer/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Behind a TLS-terminating proxy (SECURE_PROXY=1) the proxy's X-Forwarded-Proto is trusted,
# and only then: without it a client could claim https itself. Cookies are then https-only,
# plain http is redirected and browsers are told to keep to https (HSTS).
SECURE_PROXY = env_bool("SECURE_PROXY", False)
if SECURE_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # the load balancer's health checks may come over plain http
    SECURE_REDIRECT_EXEMPT = [r"^ivr/ping$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["flows.permissions.RolePermission"],
    # JSON read strictly (flows/spec/jsontext.py); every body bounded (flows/parsers.py)
    "DEFAULT_PARSER_CLASSES": [
        "flows.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "flows.parsers.BoundedMultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "flows.api_errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Callflow API",
    "DESCRIPTION": "Call flows (callflow/1), versions, numbers, calls and statistics.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # two choice sets are both called `status`: each gets its own name in the schema
    "ENUM_NAME_OVERRIDES": {
        "CallStatusEnum": "ivr_runtime.models.CallSession.Status",
        "DialStatusEnum": ["completed", "no-answer", "busy", "failed", "canceled"],
    },
    # Swagger UI and ReDoc served from our own static files, not a CDN (works offline)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # the schema and its docs are for logged-in users only
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
}

# --- Twilio ---------------------------------------------------------------------------
# Webhooks are checked against the auth token: with DEBUG off the service does not start
# without one, and a request is never accepted on an empty token (ivr_runtime.twilio.signature).
TWILIO_AUTH_TOKEN = env_required("TWILIO_AUTH_TOKEN")
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "").strip()
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "").strip()
#: False without an account SID (the embedded `make run`): texts and calls are kept, shown as
#: not sent, and Twilio is never contacted.
TWILIO_REST_ENABLED = bool(TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
# The signature check can only be switched off together with DEBUG.
TWILIO_VALIDATE_SIGNATURES = not (DEBUG and env_bool("TWILIO_SKIP_SIGNATURE", False))

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
# A webhook publishing to a broker that is down must fail at once (the row stays queued and
# the sweep hands it over later): no reconnect loop, a short connect timeout.
_FAIL_FAST = {
    "max_retries": 0,
    "interval_start": 0,
    "connect_retries_timeout": 1,
    "socket_connect_timeout": float(os.environ.get("CELERY_BROKER_CONNECT_TIMEOUT", "0.5")),
    # A broker that accepts but never answers (failover, a half-open connection) must not
    # hold a webhook either; above the workers' 1 s BRPOP, below Twilio's 15 s.
    "socket_timeout": float(os.environ.get("CELERY_BROKER_SOCKET_TIMEOUT", "3")),
}
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **_FAIL_FAST,
        "data_folder_in": str(_queue_dir / "out"),
        "data_folder_out": str(_queue_dir / "out"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_queue_dir / "control"),
        # the embedded worker looks at the queue folder this often (a text's hand-over waits
        # for it as well as for the outbox sweep)
        "polling_interval": 0.25,
    }
    for _sub in ("out", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {**_FAIL_FAST, "visibility_timeout": 3600}
    if os.environ.get("CELERY_BROKER_KEYPREFIX"):
        # Several deployments (or test sessions) on one Redis database, each in its own keys.
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = os.environ["CELERY_BROKER_KEYPREFIX"]
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECT_TIMEOUT", "0.5"))
CELERY_TASK_PUBLISH_RETRY = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The outbox sweep is the relay of the SMS outbox: webhooks only write the rows, and it hands
# them to the workers (so a text leaves within about this long), recovering sends whose
# worker died too. The callback sweep places the callbacks that are due (docs/operations.md).
OUTBOX_SWEEP_SECONDS = float(os.environ.get("OUTBOX_SWEEP_SECONDS", "1"))
CALLBACK_SWEEP_SECONDS = float(os.environ.get("CALLBACK_SWEEP_SECONDS", "60"))
CELERY_BEAT_SCHEDULE: dict = {
    "outbox-sweep": {"task": "ivr_runtime.sweep_outbox", "schedule": OUTBOX_SWEEP_SECONDS},
    "callback-sweep": {"task": "ivr_runtime.sweep_callbacks", "schedule": CALLBACK_SWEEP_SECONDS},
    "sms-sessions-expire": {"task": "ivr_runtime.expire_sms_sessions", "schedule": 300.0},
}

# --- SMS outbox, SMS channel, callbacks ---------------------------------------------------
#: send attempts per message before it is marked failed (transient errors only)
SMS_MAX_ATTEMPTS = int(os.environ.get("SMS_MAX_ATTEMPTS", "6"))
#: first retry delay in seconds; doubled at each attempt (capped at SMS_RETRY_MAX_DELAY)
SMS_RETRY_BASE_DELAY = float(os.environ.get("SMS_RETRY_BASE_DELAY", "10"))
SMS_RETRY_MAX_DELAY = float(os.environ.get("SMS_RETRY_MAX_DELAY", "900"))
#: how long a worker owns a message it is sending; past it, the sweep reconciles the row
SMS_SEND_LEASE_SECONDS = float(os.environ.get("SMS_SEND_LEASE_SECONDS", "120"))
#: a queued message not handed over to the broker for this long is re-published by the sweep
SMS_HANDOVER_GRACE_SECONDS = float(os.environ.get("SMS_HANDOVER_GRACE_SECONDS", "20"))
#: the designer and the admin warn of a text due this long ago and still not sent, and of a
#: worker or beat not seen for WORKER_STALE_SECONDS (ivr_runtime.health)
OUTBOX_STUCK_SECONDS = float(os.environ.get("OUTBOX_STUCK_SECONDS", "120"))
WORKER_STALE_SECONDS = float(os.environ.get("WORKER_STALE_SECONDS", "30"))
#: timeout of one HTTP request to the provider
TWILIO_HTTP_TIMEOUT = float(os.environ.get("TWILIO_HTTP_TIMEOUT", "10"))
#: an SMS conversation ends after this many minutes without a message
SMS_SESSION_IDLE_MINUTES = float(os.environ.get("SMS_SESSION_IDLE_MINUTES", "30"))
#: dial attempts per callback (no-answer, busy, failed are retried)
CALLBACK_MAX_ATTEMPTS = int(os.environ.get("CALLBACK_MAX_ATTEMPTS", "3"))
CALLBACK_RETRY_MINUTES = float(os.environ.get("CALLBACK_RETRY_MINUTES", "15"))
CALLBACK_LEASE_SECONDS = float(os.environ.get("CALLBACK_LEASE_SECONDS", "120"))
#: how long one run of a flow's tests may take when publishing or through the API: tests
#: not started by then fail as not run, so publishing is refused rather than unchecked;
#: `manage.py test_flows` has no bound
FLOW_TESTS_SECONDS = float(os.environ.get("FLOW_TESTS_SECONDS", "30"))
#: outbound calls (API, `call_out`, callbacks) placed per second at most, across all
#: processes (Twilio's default limit is 1); calls beyond it wait in a queue
OUTBOUND_CALLS_PER_SECOND = float(os.environ.get("OUTBOUND_CALLS_PER_SECOND", "1"))
#: how long a worker owns an outbound call it is placing; past it, the sweep reconciles it
OUTBOUND_LEASE_SECONDS = float(os.environ.get("OUTBOUND_LEASE_SECONDS", "120"))
#: seconds before each new placing attempt after a transient error; after the last one
#: the call has failed (so 3 attempts by default)
OUTBOUND_RETRY_DELAYS = env_seconds("OUTBOUND_RETRY_DELAYS", "10,20")
#: the sweep that places queued outbound calls (workers are also handed them directly)
# Actions on live calls (start/stop recording, take back a handed-over call) are done by
# the worker's sweep this often after a turn asks for them.
CALL_CONTROL_SWEEP_SECONDS = float(os.environ.get("CALL_CONTROL_SWEEP_SECONDS", "1"))
#: how long a worker owns an action it is performing; past it, the sweep takes it over
CALL_CONTROL_LEASE_SECONDS = float(os.environ.get("CALL_CONTROL_LEASE_SECONDS", "60"))
#: seconds before each new attempt of an action that may pass (the call not answered yet,
#: the provider unreachable); after the last one the action has failed
CALL_CONTROL_RETRY_DELAYS = env_seconds("CALL_CONTROL_RETRY_DELAYS", "1,2,4,8,15")
CELERY_BEAT_SCHEDULE["call-control-sweep"] = {
    "task": "ivr_runtime.sweep_call_controls",
    "schedule": CALL_CONTROL_SWEEP_SECONDS,
}
OUTBOUND_SWEEP_SECONDS = float(os.environ.get("OUTBOUND_SWEEP_SECONDS", "5"))
CELERY_BEAT_SCHEDULE["outbound-sweep"] = {
    "task": "ivr_runtime.dispatch_outbound_calls",
    "schedule": OUTBOUND_SWEEP_SECONDS,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it in production

# --- Limits and deadlines on the public edge (docs/operations.md, "Security") ------------
#: one deadline for a whole webhook: every HTTP request of a turn shares it (Twilio gives up
#: at 15 s and plays its own error; the caller must hear ours first)
WEBHOOK_DEADLINE_SECONDS = float(os.environ.get("WEBHOOK_DEADLINE_SECONDS", "10"))
#: networks `http` and `self_service` nodes may reach although they are loopback, private,
#: link-local or multicast (comma-separated CIDRs, e.g. "10.20.0.0/16,127.0.0.1/32")
HTTP_NODE_ALLOWED_NETWORKS = env_list("HTTP_NODE_ALLOWED_NETWORKS")
#: largest request body accepted (flow documents, imports, webhook forms): 413 beyond it
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_500_000)))
#: PIN guessing: an account is locked for AUTH_LOCKOUT_MINUTES after AUTH_LOCKOUT_FAILURES
#: failed checks within AUTH_LOCKOUT_WINDOW_MINUTES, across calls; a calling number is
#: limited to AUTH_CALLER_MAX_FAILURES failures in the same window, whatever it tries
AUTH_LOCKOUT_FAILURES = int(os.environ.get("AUTH_LOCKOUT_FAILURES", "5"))
AUTH_LOCKOUT_WINDOW_MINUTES = float(os.environ.get("AUTH_LOCKOUT_WINDOW_MINUTES", "15"))
AUTH_LOCKOUT_MINUTES = float(os.environ.get("AUTH_LOCKOUT_MINUTES", "30"))
AUTH_CALLER_MAX_FAILURES = int(os.environ.get("AUTH_CALLER_MAX_FAILURES", "10"))
#: a call still `active` this long after its last webhook is closed by the sweep (a status
#: callback lost during an outage); calls waiting in a queue get their max_wait on top
CALL_STALE_MINUTES = float(os.environ.get("CALL_STALE_MINUTES", "240"))
CALL_SWEEP_SECONDS = float(os.environ.get("CALL_SWEEP_SECONDS", "300"))
CELERY_BEAT_SCHEDULE["call-sweep"] = {
    "task": "ivr_runtime.sweep_stale_calls",
    "schedule": CALL_SWEEP_SECONDS,
}

#: the region a national number is read in (the call history's search) when the flow's own
#: is unknown: an ISO 3166 code (GB, US, FR...)
PHONE_REGION = os.environ.get("PHONE_REGION", "GB").strip().upper() or "GB"
