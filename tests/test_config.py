"""Configuration: environment variables, and production's refusal to run unsafely."""

import subprocess
import sys

import pytest

from config import ConfigError, check_production, load_config
from devtools.servers import ROOT, env_with

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
    ],
)
def test_production_refuses_unsafe_secrets(settings, problem):
    with pytest.raises(ConfigError, match=problem):
        check_production(settings)


def test_production_process_exits_with_a_clear_message():
    env = env_with(CHAT_ENV="production", JWT_SECRET_KEY="too-short", SECRET_KEY="x")
    env.pop("MONGODB_URI", None)
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr
    assert "JWT_SECRET_KEY is shorter than 32 bytes" in result.stderr


def test_unknown_async_mode_is_refused():
    from chat import asyncmode

    with pytest.raises(ValueError, match="CHAT_ASYNC_MODE"):
        asyncmode.setup("tornado")
