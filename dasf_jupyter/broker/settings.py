"""Django settings of the DASF broker, read from environment variables.

Embedded default: SQLite in ``DASF_DATA_DIR``, in-memory delivery, open development mode.
Production: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` let several broker processes
serve the same topics.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .origins import default_allowed_hosts, parse_origins


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be a number, got {value!r}") from None


def _secret_key(data_dir: Path) -> str:
    """Use DJANGO_SECRET_KEY, else a random key kept in the data dir (stable across restarts)."""
    if os.environ.get("DJANGO_SECRET_KEY"):
        return os.environ["DJANGO_SECRET_KEY"]
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as stream:
            stream.write(key)
        return key


# --- DASF broker settings (the contract with broker/auth, permissions, api) ---------------
DASF_BROKER_SECURE = _env_bool("DASF_BROKER_SECURE", False)
DASF_DATA_DIR = Path(
    os.environ.get("DASF_DATA_DIR") or "~/.local/share/dasf-jupyter/broker"
).expanduser()
DASF_MAX_MESSAGE_SIZE = int(_env_number("DASF_MAX_MESSAGE_SIZE", 64 * 1024 * 1024))
DASF_PING_INTERVAL = _env_number("DASF_PING_INTERVAL", 30.0)
DASF_ONLINE_WINDOW = _env_number("DASF_ONLINE_WINDOW", 90.0)
DASF_UNSERVED_TIMEOUT = _env_number("DASF_UNSERVED_TIMEOUT", 30.0)
#: bounds of the requests held for topics without a consumer (per broker process)
DASF_UNSERVED_MAX_COUNT = int(_env_number("DASF_UNSERVED_MAX_COUNT", 1000))
DASF_UNSERVED_MAX_BYTES = int(_env_number("DASF_UNSERVED_MAX_BYTES", 256 * 1024 * 1024))
#: a subscription this many characters behind is cut off and its consumers closed (memory hub)
DASF_MAX_BACKLOG_BYTES = int(_env_number("DASF_MAX_BACKLOG_BYTES", 512 * 1024 * 1024))
#: all subscriptions together (per broker process; with Redis: all queues of the prefix);
#: the largest backlogs are cut off first (broker/backlog.py)
DASF_MAX_BACKLOG_TOTAL = int(_env_number("DASF_MAX_BACKLOG_TOTAL", 512 * 1024 * 1024))
#: after a backend's consumer socket closes cleanly, its unanswered requests get an error
#: response once this many seconds passed without their answer (at once after a crash)
DASF_ORPHAN_GRACE = _env_number("DASF_ORPHAN_GRACE", 30.0)
#: response topics unused this long are deleted; checked every DASF_GC_INTERVAL s (0 = never)
DASF_RESPONSE_TOPIC_MAX_AGE = _env_number("DASF_RESPONSE_TOPIC_MAX_AGE", 24 * 3600.0)
DASF_GC_INTERVAL = _env_number("DASF_GC_INTERVAL", 3600.0)
#: topic-creation quotas (broker/quotas.py; 0 = no limit): topics one websocket may create,
#: topics one user may own, topics all anonymous callers together may own
DASF_TOPIC_QUOTA_PER_CONNECTION = int(_env_number("DASF_TOPIC_QUOTA_PER_CONNECTION", 50))
DASF_TOPIC_QUOTA_PER_USER = int(_env_number("DASF_TOPIC_QUOTA_PER_USER", 1000))
DASF_TOPIC_QUOTA_ANONYMOUS = int(_env_number("DASF_TOPIC_QUOTA_ANONYMOUS", 5000))
#: a topic subscribed to before its request topic existed may become its creator's response
#: topic (by the creator's first request) for this many seconds
DASF_RESPONSE_TOPIC_CLAIM_WINDOW = _env_number("DASF_RESPONSE_TOPIC_CLAIM_WINDOW", 60.0)
#: permessage-deflate costs seconds of event-loop time per large (base64, incompressible)
#: payload on both ends; off unless asked for
DASF_WS_COMPRESSION = _env_bool("DASF_WS_COMPRESSION", False)
#: open sockets lose a revoked token or right within this many seconds (plus one DB query)
DASF_ACCESS_RECHECK_INTERVAL = _env_number("DASF_ACCESS_RECHECK_INTERVAL", 2.0)
#: reference (demessaging) backends, whose subscription is named by their start time, join
#: the shared subscription ``backend-module``: their replicas share the calls like ours
DASF_SHARE_REFERENCE_REPLICAS = _env_bool("DASF_SHARE_REFERENCE_REPLICAS", True)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
#: key prefix in Redis, so several brokers (or test runs) can share one Redis server
DASF_REDIS_PREFIX = os.environ.get("DASF_REDIS_PREFIX", "dasf")

DASF_DATA_DIR.mkdir(parents=True, exist_ok=True)

# --- Django ---------------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = _secret_key(DASF_DATA_DIR)
DEBUG = _env_bool("DASF_DEBUG", False)
#: Host names the broker answers to (HTTP, and browser websockets): by default the listening
#: host and localhost's names, so that a foreign web page cannot rebind its name to the broker
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DASF_ALLOWED_HOSTS", "").split(",")]
ALLOWED_HOSTS = [h for h in ALLOWED_HOSTS if h]
if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = default_allowed_hosts(os.environ.get("DASF_LISTEN_HOST", "127.0.0.1"))
#: web pages (besides the broker's own origin) whose browser websockets are accepted; "*" = any
DASF_ALLOWED_ORIGINS = parse_origins(os.environ.get("DASF_ALLOWED_ORIGINS", ""))
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DASF_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "dasf_jupyter.broker.apps.BrokerConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dasf_jupyter.broker.urls"
ASGI_APPLICATION = "dasf_jupyter.broker.asgi.application"

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
            ]
        },
    }
]

if DATABASE_URL:
    import dj_database_url

    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DASF_DATA_DIR / "broker.sqlite3"),
            # WAL + a generous busy timeout: the management commands may write concurrently
            "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"{DASF_REDIS_PREFIX}:layer:",
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 60},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = str(DASF_DATA_DIR / "static")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# the admin accepts large api_info JSON edits
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "dasf_jupyter.broker": {
            "handlers": ["console"],
            "level": os.environ.get("DASF_LOG_LEVEL", "INFO"),
        }
    },
}
