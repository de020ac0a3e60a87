"""Configuration classes, read from Heroku-style environment variables (only here)."""

import ipaddress
import json
import logging
import os
import secrets
from urllib.parse import urlsplit

from dotenv import load_dotenv

TRUE = {"1", "true", "yes", "on"}


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def environment_name() -> str:
    """The deployment environment: CHAT_ENV, else NODE_ENV, else production.

    Unset means production, which refuses to start without its secrets: a server
    started bare never runs with development settings by accident.
    """
    return (_env("CHAT_ENV") or _env("NODE_ENV") or "production").lower()


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = None
    JWT_SECRET_KEY = None
    MONGODB_URI = None
    REDIS_URL = None
    SOCKETIO_MESSAGE_QUEUE = None
    SOCKET_CORS_ORIGIN: list[str] = []
    CHAT_ASYNC_MODE = "gevent"
    PORT = 5000
    REDIS_PREFIX = "chat"
    SOCKETIO_CHANNEL = "chat-socketio"
    SOCKET_PING_INTERVAL = 25  # below Heroku's 55 s idle cut
    SOCKET_PING_TIMEOUT = 20
    SOCKET_MAX_FRAME = 64 * 1024
    TYPING_TIMEOUT = 5
    ROOM_CACHE_SECONDS = 10.0  # most a room lives in a process's memory (services.roomcache)
    PRESENCE_PROCESS_TTL = 15  # a process silent this long is presumed dead
    RATELIMIT_DEFAULT = "240 per minute"  # REST requests per user (or address), all routes
    RATELIMIT_AUTH = "30 per minute"  # register/login/refresh per address
    SOCKET_SEND_RATE = 10.0  # socket sends per second per user, shared by every process
    SOCKET_SEND_BURST = 30
    SOCKET_ABUSE_LIMIT = 50  # refusals in a row before a socket is disconnected
    SOCKET_MAX_PER_USER = 20  # live sockets per user, all processes together
    SOCKET_MAX_CONNECTIONS = 20000  # live sockets per process
    SOCKET_MAX_QUEUE = 500  # packets waiting for a slow client before it is cut off
    SOCKET_EVENT_RATE = 20.0  # socket events of any kind per second per user, all processes
    SOCKET_EVENT_BURST = 60
    SOCKET_AUTH_TIMEOUT = 5  # seconds an Engine.IO connection may stay without joining /chat
    PROXY_HOPS = 0  # trusted reverse proxies in front (X-Forwarded-For/-Proto); Heroku: 1
    METRICS_TOKEN = None  # bearer token for /metrics; production without one: no /metrics
    CHAT_PLUGINS: list[str] | None = None  # None: every plugin found
    CHAT_PLUGINS_BLOCKED: list[str] = []
    CHAT_PLUGINS_AUTOLOAD = True
    CHAT_PLUGINS_DIR = None  # default: ./plugins
    CHAT_PLUGIN_CONFIG: dict = {}

    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ACCESS_TOKEN_EXPIRES = 15 * 60
    JWT_REFRESH_TOKEN_EXPIRES = 30 * 24 * 3600
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ERROR_MESSAGE_KEY = "message"

    MONGODB_TIMEOUT_MS = 5000  # how long a request waits for an unreachable database
    MONGODB_MAX_POOL_SIZE = 10  # per process; callers queue for a free connection
    REDIS_MAX_CONNECTIONS = 50  # per process; callers queue for a free one
    MAX_CONTENT_LENGTH = 1024 * 1024
    MESSAGE_MAX_LENGTH = 4000
    LOGIN_MAX_FAILURES = 5  # failed logins per account from one address (or device)
    LOGIN_ACCOUNT_MAX_FAILURES = 20  # ...from clients that never signed in to it, together
    LOGIN_LOCK_SECONDS = 30
    AUTO_CREATE_INDEX = False

    API_TITLE = "chat"
    API_VERSION = "0.1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui/"  # swagger-ui-dist, pinned in npm

    @classmethod
    def from_environment(cls) -> dict:
        """Values taken from the environment, layered over the class defaults."""
        redis_url = _env("REDIS_URL")
        values = {
            "SECRET_KEY": _env("SECRET_KEY"),
            "JWT_SECRET_KEY": _env("JWT_SECRET_KEY") or _env("JWT_SECRET"),
            "MONGODB_URI": _env("MONGODB_URI"),
            "REDIS_URL": redis_url,
            "SOCKETIO_MESSAGE_QUEUE": _env("SOCKETIO_MESSAGE_QUEUE", redis_url),
            "CHAT_ASYNC_MODE": _env("CHAT_ASYNC_MODE", cls.CHAT_ASYNC_MODE),
            "PORT": _int("PORT", cls.PORT),
            "MESSAGE_MAX_LENGTH": _int("MESSAGE_MAX_LENGTH", cls.MESSAGE_MAX_LENGTH),
            "MONGODB_TIMEOUT_MS": _int("MONGODB_TIMEOUT_MS", cls.MONGODB_TIMEOUT_MS),
            "MONGODB_MAX_POOL_SIZE": _int("MONGODB_MAX_POOL_SIZE", cls.MONGODB_MAX_POOL_SIZE),
            "REDIS_MAX_CONNECTIONS": _int("REDIS_MAX_CONNECTIONS", cls.REDIS_MAX_CONNECTIONS),
            "REDIS_PREFIX": _env("REDIS_PREFIX"),
            "SOCKETIO_CHANNEL": _env("SOCKETIO_CHANNEL"),
            "SOCKET_PING_INTERVAL": _int("SOCKET_PING_INTERVAL", cls.SOCKET_PING_INTERVAL),
            "SOCKET_PING_TIMEOUT": _int("SOCKET_PING_TIMEOUT", cls.SOCKET_PING_TIMEOUT),
            "SOCKET_MAX_FRAME": _int("SOCKET_MAX_FRAME", cls.SOCKET_MAX_FRAME),
            "TYPING_TIMEOUT": _int("TYPING_TIMEOUT", cls.TYPING_TIMEOUT),
            "ROOM_CACHE_SECONDS": _float("ROOM_CACHE_SECONDS", cls.ROOM_CACHE_SECONDS),
            "RATELIMIT_DEFAULT": _env("RATELIMIT_DEFAULT"),
            "RATELIMIT_AUTH": _env("RATELIMIT_AUTH"),
            "SOCKET_SEND_RATE": _float("SOCKET_SEND_RATE", cls.SOCKET_SEND_RATE),
            "SOCKET_SEND_BURST": _int("SOCKET_SEND_BURST", cls.SOCKET_SEND_BURST),
            "SOCKET_MAX_PER_USER": _int("SOCKET_MAX_PER_USER", cls.SOCKET_MAX_PER_USER),
            "SOCKET_MAX_CONNECTIONS": _int("SOCKET_MAX_CONNECTIONS", cls.SOCKET_MAX_CONNECTIONS),
            "SOCKET_MAX_QUEUE": _int("SOCKET_MAX_QUEUE", cls.SOCKET_MAX_QUEUE),
            "SOCKET_ABUSE_LIMIT": _int("SOCKET_ABUSE_LIMIT", cls.SOCKET_ABUSE_LIMIT),
            "SOCKET_EVENT_RATE": _float("SOCKET_EVENT_RATE", cls.SOCKET_EVENT_RATE),
            "SOCKET_EVENT_BURST": _int("SOCKET_EVENT_BURST", cls.SOCKET_EVENT_BURST),
            "SOCKET_AUTH_TIMEOUT": _float("SOCKET_AUTH_TIMEOUT", cls.SOCKET_AUTH_TIMEOUT),
            "PROXY_HOPS": _int("PROXY_HOPS", cls.PROXY_HOPS),
            "METRICS_TOKEN": _env("METRICS_TOKEN"),
            "PRESENCE_PROCESS_TTL": _int("PRESENCE_PROCESS_TTL", cls.PRESENCE_PROCESS_TTL),
            "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", cls.MAX_CONTENT_LENGTH),
            "JWT_ACCESS_TOKEN_EXPIRES": _int(
                "JWT_ACCESS_TOKEN_EXPIRES", cls.JWT_ACCESS_TOKEN_EXPIRES
            ),
        }
        values.update(_plugin_settings())
        origins = _env("SOCKET_CORS_ORIGIN")
        if origins:
            values["SOCKET_CORS_ORIGIN"] = [o.strip() for o in origins.split(",") if o.strip()]
        return {key: value for key, value in values.items() if value is not None}


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [n.strip() for n in value.split(",") if n.strip()]


def _plugin_settings() -> dict:
    raw_config = _env("CHAT_PLUGIN_CONFIG")
    try:
        plugin_config = json.loads(raw_config) if raw_config else None
    except ValueError as exc:
        raise ConfigError(f"CHAT_PLUGIN_CONFIG is not valid JSON: {exc}") from None
    if plugin_config is not None and not isinstance(plugin_config, dict):
        raise ConfigError("CHAT_PLUGIN_CONFIG must be a JSON object of plugin name -> settings")
    autoload = _env("CHAT_PLUGINS_AUTOLOAD")
    values = {
        "CHAT_PLUGINS": _names(_env("CHAT_PLUGINS")),
        "CHAT_PLUGINS_BLOCKED": _names(_env("CHAT_PLUGINS_BLOCKED")),
        "CHAT_PLUGINS_AUTOLOAD": None if autoload is None else autoload.lower() in TRUE,
        "CHAT_PLUGINS_DIR": _env("CHAT_PLUGINS_DIR"),
        "CHAT_PLUGIN_CONFIG": plugin_config,
    }
    return {key: value for key, value in values.items() if value is not None}


class DevelopmentConfig(Config):
    """Local development: `.env` is read; secrets not given are random per process
    (nothing signed with a key from the repository), and only a database on this
    machine is accepted."""

    ENV_NAME = "development"
    MONGODB_URI = "mongodb://127.0.0.1:27017/chat"
    SOCKET_CORS_ORIGIN = ["http://127.0.0.1:5000", "http://localhost:5000"]
    AUTO_CREATE_INDEX = False


class TestingConfig(DevelopmentConfig):
    """The test suite: development plus limits high enough for fast tests; the limit
    tests set their own.
    """

    ENV_NAME = "testing"
    TESTING = True
    RATELIMIT_DEFAULT = "100000 per minute"
    RATELIMIT_AUTH = "100000 per minute"
    SOCKET_SEND_RATE = 10000.0
    SOCKET_SEND_BURST = 10000
    SOCKET_EVENT_RATE = 10000.0
    SOCKET_EVENT_BURST = 10000


class ProductionConfig(Config):
    """Production: secrets must come from the environment."""

    ENV_NAME = "production"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "test": TestingConfig,
    "production": ProductionConfig,
}


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely."""


def load_config(name: str | None = None) -> dict:
    """Build the settings dict for an environment name, from class and environment."""
    name = (name or environment_name()).lower()
    if name not in CONFIGS:
        raise ConfigError(f"Unknown environment {name!r}; use one of {sorted(CONFIGS)}")
    cls = CONFIGS[name]
    if cls is not ProductionConfig:
        load_dotenv(override=False)
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    settings.update(cls.from_environment())
    if cls is not ProductionConfig:
        for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
            if not settings.get(key):
                settings[key] = secrets.token_urlsafe(48)
                logging.getLogger(__name__).info("%s: random for this process", key)
    return settings


LOCAL_HOSTS = {"localhost", "localhost.localdomain"}


def is_local_uri(uri: str) -> bool:
    """True when every host of a MongoDB URI is this machine (loopback)."""
    parts = urlsplit(uri)
    if parts.scheme != "mongodb":
        return False  # mongodb+srv:// always names remote hosts
    for host in parts.netloc.rpartition("@")[2].split(","):
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        if name in LOCAL_HOSTS:
            continue
        try:
            if not ipaddress.ip_address(name).is_loopback:
                return False
        except ValueError:
            return False
    return True


def check_development(settings: dict) -> None:
    """Development settings (random secrets, relaxed origins) serve a local database only."""
    if _published(settings):
        raise ConfigError("Refusing to start: " + "; ".join(_published(settings)) + ".")
    if not is_local_uri(settings.get("MONGODB_URI") or ""):
        raise ConfigError(
            "Refusing to start in development against a database on another machine: "
            "set CHAT_ENV=production (with its secrets) to serve that database."
        )


# Secrets that were once in this repository (or its examples): public, so never keys.
PUBLISHED_SECRETS = {
    "dev-secret-key-not-for-production",
    "dev-jwt-secret-key-not-for-production-use",
    "change-me",
    "change-me-to-at-least-32-random-bytes",
}


def _published(settings: dict) -> list[str]:
    return [
        f"{key} is published in the chat repository"
        for key in ("SECRET_KEY", "JWT_SECRET_KEY")
        if settings.get(key) in PUBLISHED_SECRETS
    ]


def check_production(settings: dict) -> None:
    """Refuse to run production without strong, distinct secrets."""
    problems = _published(settings)
    for key in ("SECRET_KEY", "JWT_SECRET_KEY", "MONGODB_URI"):
        if not settings.get(key):
            problems.append(f"{key} is not set")
    jwt_key = settings.get("JWT_SECRET_KEY") or ""
    if jwt_key and len(jwt_key.encode()) < 32:
        problems.append("JWT_SECRET_KEY is shorter than 32 bytes")
    if jwt_key and jwt_key == settings.get("SECRET_KEY"):
        problems.append("JWT_SECRET_KEY must differ from SECRET_KEY")
    if "*" in settings.get("SOCKET_CORS_ORIGIN", []):
        problems.append("SOCKET_CORS_ORIGIN must list origins, not '*'")
    if problems:
        raise ConfigError("Refusing to start in production: " + "; ".join(problems) + ".")
