"""docs/integrations.md's examples run as written against a server started as shipped
(allowing receivers at 127.0.0.1, as every test server, with a VAPID key and its
`PUBLIC_URL`): its
shell blocks as one bash script, each Python block on its own."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.servers import free_port
from tests.processes import release, server
from tests.pushservers import vapid_private_key

DOC = Path(__file__).resolve().parent.parent / "docs" / "integrations.md"
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.S | re.M)


def _blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(DOC.read_text()) if lang == kind]


@pytest.fixture
def live(live_settings, own_database):
    """A server with a database of its own (migrated as shipped): the examples'
    deliveries are its alone."""
    port = free_port()
    settings = {**live_settings, "MONGODB_URI": own_database}
    settings["VAPID_PRIVATE_KEY"] = vapid_private_key()  # for the Web Push example
    settings["PUBLIC_URL"] = f"http://127.0.0.1:{port}"  # where webhooks' URLs point
    release(settings)
    with server(settings, port=port) as (base, _):
        yield base


def _env(base: str, person) -> dict:
    return {**os.environ, "BASE": base, "ACCESS_TOKEN": person.token}


def test_the_shell_examples_run(live, people):
    script = "\n".join(_blocks("sh"))
    assert "curl" in script
    done = subprocess.run(
        ["bash", "-c", script],
        env=_env(live, people("docs-sh")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_python_examples_run(live, people):
    blocks = _blocks("python")
    assert blocks
    for number, code in enumerate(blocks):
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=_env(live, people(f"docs-py{number}")),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"block {number}: {done.stdout}{done.stderr}"
