"""Django settings of the DASF broker, made from its settings table (broker/config.py).

Embedded default: SQLite in ``DASF_DATA_DIR``, in-memory delivery, open development mode.
Production: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` let several broker processes
serve the same topics.
"""

from __future__ import annotations

from pathlib import Path

from .config import current, secret_key
from .origins import default_allowed_hosts, parse_origins

#: resolved once: installed by dasf-broker, else read from the environment (broker/config.py)
_config = current()

# --- DASF broker settings (the contract with broker/auth, permissions, api) ---------------
DASF_BROKER_SECURE = _config.secure
DASF_DATA_DIR = _config.data_dir
DASF_MAX_MESSAGE_SIZE = _config.max_message_size
DASF_PING_INTERVAL = _config.ping_interval
DASF_ONLINE_WINDOW = _config.online_window
DASF_UNSERVED_TIMEOUT = _config.unserved_timeout
DASF_UNSERVED_MAX_COUNT = _config.unserved_max_count
DASF_UNSERVED_MAX_BYTES = _config.unserved_max_bytes
DASF_MAX_BACKLOG_BYTES = _config.max_backlog_bytes
DASF_MAX_BACKLOG_TOTAL = _config.max_backlog_total
DASF_ORPHAN_GRACE = _config.orphan_grace
DASF_RESPONSE_TOPIC_MAX_AGE = _config.response_topic_max_age
DASF_GC_INTERVAL = _config.gc_interval
DASF_TOPIC_QUOTA_PER_CONNECTION = _config.topic_quota_per_connection
DASF_TOPIC_QUOTA_PER_USER = _config.topic_quota_per_user
DASF_TOPIC_QUOTA_ANONYMOUS = _config.topic_quota_anonymous
DASF_RESPONSE_TOPIC_CLAIM_WINDOW = _config.response_topic_claim_window
DASF_WS_COMPRESSION = _config.ws_compression
DASF_ACCESS_RECHECK_INTERVAL = _config.access_recheck_interval
DASF_SHARE_REFERENCE_REPLICAS = _config.share_reference_replicas
DATABASE_URL = _config.database_url
REDIS_URL = _config.redis_url
DASF_REDIS_PREFIX = _config.redis_prefix
DASF_BROKER_HEARTBEAT_TTL = _config.heartbeat_ttl

# --- Django ---------------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parent
# the data dir is created when the broker starts (config.prepare_data_dir), not here
SECRET_KEY = _config.secret_key or secret_key(DASF_DATA_DIR)
DEBUG = _config.debug
#: Host names the broker answers to (HTTP, and browser websockets): by default the listening
#: host and localhost's names, so that a foreign web page cannot rebind its name to the broker
ALLOWED_HOSTS = [h.strip() for h in _config.allowed_hosts.split(",") if h.strip()]
if not ALLOWED_HOSTS:
    ALLOWED_HOSTS = default_allowed_hosts(_config.listen_host)
#: web pages (besides the broker's own origin) whose browser websockets are accepted; "*" = any
DASF_ALLOWED_ORIGINS = parse_origins(_config.allowed_origins)
CSRF_TRUSTED_ORIGINS = [o for o in _config.csrf_trusted_origins.split(",") if o]

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
            "level": _config.log_level.upper(),
        }
    },
}
