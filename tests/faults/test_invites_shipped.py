"""Invite-only registration as shipped (RELIABILITY row 42): the Procfile's server with
production settings and the shipped limits; the first admin made by `flask users
create`; one invite redeemed by more people at once than it has uses; a flood of
guessed invite tokens."""

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from devtools.servers import ROOT, env_with, procfile_cmd
from tests.conftest import PASSWORD
from tests.processes import RUN_SECRETS, release, server


def _flask(settings: dict, *args: str) -> subprocess.CompletedProcess:
    """`flask --app wsgi ...` as the release line runs it (production settings)."""
    flask = procfile_cmd("release")[0]
    env = env_with(**{"CHAT_ENV": "production", **RUN_SECRETS, **settings})
    return subprocess.run([flask, "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_row42_an_invite_lets_in_as_many_as_it_says_and_guesses_are_limited(live_settings):
    run = uuid.uuid4().hex[:8]
    settings = {**live_settings, "REGISTRATION": "invite", "REDIS_PREFIX": f"inv-{run}",
                "SOCKETIO_CHANNEL": f"inv-{run}"}  # fmt: skip
    release(settings)
    admin = f"admin{run}"
    made = _flask(settings, "users", "create", admin, f"{admin}@example.com",
                  "--password", PASSWORD, "--admin")  # fmt: skip
    assert made.returncode == 0 and "(site admin)" in made.stdout, made.stderr
    again = _flask(settings, "users", "create", admin, f"x{admin}@example.com",
                   "--password", PASSWORD)  # fmt: skip
    assert again.returncode != 0 and "taken" in again.stderr
    with server(settings, limits={}) as (base, _):
        login = {"username": admin, "password": PASSWORD}
        session = requests.post(f"{base}/api/auth/login", json=login, timeout=10).json()
        headers = {"Authorization": f"Bearer {session['accessToken']}"}
        room = requests.post(f"{base}/api/rooms", json={"name": "crew"}, headers=headers,
                             timeout=10).json()["id"]  # fmt: skip
        invite = requests.post(f"{base}/api/invites", json={"rooms": [room], "maxUses": 3},
                               headers=headers, timeout=10).json()  # fmt: skip

        def register(i: int) -> int:
            body = {"username": f"p{i}{run}", "email": f"p{i}{run}@example.com",
                    "password": PASSWORD, "invite": invite["token"]}  # fmt: skip
            return requests.post(f"{base}/api/auth/register", json=body, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:
            answers = sorted(pool.map(register, range(8)))
        print(f"\nrow 42: 8 sign-ups at once with a 3-use invite answered {answers}")
        assert answers == [201] * 3 + [403] * 5
        room_now = requests.get(f"{base}/api/rooms/{room}", headers=headers, timeout=10).json()
        assert len(room_now["participants"]) == 4  # the admin and the three
        closed = {"username": f"q{run}", "email": f"q{run}@example.com", "password": PASSWORD}
        refused = requests.post(f"{base}/api/auth/register", json=closed, timeout=10)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "registration_closed"
        guesses = [
            requests.get(f"{base}/api/invites/preview/guess{i:027d}", timeout=10).status_code
            for i in range(40)
        ]
        print(f"row 42: 40 guessed tokens: {guesses.count(404)} x 404, {guesses.count(429)} x 429")
        assert guesses[0] == 404 and guesses[-1] == 429  # RATELIMIT_AUTH per address
