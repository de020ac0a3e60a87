"""Installable: `pip install .` (with the built-in plugins, `pip install ./plugins/...`,
as requirements.txt says) in a fresh virtualenv gives a runnable server, started by the
Procfile's commands from a folder that is not the checkout (so nothing is imported from
it: wsgi.py, migrations, plugins and the web client come from what was installed)."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest
import requests

from devtools.servers import ROOT
from tests.processes import release, server

# the plugins a host installs with the package: requirements.txt's `-e ./plugins/NAME`
REQUIREMENTS = (ROOT / "requirements.txt").read_text().splitlines()
BUILT_IN = [line.rsplit("/", 1)[1] for line in REQUIREMENTS if line.startswith("-e ./plugins/")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Wheels built from a copy of the checkout (the build leaves files behind): the
    package's and the built-in plugins', installed with their dependencies in a new venv."""
    where = tmp_path_factory.mktemp("package")
    skip = (".*", "node_modules", "var", "build", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, where / "source", ignore=shutil.ignore_patterns(*skip))
    run = {"check": True, "capture_output": True, "text": True, "timeout": 600}
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", where]
    plugins = [where / "source" / "plugins" / name for name in BUILT_IN]
    subprocess.run([*pip_wheel, where / "source", *plugins], **run)
    (wheel,) = where.glob("chat-0*.whl")
    subprocess.run([sys.executable, "-m", "venv", where / "venv"], **run)
    bin_dir = where / "venv" / "bin"
    wheels = sorted(where.glob("*.whl"))
    assert len(wheels) == 1 + len(BUILT_IN), wheels
    subprocess.run(
        [bin_dir / "pip", "install", "-q", *wheels, "-c", ROOT / "requirements.lock"], **run
    )
    return wheel, bin_dir, where


def test_the_wheel_holds_the_package_and_nothing_of_the_checkout(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "chat/py.typed",
        "wsgi.py",
        "chat/gunicorn_conf.py",
        "chat/migrations/0001_user_indexes.py",
        "chat/web/static/index.html",
        "chat/web/static/vendor/socket.io.min.js",
    ):
        assert needed in names, needed
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "devtools/", "bench/", "plugins/"))]
    assert "config.py" not in names  # the site's file, not the package's


def test_the_installed_package_runs_as_the_procfile_says(installed, live_settings, people):
    """Migrations and the server from the venv, in an empty folder: a user registers,
    sends over a socket, a built-in plugin answers, and the web client is served."""
    _, bin_dir, where = installed
    elsewhere = where / "host"
    elsewhere.mkdir()
    code = "import chat, sys; print(chat.__file__)"
    found = subprocess.run(
        [bin_dir / "python", "-c", code], cwd=elsewhere, capture_output=True, text=True
    )
    assert found.stdout.startswith(str(where / "venv")), found
    release(live_settings, bin_dir=bin_dir, cwd=elsewhere)
    with server(live_settings, bin_dir=bin_dir, cwd=elsewhere) as (base, _):
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        assert "<script" in requests.get(f"{base}/", timeout=5).text
        alice = people("alice", base=base)
        room = alice.create_room()
        sock = alice.socket(base=base)
        ack = sock.call("send_message", {"roomId": room, "content": "installed"})
        assert ack["ok"] and ack["message"]["content"] == "installed"
        path = f"/api/messages/{ack['message']['id']}/reactions"
        reacted = alice.ok("post", path, json={"emoji": "👍"})
        assert [r["emoji"] for r in reacted["reactions"]] == ["👍"]


@pytest.mark.parametrize(
    ("venv", "lock"),
    [(".venv", "requirements.lock"), (".venv-eventlet", "requirements-eventlet.lock")],
)
def test_the_virtualenvs_hold_their_lock_files(venv, lock):
    """`make run` and `make test` install the pinned versions, and the lock files pin
    everything installed: a dependency added without `make lock` fails here."""
    python = ROOT / venv / "bin" / "python"
    freeze = [python, "-m", "pip", "freeze", "--exclude-editable"]
    installed = subprocess.run(freeze, capture_output=True, text=True, check=True, timeout=120)
    pinned = [line for line in (ROOT / lock).read_text().splitlines() if not line.startswith("#")]
    assert sorted(installed.stdout.split()) == sorted(pinned)


def test_the_version_has_a_release_section_in_the_changelog():
    """The package's version is released in the CHANGELOG (Keep a Changelog)."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{version}]")
