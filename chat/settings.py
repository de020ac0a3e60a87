"""Settings: one typed declaration each, read here and nowhere else.

`load_config(name)` layers the declared defaults, the environment's own defaults
(development, testing), the site configuration file and then the process environment
(Heroku-style variables, parsed with environs: a bad value names its variable). The
site file is Flask's convention, a Python file whose upper-case names are settings
(`Config.from_pyfile`): `CHAT_CONFIG_FILE`, else `config.py` in the working
directory when there is one. The README's configuration table and the checkout's
`config.py` are generated from `SETTINGS` (`make docs`); a test fails when they differ.

This module imports nothing of the app, so gunicorn's configuration reads it before
the async mode is chosen.
"""

import copy
import ipaddress
import logging
import os
import runpy
import secrets
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import load_dotenv
from environs import Env, EnvError
from marshmallow.validate import Range

ENVIRONMENTS = ("production", "development", "testing")
ASYNC_MODES = ("gevent", "threading", "eventlet")
SAME = object()  # an environment that keeps the declared default
QUEUE_SCHEMES = ("redis://", "rediss://", "unix://", "amqp://", "amqps://")


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely."""


@dataclass(frozen=True)
class Setting:
    """One setting (an environment variable, or a name in the site file): its type
    (`str`, `int`, `float`, `bool`, `list` of comma-separated names, `json`), default,
    meaning, and a development default."""

    name: str
    type: str
    default: Any
    meaning: str
    development: Any = SAME
    alias: str | None = None
    shown: str | None = None  # the README's default, when it is not the value itself
    choices: tuple[str, ...] | None = None


S = Setting
SETTINGS: tuple[Setting, ...] = (
    S("CHAT_CONFIG_FILE", "str", "", "the site configuration file (Python, upper-case "
      "names as here; the environment overrides it); a file named here must exist",
      shown="`config.py` when present"),
    S("CHAT_ENV", "str", "production", "`development` (what `make run` sets), `testing` or "
      "`production`", alias="NODE_ENV", choices=(*ENVIRONMENTS, "test")),
    S("HOST", "str", "0.0.0.0", "where gunicorn listens (`chat/gunicorn_conf.py`)"),
    S("PORT", "int", 5000, "the port gunicorn listens on"),
    S("WEB_CONCURRENCY", "int", 1, "`make run` only: server processes to start (one per "
      "core), on `PORT`, `PORT+1`, ... over the local Redis; gunicorn itself keeps one "
      "worker per process"),
    S("MONGODB_URI", "str", None, "database; the path names the database; required in "
      "production", development="mongodb://127.0.0.1:27017/chat",
      shown="unset (dev: `mongodb://127.0.0.1:27017/chat`)"),
    S("REDIS_URL", "str", None, "Redis for readiness, the Socket.IO message queue, "
      "presence, limits and the room cache feed"),
    S("SOCKETIO_MESSAGE_QUEUE", "str", None, "message queue that links Socket.IO processes: "
      "Redis (`redis://`, `rediss://`) or RabbitMQ (`amqp://`, `amqps://`)",
      shown="`REDIS_URL`"),
    S("SECRET_KEY", "str", None, "Flask secret (also signs login device tokens), >= 32 "
      "bytes; required in production", shown="random per process in development"),
    S("JWT_SECRET_KEY", "str", None, "HS256 key, >= 32 bytes, distinct from `SECRET_KEY`; "
      "required in production", alias="JWT_SECRET", shown="random per process in development"),
    S("PROXY_HOPS", "int", 0, "reverse proxies in front (Heroku's router, nginx: `1`); the "
      "client address and scheme come from the entries those hops add to "
      "`X-Forwarded-For`/`-Proto`, never from ones a client wrote"),
    S("METRICS_TOKEN", "str", None, "bearer token for `GET /metrics`; production without "
      "one serves no metrics (404)"),
    S("LOG_LEVEL", "str", "INFO", "least level logged (every logger: JSON lines on standard error)",
      choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    S("ACCESS_LOG", "bool", True, "gunicorn's access log (method, path without query, "
      "status, size, ms), as JSON lines like every other log"),
    S("JWT_ACCESS_TOKEN_EXPIRES", "int", 900, "access-token lifetime in seconds (refresh "
      "tokens: 30 days)"),
    S("SOCKET_CORS_ORIGIN", "list", [], "comma-separated origin allowlist; `*` is refused in "
      "production", development=["http://127.0.0.1:5000", "http://localhost:5000"],
      shown="none (dev: localhost:5000)"),
    S("CHAT_ASYNC_MODE", "str", "gevent", "`gevent`, `threading` or `eventlet` "
      "(compatibility only)", choices=ASYNC_MODES),
    S("MESSAGE_MAX_LENGTH", "int", 4000, "maximum message length in characters"),
    S("MAX_CONTENT_LENGTH", "int", 1024 * 1024, "maximum request body in bytes (413 beyond)"),
    S("MONGODB_TIMEOUT_MS", "int", 5000, "how long a request waits for an unreachable "
      "database (or a free pooled connection) before 503"),
    S("MONGODB_MAX_POOL_SIZE", "int", 10, "database connections per process (plus 2 for "
      "the group commit); beyond it callers wait. Small on purpose: concurrent sends and "
      "room reads are combined into one operation"),
    S("REDIS_MAX_CONNECTIONS", "int", 50, "Redis connections per process; beyond it "
      "callers wait (up to 2 s) for a free one"),
    S("RATELIMIT_DEFAULT", "str", "240 per minute", "REST requests per user (or address), "
      "all routes"),
    S("RATELIMIT_AUTH", "str", "30 per minute", "register, login and refresh per address"),
    S("REGISTRATION", "str", "open", "who may make an account: `open` (anyone), `invite` "
      "(only with a valid invite link, `POST /api/invites`), `closed` (nobody over the API; "
      "`flask users create` makes accounts)", choices=("open", "invite", "closed")),
    S("ALLOWED_EMAIL_DOMAINS", "list", [], "comma-separated email domains new accounts may "
      "use (`example.com` allows that domain and no other, not its subdomains); empty: any"),
    S("LOGIN_MAX_FAILURES", "int", 5, "failed logins for one account from one address (or "
      "one known device) before that client waits"),
    S("LOGIN_ACCOUNT_MAX_FAILURES", "int", 20, "failed logins for one account from all "
      "clients that never signed in to it before they wait (never a lockout of the "
      "owner's known devices)"),
    S("LOGIN_LOCK_SECONDS", "int", 30, "first wait after too many failed logins, doubling "
      "up to 15 min"),
    S("SOCKET_EVENT_RATE", "float", 20.0, "socket events of every kind per second per user "
      "(all processes)"),
    S("SOCKET_EVENT_BURST", "int", 60, "burst of socket events per user"),
    S("SOCKET_SEND_RATE", "float", 10.0, "socket sends per second per user (all "
      "processes), within the event budget"),
    S("SOCKET_SEND_BURST", "int", 30, "burst of socket sends per user"),
    S("SOCKET_MAX_PER_USER", "int", 20, "live sockets per user, all processes together"),
    S("SOCKET_MAX_CONNECTIONS", "int", 20000, "live sockets per process (gunicorn's "
      "`worker_connections` is this plus 1,000 for REST)"),
    S("SOCKET_AUTH_TIMEOUT", "float", 5.0, "seconds a connection may stay open without "
      "joining `/chat`"),
    S("SOCKET_MAX_QUEUE", "int", 500, "packets queued for a slow client before it is cut off"),
    S("SOCKET_ABUSE_LIMIT", "int", 50, "refusals not made up by accepted events before a "
      "socket is disconnected"),
    S("SOCKET_PING_INTERVAL", "int", 25, "Socket.IO heartbeat, seconds (below Heroku's 55 s "
      "idle cut)"),
    S("SOCKET_PING_TIMEOUT", "int", 20, "seconds without a heartbeat answer before a socket "
      "is dropped"),
    S("SOCKET_MAX_FRAME", "int", 64 * 1024, "largest Socket.IO message in bytes; bigger "
      "frames close the connection"),
    S("SOCKETIO_CHANNEL", "str", "chat-socketio", "Redis channel or RabbitMQ exchange of the "
      "message queue (one per deployment)"),
    S("REDIS_PREFIX", "str", "chat", "prefix of every key and channel in Redis"),
    S("TYPING_TIMEOUT", "int", 5, "seconds before an unrefreshed typing indicator ends"),
    S("ROOM_CACHE_SECONDS", "float", 60.0, "most seconds a process serves a room to sends "
      "from memory (a write straight to the database, outside the server, is seen by "
      "then); any room write drops it on every process at once (Redis pub/sub), and "
      "nothing is cached while that feed is down; `0` turns the cache off"),
    S("PRESENCE_PROCESS_TTL", "int", 15, "seconds of silence after which a process's "
      "sockets are presumed gone"),
    S("SMTP_HOST", "str", "", "SMTP server for every email (password resets, the "
      "notifications plugin's); unset: none is sent (a reset logs an error)"),
    S("SMTP_PORT", "int", 25, "SMTP port"),
    S("SMTP_STARTTLS", "bool", False, "`true`: STARTTLS before sending"),
    S("SMTP_USER", "str", "", "SMTP login (none when empty)"),
    S("SMTP_PASSWORD", "str", "", "SMTP password"),
    S("MAIL_FROM", "str", "chat@localhost", "the From address of account email"),
    S("PASSWORD_RESET_URL", "str", "", "link in a reset email, `{token}` replaced by the "
      "token (e.g. `https://chat.example.com/#reset={token}`); empty: the email carries "
      "the token itself"),
    S("PASSWORD_RESET_MINUTES", "int", 30, "how long a password-reset token works"),
    S("MESSAGE_RETENTION_DAYS", "int", 0, "purge message bodies and files older than this "
      "many days to tombstones (0: keep them); a room's `retentionDays` overrides it"),
    S("SYNC_RETENTION_DAYS", "int", 30, "days changes are kept for `GET /api/sync` and "
      "`sync_all`; an older cursor gets 410 `sync_expired`"),
    S("PUBLIC_URL", "str", "", "the server's address as clients reach it (e.g. "
      "`https://chat.example.com`), which incoming webhook URLs and invite links start "
      "with; empty: they are given as paths (never taken from a request's `Host` header)"),
    S("WEBHOOK_ALLOWED_HOSTS", "list", [], "comma-separated hosts, addresses or networks "
      "(`10.0.0.0/8`) outgoing webhooks and push endpoints may reach although private, "
      "loopback or link-local (refused otherwise)"),
    S("WEBHOOK_MAX_ATTEMPTS", "int", 15, "attempts per webhook delivery before it is "
      "dead-lettered"),
    S("WEBHOOK_RETRY_SECONDS", "float", 5.0, "first retry delay of a failed webhook "
      "delivery; it doubles each attempt"),
    S("WEBHOOK_RETRY_MAX_SECONDS", "float", 3600.0, "longest delay between attempts"),
    S("WEBHOOK_TIMEOUT", "float", 10.0, "seconds a webhook receiver has to answer"),
    S("PUSH_INCLUDE_CONTENT", "bool", False, "`true`: pushes carry the message's sender, "
      "room name and text; otherwise only ids (the app fetches the rest)"),
    S("VAPID_PRIVATE_KEY", "str", "", "Web Push: the server's P-256 key (PEM, or base64url "
      "of the raw 32 bytes); unset: no Web Push"),
    S("VAPID_SUBJECT", "str", "mailto:admin@localhost", "Web Push: the contact in each "
      "VAPID claim (`mailto:` or `https:`)"),
    S("FCM_CREDENTIALS", "str", "", "FCM HTTP v1: path of the service account JSON (its "
      "`project_id`, `client_email`, `private_key`, `token_uri`); unset: no FCM"),
    S("FCM_URL", "str", "https://fcm.googleapis.com", "FCM HTTP v1 base URL"),
    S("APNS_KEY_FILE", "str", "", "APNs: path of the .p8 signing key; unset: no APNs"),
    S("APNS_KEY_ID", "str", "", "APNs: the key's id (the JWT `kid`)"),
    S("APNS_TEAM_ID", "str", "", "APNs: the team id (the JWT `iss`)"),
    S("APNS_TOPIC", "str", "", "APNs: the app's bundle id (`apns-topic`)"),
    S("APNS_URL", "str", "https://api.push.apple.com", "APNs base URL (HTTP/2; "
      "`https://api.sandbox.push.apple.com` for development builds)"),
    S("CHAT_PLUGINS", "list", None, "comma-separated plugin names to load",
      shown="all found"),
    S("CHAT_PLUGINS_BLOCKED", "list", [], "comma-separated plugin names never to load"),
    S("CHAT_PLUGINS_AUTOLOAD", "bool", True, "`false`: load only the plugins named in "
      "`CHAT_PLUGINS`"),
    S("CHAT_PLUGINS_DIR", "str", None, "a folder of local plugins (packages or modules)"),
    S("CHAT_PLUGIN_CONFIG", "json", {}, "JSON object: per-plugin settings, e.g. file "
      "storage (local/S3), webhook and SMTP settings"),
)  # fmt: skip
BY_NAME = {s.name: s for s in SETTINGS}

# Library settings that are not an operator's choice.
FIXED = {
    "JWT_ALGORITHM": "HS256",
    "JWT_DECODE_ALGORITHMS": ["HS256"],
    "JWT_REFRESH_TOKEN_EXPIRES": 30 * 24 * 3600,
    "JWT_TOKEN_LOCATION": ["headers"],
    "JWT_ERROR_MESSAGE_KEY": "message",
    "API_TITLE": "chat",
    "API_VERSION": "0.1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",  # swagger-ui-dist, from npm
}

# The test suite: development plus limits high enough for fast tests (the limit tests
# set their own).
TESTING = {
    "TESTING": True,
    "RATELIMIT_DEFAULT": "100000 per minute",
    "RATELIMIT_AUTH": "100000 per minute",
    "SOCKET_SEND_RATE": 10000.0,
    "SOCKET_SEND_BURST": 10000,
    "SOCKET_EVENT_RATE": 10000.0,
    "SOCKET_EVENT_BURST": 10000,
}


def _given(name: str) -> bool:
    return os.environ.get(name, "") != ""


_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "list": (list, tuple), "json": (dict,),
}  # fmt: skip


def _site_value(setting: Setting, value: Any, path: Path) -> Any:
    """A site file's value, checked against the declaration as the environment's is."""
    numeric = setting.type in ("int", "float")
    typed = isinstance(value, _TYPES[setting.type])  # (not narrowing `value` for mypy)
    if (
        not typed
        or (numeric and (isinstance(value, bool) or value < 0))
        or (setting.type == "list" and not all(isinstance(v, str) for v in value))
        or (setting.choices and value.lower() not in {c.lower() for c in setting.choices})
    ):
        raise ConfigError(f"{path}: {setting.name} is not a valid {setting.type}: {value!r}")
    return list(value) if setting.type == "list" else value


_SITE_CACHE: dict[tuple[str, int], dict[str, Any]] = {}


def site_settings() -> dict[str, Any]:
    """The settings of the site configuration file (none without one). Names that are
    not declared settings, and values of the wrong type, are refused (fail closed)."""
    named = os.environ.get("CHAT_CONFIG_FILE", "")
    path = Path(named or "config.py")
    if not path.is_file():
        if named:
            raise ConfigError(f"CHAT_CONFIG_FILE: no file at {named}")
        return {}
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _SITE_CACHE:
        names = {k: v for k, v in runpy.run_path(str(path)).items() if k.isupper()}
        unknown = sorted(set(names) - set(BY_NAME) - {"CHAT_CONFIG_FILE"})
        if unknown:
            raise ConfigError(f"{path}: not a setting: {', '.join(unknown)}")
        _SITE_CACHE[key] = {
            k: _site_value(BY_NAME[k], v, path) for k, v in names.items() if v is not None
        }
    return _SITE_CACHE[key]


def read(name: str, development: bool = False) -> Any:
    """One setting from the environment (an empty variable counts as unset), else the
    site file, else its default; ConfigError names the variable or file when the value
    does not parse."""
    setting = BY_NAME[name]
    source = next((n for n in (name, setting.alias) if n and _given(n)), None)
    site = site_settings() if name != "CHAT_CONFIG_FILE" else {}
    if source is None and name in site:
        return copy.deepcopy(site[name])
    if source is None:
        keep = setting.development is SAME or not development
        value = setting.default if keep else setting.development
        return copy.deepcopy(value)  # a list or dict default is never shared
    env = Env(expand_vars=False)
    try:
        if setting.type == "list":
            return [n.strip() for n in env.list(source, subcast=str) if n.strip()]
        if setting.type in ("int", "float"):
            return getattr(env, setting.type)(source, validate=Range(min=0))
        value = getattr(env, setting.type)(source)
    except EnvError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if setting.choices and value.lower() not in {c.lower() for c in setting.choices}:
        raise ConfigError(f"{source} must be one of {', '.join(setting.choices)}, not {value!r}")
    return value


def environment_name() -> str:
    """CHAT_ENV, else NODE_ENV, else production.

    Unset means production, which refuses to start without its secrets: a server
    started bare never runs with development settings by accident.
    """
    name = read("CHAT_ENV").lower()
    return "testing" if name == "test" else name


def load_config(name: str | None = None) -> dict:
    """The settings of an environment (default: CHAT_ENV), from the declarations, that
    environment's defaults and the process environment."""
    name = (name or environment_name()).lower()
    name = "testing" if name == "test" else name
    if name not in ENVIRONMENTS:
        raise ConfigError(f"Unknown environment {name!r}; use one of {list(ENVIRONMENTS)}")
    development = name != "production"
    if development:
        load_dotenv(override=False)
    settings: dict[str, Any] = dict(FIXED, ENV_NAME=name, TESTING=False)
    settings.update({s.name: read(s.name, development) for s in SETTINGS})
    settings["CHAT_ASYNC_MODE"] = str(settings["CHAT_ASYNC_MODE"]).lower()
    settings["REGISTRATION"] = str(settings["REGISTRATION"]).lower()
    settings["ALLOWED_EMAIL_DOMAINS"] = [d.lower() for d in settings["ALLOWED_EMAIL_DOMAINS"]]
    settings["LOG_LEVEL"] = str(settings["LOG_LEVEL"]).upper()
    if not isinstance(settings["CHAT_PLUGIN_CONFIG"], dict):
        raise ConfigError("CHAT_PLUGIN_CONFIG must be a JSON object of plugin name -> settings")
    settings["SOCKETIO_MESSAGE_QUEUE"] = queue = (
        settings["SOCKETIO_MESSAGE_QUEUE"] or settings["REDIS_URL"]
    )
    if queue and not queue.startswith(QUEUE_SCHEMES):
        raise ConfigError(f"SOCKETIO_MESSAGE_QUEUE must start with one of {QUEUE_SCHEMES}")
    if name == "testing":
        settings.update({k: v for k, v in TESTING.items() if not _given(k)})
    if development:
        for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
            if not settings.get(key):
                settings[key] = secrets.token_urlsafe(48)
                logging.getLogger(__name__).info("%s: random for this process", key)
    return settings


def settings_table() -> str:
    """The README's configuration table, from the declarations."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        name = f"`{s.name}`" + (f" (or `{s.alias}`)" if s.alias else "")
        default = s.shown or ("unset" if s.default is None else _shown(s.default))
        rows.append(f"| {name} | {default} | {s.meaning} |")
    return "\n".join(rows) + "\n"


def site_file_template() -> str:
    """The checkout's `config.py`: every setting, commented out at its default."""
    lines = [
        '"""Site configuration: Flask\'s convention of a configuration file, a Python file',
        "whose upper-case names are settings. The server reads it from the working directory",
        "(or from CHAT_CONFIG_FILE); environment variables override it. Every setting is here",
        "at its default, commented out; the README's configuration section explains them.",
        "Generated from chat/settings.py by `make docs`.",
        '"""',
    ]
    for s in SETTINGS:
        if s.name == "CHAT_CONFIG_FILE":
            continue
        meaning = s.meaning.replace("`", "") + (f" (or {s.alias})" if s.alias else "")
        lines += ["", *textwrap.wrap(meaning, 86, initial_indent="# ", subsequent_indent="# ")]
        lines.append(f"# {s.name} = {s.default!r}")
    return "\n".join(lines) + "\n"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value == [] or value == {}:
        return "none" if value == [] else "`{}`"
    return f"`{value}`"


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
    for key in ("SECRET_KEY", "JWT_SECRET_KEY"):  # both sign credentials
        value = settings.get(key) or ""
        if value and len(value.encode()) < 32:
            problems.append(f"{key} is shorter than 32 bytes")
    jwt_key = settings.get("JWT_SECRET_KEY") or ""
    if jwt_key and jwt_key == settings.get("SECRET_KEY"):
        problems.append("JWT_SECRET_KEY must differ from SECRET_KEY")
    if "*" in settings.get("SOCKET_CORS_ORIGIN", []):
        problems.append("SOCKET_CORS_ORIGIN must list origins, not '*'")
    if problems:
        raise ConfigError("Refusing to start in production: " + "; ".join(problems) + ".")
