"""File sharing against real server processes: early 413s and the S3 backend (moto server)."""

import json
import socket
import subprocess
import time
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from devtools.servers import free_port, stop, wait_for_port
from tests.plugins.files import png
from tests.processes import BIN, server

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_declared_oversize_is_refused_before_the_body_is_sent(people, live):
    alice = people("alice")
    room = alice.create_room()
    host, port = urlsplit(live).hostname, urlsplit(live).port
    head = (
        f"POST /api/rooms/{room}/files HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {alice.token}\r\n"
        "Content-Type: multipart/form-data; boundary=XYZ\r\n"
        "Content-Length: 50000000\r\n\r\n"
        '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
    )
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head.encode() + b"a" * 1000)  # 1 KB of the 50 MB announced
        answer = b""
        while b"}}" not in answer:  # the end of the JSON error envelope
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert '"payload_too_large"' in answer


def test_chunked_upload_past_the_limit_is_stopped(people, live):
    alice = people("alice")
    room = alice.create_room()

    def body():
        yield b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        for _ in range(200):  # 12.5 MB, over the 10 MiB limit, in 64 KB chunks
            yield b"a" * 65536
        yield b"\r\n--XYZ--\r\n"

    headers = {"Content-Type": "multipart/form-data; boundary=XYZ"}
    try:
        response = alice.http.post(
            f"{live}/api/rooms/{room}/files", data=body(), headers=headers, timeout=30
        )
        assert response.status_code == 413, response.text
    except requests.ConnectionError:
        pass  # the server may close the connection while we are still sending
    assert alice.ok("get", f"/api/messages/{room}")["messages"] == []


@pytest.fixture
def moto():
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def test_s3_backend_against_moto_server(app, live_settings, people, moto, monkeypatch):
    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    s3.create_bucket(Bucket="chat-files")
    config = {
        "file_sharing": {
            "storage": "s3",
            "s3_bucket": "chat-files",
            "s3_endpoint_url": moto,
            "s3_region": "us-east-1",
        }
    }
    with server({**live_settings, "CHAT_PLUGIN_CONFIG": json.dumps(config)}) as (base, _):
        alice = people("alice", base=base)
        room = alice.create_room()
        image = png(4, 4)
        response = alice.rest(
            "post", f"/api/rooms/{room}/files", files={"file": ("cat.png", image, "image/png")}
        )
        assert response.status_code == 201, response.text
        message = response.json()
        key = message["attachment"]["id"]
        stored = s3.get_object(Bucket="chat-files", Key=key)
        assert stored["Body"].read() == image and stored["ContentType"] == "image/png"
        assert alice.rest("get", message["attachment"]["url"]).content == image
        alice.ok("delete", f"/api/messages/{message['id']}", 204)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if s3.list_objects_v2(Bucket="chat-files").get("KeyCount", 0) == 0:
                break
            time.sleep(0.1)
        assert s3.list_objects_v2(Bucket="chat-files").get("KeyCount", 0) == 0
