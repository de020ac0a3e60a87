"""Configuration: environment variables, and production's refusal to run unsafely."""

import json
import subprocess
import sys

import pytest

from chat.settings import (
    SETTINGS,
    ConfigError,
    check_development,
    check_production,
    is_local_uri,
    load_config,
    settings_table,
    site_file_template,
)
from devtools.servers import ROOT, env_with, free_port, procfile_cmd

STRONG = "s" * 32


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("PORT", "6123")
    monkeypatch.setenv("SOCKET_CORS_ORIGIN", "https://a.example, https://b.example")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
    settings = load_config("development")
    assert settings["PORT"] == 6123
    assert settings["SOCKET_CORS_ORIGIN"] == ["https://a.example", "https://b.example"]
    assert settings["SOCKETIO_MESSAGE_QUEUE"] == "redis://127.0.0.1:6379/2"


def test_node_env_selects_the_environment(monkeypatch):
    monkeypatch.delenv("CHAT_ENV", raising=False)
    monkeypatch.setenv("NODE_ENV", "production")
    assert load_config()["ENV_NAME"] == "production"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"JWT_SECRET_KEY": STRONG, "MONGODB_URI": "mongodb://x"}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "a", "MONGODB_URI": "mongodb://x"}, "JWT_SECRET_KEY is not set"),
        ({"SECRET_KEY": "a", "JWT_SECRET_KEY": "short", "MONGODB_URI": "m"}, "shorter than 32"),
        ({"SECRET_KEY": STRONG, "JWT_SECRET_KEY": STRONG, "MONGODB_URI": "m"}, "must differ"),
        (
            {"SECRET_KEY": "short", "JWT_SECRET_KEY": STRONG, "MONGODB_URI": "m"},
            "SECRET_KEY is shorter than 32 bytes",
        ),
    ],
)
def test_production_refuses_unsafe_secrets(settings, problem):
    with pytest.raises(ConfigError, match=problem):
        check_production(settings)


def _refused(argv: list[str], **settings) -> str:
    """Run `argv` with production `settings`; it must exit without serving: its stderr."""
    env = env_with(CHAT_ENV="production", PORT=free_port(), **settings)
    env.pop("MONGODB_URI", None)
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    return result.stderr


def test_production_process_exits_with_a_clear_message():
    stderr = _refused([sys.executable, "-c", "import wsgi"], JWT_SECRET_KEY="too-short")
    assert "Refusing to start in production" in stderr
    assert "JWT_SECRET_KEY is shorter than 32 bytes" in stderr


def test_unknown_async_mode_is_refused():
    from chat import asyncmode

    with pytest.raises(ValueError, match="CHAT_ASYNC_MODE"):
        asyncmode.setup("tornado")


def test_unset_environment_means_production(monkeypatch):
    monkeypatch.delenv("CHAT_ENV", raising=False)
    monkeypatch.delenv("NODE_ENV", raising=False)
    assert load_config()["ENV_NAME"] == "production"


def test_development_secrets_are_random_per_process(monkeypatch):
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    first, second = load_config("development"), load_config("development")
    assert len(first["JWT_SECRET_KEY"]) >= 32 and len(first["SECRET_KEY"]) >= 32
    assert first["JWT_SECRET_KEY"] != second["JWT_SECRET_KEY"]
    assert first["SECRET_KEY"] != first["JWT_SECRET_KEY"]


@pytest.mark.parametrize(
    ("uri", "local"),
    [
        ("mongodb://127.0.0.1:27017/chat", True),
        ("mongodb://localhost/chat", True),
        ("mongodb://user:pw@[::1]:27017,127.0.0.2:27018/chat?replicaSet=r", True),
        ("mongodb://db.example.com:27017/chat", False),
        ("mongodb://127.0.0.1,10.0.0.5/chat", False),
        ("mongodb+srv://cluster0.example.net/chat", False),
        ("", False),
    ],
)
def test_development_serves_only_a_local_database(uri, local):
    assert is_local_uri(uri) is local
    if local:
        check_development({"MONGODB_URI": uri})
    else:
        with pytest.raises(ConfigError, match="another machine"):
            check_development({"MONGODB_URI": uri})


def _gunicorn_settings(**env) -> dict:
    """chat/gunicorn_conf.py evaluated as gunicorn evaluates it, under `env`."""
    code = "import runpy, json; c = runpy.run_module('chat.gunicorn_conf'); print(json.dumps("
    code += "{k: c[k] for k in ('bind', 'worker_class', 'workers', 'worker_connections')}))"
    clean = env_with(**env)
    for name in {"HOST", "PORT", "SOCKET_MAX_CONNECTIONS", "CHAT_ASYNC_MODE"} - set(env):
        clean.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_one_gunicorn_configuration_sized_from_the_socket_cap():
    """gunicorn's gevent worker stops accepting at worker_connections (default 1,000):
    the cap on sockets plus room for REST calls and health checks."""
    assert procfile_cmd("web")[1:] == ["--config", "python:chat.gunicorn_conf", "wsgi:app"]
    shipped = _gunicorn_settings(PORT="8123")
    assert shipped["worker_connections"] == 20000 + 1000
    assert shipped["bind"] == "0.0.0.0:8123" and shipped["workers"] == 1
    assert shipped["worker_class"] == "gevent"
    sized = _gunicorn_settings(SOCKET_MAX_CONNECTIONS="12000", HOST="127.0.0.1")
    assert sized["worker_connections"] == 13000 and sized["bind"].startswith("127.0.0.1:")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("SOCKET_SEND_RATE", "-1"),
        ("CHAT_PLUGINS_AUTOLOAD", "maybe"),
        ("CHAT_ASYNC_MODE", "tornado"),
        ("REGISTRATION", "invites"),
        ("CHAT_PLUGIN_CONFIG", "{not json"),
        ("CHAT_PLUGIN_CONFIG", "[1, 2]"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_config("development")


def test_a_bad_value_stops_the_shipped_server_with_its_name():
    """The Procfile's web command exits, naming the variable (gunicorn reads it first)."""
    assert "SOCKET_MAX_CONNECTIONS" in _refused(procfile_cmd("web"), SOCKET_MAX_CONNECTIONS="lots")
    assert "TYPING_TIMEOUT" in _refused(procfile_cmd("web"), TYPING_TIMEOUT="-5")


def test_every_declared_setting_is_read_from_the_environment(monkeypatch):
    """One declaration per setting, each read: a value set in the environment arrives."""
    samples = {"int": ("7", 7), "float": ("2.5", 2.5), "bool": ("false", False)}
    samples |= {"list": ("a, b", ["a", "b"]), "json": ('{"x": {}}', {"x": {}})}
    urls = {"REDIS_URL": "redis://h:1/0", "SOCKETIO_MESSAGE_QUEUE": "amqp://u:p@h:1//"}
    for setting in SETTINGS:
        raw, parsed = samples.get(setting.type, (setting.choices or ("value",))[-1:] * 2)
        raw, parsed = (urls[setting.name],) * 2 if setting.name in urls else (raw, parsed)
        monkeypatch.setenv(setting.name, raw)
        if setting.name not in ("CHAT_ENV", "CHAT_CONFIG_FILE"):  # tested on their own
            assert load_config("development")[setting.name] == parsed, setting.name
        monkeypatch.delenv(setting.name)


def test_the_readme_table_is_the_declarations():
    """The README's configuration table is generated from chat.settings (`make docs`)."""
    readme = (ROOT / "README.md").read_text()
    assert settings_table() in readme, "README's settings table is stale: run `make docs`"


def test_the_checkouts_config_py_is_the_declarations():
    """The top-level config.py (every setting commented out at its default) is
    generated from chat.settings and sets nothing."""
    assert (ROOT / "config.py").read_text() == site_file_template(), "run `make docs`"
    namespace = {}
    exec(compile((ROOT / "config.py").read_text(), "config.py", "exec"), namespace)
    assert not [name for name in namespace if name.isupper()]


def test_a_site_file_configures_and_the_environment_overrides_it(tmp_path, monkeypatch):
    site = tmp_path / "site.py"
    site.write_text('PORT = 6200\nSOCKET_CORS_ORIGIN = ["https://chat.example"]\n'
                    'TYPING_TIMEOUT = 9\nimport os\n')  # fmt: skip
    monkeypatch.setenv("CHAT_CONFIG_FILE", str(site))
    monkeypatch.setenv("TYPING_TIMEOUT", "3")
    settings = load_config("development")
    assert settings["PORT"] == 6200
    assert settings["SOCKET_CORS_ORIGIN"] == ["https://chat.example"]
    assert settings["TYPING_TIMEOUT"] == 3  # the environment wins
    monkeypatch.chdir(tmp_path)  # config.py in the working directory, without naming it
    monkeypatch.delenv("CHAT_CONFIG_FILE")
    assert load_config("development")["PORT"] == 5000  # none there: the defaults
    (tmp_path / "config.py").write_text("PORT = 6201\n")
    assert load_config("development")["PORT"] == 6201


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("PROT = 5000\n", "not a setting: PROT"),  # a typo is not ignored
        ("PORT = '5000'\n", "PORT is not a valid int"),
        ("PORT = True\n", "PORT is not a valid int"),
        ("TYPING_TIMEOUT = -1\n", "TYPING_TIMEOUT is not a valid int"),
        ("SOCKET_CORS_ORIGIN = 'https://a'\n", "SOCKET_CORS_ORIGIN is not a valid list"),
        ("LOG_LEVEL = 'LOUD'\n", "LOG_LEVEL is not a valid str"),
        ("REGISTRATION = 'invites'\n", "REGISTRATION is not a valid str"),
        ("CHAT_PLUGIN_CONFIG = []\n", "CHAT_PLUGIN_CONFIG is not a valid json"),
    ],
)
def test_a_wrong_site_file_refuses_to_start(tmp_path, monkeypatch, text, problem):
    (tmp_path / "site.py").write_text(text)
    monkeypatch.setenv("CHAT_CONFIG_FILE", str(tmp_path / "site.py"))
    with pytest.raises(ConfigError, match=problem):
        load_config("development")


def test_a_named_site_file_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAT_CONFIG_FILE", str(tmp_path / "missing.py"))
    with pytest.raises(ConfigError, match="CHAT_CONFIG_FILE: no file"):
        load_config("development")


def test_production_reads_its_secrets_from_a_site_file(tmp_path):
    """As shipped: the Procfile's entry with a site file holding a weak secret refuses to
    start and names it; the file's values are checked like the environment's."""
    site = tmp_path / "config.py"
    site.write_text(f"SECRET_KEY = {STRONG!r}\nJWT_SECRET_KEY = 'weak'\n")
    argv = [sys.executable, "-c", "import wsgi"]
    stderr = _refused(argv, CHAT_CONFIG_FILE=str(site))
    assert "JWT_SECRET_KEY is shorter than 32 bytes" in stderr


def test_the_message_queue_is_redis_or_rabbitmq(monkeypatch):
    """A queue URL of another kind (a typo, Kafka) refuses to start, rather than running
    processes that never hear each other."""
    monkeypatch.setenv("SOCKETIO_MESSAGE_QUEUE", "amqp://guest:guest@mq:5672//")
    assert load_config("development")["SOCKETIO_MESSAGE_QUEUE"].startswith("amqp://")
    for wrong in ("kafka://k:9092", "localhost:6379", "amqp:/mq"):
        monkeypatch.setenv("SOCKETIO_MESSAGE_QUEUE", wrong)
        with pytest.raises(ConfigError, match="SOCKETIO_MESSAGE_QUEUE"):
            load_config("development")
