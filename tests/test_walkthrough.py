"""The README's curl walkthrough runs as written against a real server."""

import subprocess

from devtools.servers import ROOT, env_with
from tests.processes import server


def test_walkthrough_script(app, base_settings):
    with server({"MONGODB_URI": base_settings["MONGODB_URI"]}) as (base, _):
        result = subprocess.run(
            ["bash", str(ROOT / "docs/examples/walkthrough.sh")],
            env=env_with(BASE=base),
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bob paged back through 250 messages; the first one says: message 1" in result.stdout
    assert "edited: True message 1 (edited)" in result.stdout
    assert "latest: message 250" in result.stdout
