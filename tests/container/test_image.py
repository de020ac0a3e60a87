"""`make container-test`: the Dockerfile built for real by podman, on a Debian bookworm
base made here with debootstrap and tagged as the Dockerfile's base (no image registry
is reachable), then run against this machine's database and Redis as an operator runs
it: migrations as their own container, then the web container, its HEALTHCHECK,
/healthz, a registration and a socket message. Not in `make test` (minutes long)."""

import resource
import shutil
import subprocess
from pathlib import Path

import pytest

from devtools.servers import ROOT, free_port, wait_for_port
from tests.processes import RUN_SECRETS, TEST_SPEED
from tests.sockets.client import Person

BASE = "docker.io/library/debian:bookworm-slim"  # the Dockerfile's ARG BASE
IMAGE = "localhost/chat:test"
MIRROR = "http://deb.debian.org/debian"
NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
# What this machine needs, and a Docker host does not: crun refuses its hybrid cgroups
# (runc takes them), podman's default limits are above what a process here may set,
# and PyPI is reached through a TLS-intercepting proxy whose CA the host trusts.
PODMAN = ["podman", "--runtime", "runc"]
LIMITS = ["--ulimit", f"nofile={NOFILE}:{NOFILE}", "--ulimit", "nproc=4096:4096"]
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"


def _run(*argv, timeout: float = 1800, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{argv[:3]}: {result.stdout[-2000:]}{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def image():
    """The image, built from the checkout; the base image made first when missing."""
    assert shutil.which("podman"), "make container-test installs podman"
    if subprocess.run(["podman", "image", "exists", BASE]).returncode != 0:
        rootfs = ROOT / "var" / "container" / "bookworm"
        shutil.rmtree(rootfs, ignore_errors=True)
        rootfs.mkdir(parents=True)
        _run("debootstrap", "--variant=minbase", "bookworm", str(rootfs), MIRROR)
        with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
            _run("podman", "import", "-", BASE, stdin=tar.stdout)
        assert tar.returncode == 0
        shutil.rmtree(rootfs)
    # the build's network is the host's: its package indexes are the ones reachable here
    build = [*PODMAN, "build", "--format", "docker", "--network", "host", *LIMITS]
    build += ["--volume", f"{HOST_CA}:/host-ca.crt:ro", "--build-arg", "PIP_CERT=/host-ca.crt"]
    _run(*build, "-t", IMAGE, str(ROOT))  # the docker format keeps the HEALTHCHECK
    return IMAGE


def _env(settings: dict) -> list[str]:
    return [arg for key, value in settings.items() for arg in ("-e", f"{key}={value}")]


def test_the_image_serves_as_shipped(image, base_settings, redis_url):
    port = free_port()
    settings = {
        **RUN_SECRETS,
        **TEST_SPEED,
        "MONGODB_URI": base_settings["MONGODB_URI"],
        "REDIS_URL": redis_url,
        "HOST": "127.0.0.1",
        "PORT": port,
    }
    run = [*PODMAN, "run", "--network", "host", *LIMITS, *_env(settings)]
    _run(*run, "--rm", image, "flask", "--app", "wsgi", "migrate", timeout=120)
    name = f"chat-test-{port}"
    _run(*run, "-d", "--name", name, image, timeout=60)
    try:
        wait_for_port(port, timeout=60)
        assert _run(*PODMAN, "exec", name, "id", "-u").stdout.strip() != "0"
        _run(*PODMAN, "healthcheck", "run", name, timeout=30)  # the Dockerfile's HEALTHCHECK
        base = f"http://127.0.0.1:{port}"
        alice, bob = Person(base, "alice_img"), Person(base, "bob_img")
        room = alice.create_room("from-the-image")
        bob.ok("post", f"/api/rooms/{room}/join")
        listening, talking = bob.socket(), alice.socket()
        ack = talking.call("send_message", {"roomId": room, "content": "hello from a container"})
        assert ack["ok"], ack
        got = listening.wait_for("message_received")
        assert got["message"]["content"] == "hello from a container"
        for person in (alice, bob):
            person.close()
    finally:
        logs = subprocess.run(["podman", "logs", name], capture_output=True, text=True)
        subprocess.run(["podman", "rm", "-f", "-t", "5", name], capture_output=True)
        print(logs.stderr[-3000:])
    assert Path(ROOT / "Dockerfile").read_text().count("FROM ${BASE}") == 2  # multi-stage
