"""The official JavaScript socket.io-client against a live server (node --test)."""

import shutil
import subprocess

from devtools.servers import ROOT, env_with


def test_official_socketio_client_interop(people, live):
    assert (ROOT / "node_modules" / "socket.io-client").exists(), "run `npm ci` (make test does)"
    alice, bob = people("alice", "bob")
    room = alice.create_room("interop")
    env = env_with(CHAT_BASE=live, ALICE_TOKEN=alice.token, BOB_TOKEN=bob.token, ROOM_ID=room)
    result = subprocess.run(
        [shutil.which("node"), "--test", "tests/interop/"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 2" in result.stdout and "# fail 0" in result.stdout
