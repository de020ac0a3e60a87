"""Local push services speaking their documented HTTP APIs, for the push tests: a Web
Push service that checks the VAPID signature (RFC 8292) and decrypts each payload with
the subscription's private key (RFC 8291, aes128gcm), FCM HTTP v1 with its OAuth 2
token endpoint (checking the service account's signed assertion), and APNs' HTTP/2
provider API (checking the ES256 provider token). The crypto is real on both sides;
only the remote service is local."""

import base64
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import h2.config
import h2.connection
import h2.events
import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devtools.servers import free_port

ACCESS_TOKEN = "ya29.local-test-token"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 with `handler`, recording what it took."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.received: list = []
        self.errors: list = []
        handler.owner = self  # type: ignore[attr-defined]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    owner: _Server

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def answer(self, status: int, payload: dict | None = None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class WebPushService(_Server):
    """Subscriptions are made here (`subscribe()`: endpoint and keys, the private key
    kept); a push to an endpoint ending in `/gone` answers 410."""

    def __init__(self):
        self.keys: dict[str, tuple] = {}  # endpoint path -> (private key, auth secret)
        super().__init__(_WebPushHandler)

    def subscribe(self, name: str) -> dict:
        private = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        public = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.keys[f"/push/{name}"] = (private, auth)
        return {
            "endpoint": f"{self.base}/push/{name}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(auth)},
        }


class _WebPushHandler(_Handler):
    def do_POST(self):
        body = self.body()
        if self.path.endswith("/gone"):
            return self.answer(410)
        try:
            scheme, params = self.headers["Authorization"].split(" ", 1)
            fields = dict(p.split("=", 1) for p in params.split(","))
            key = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), unb64url(fields["k"])
            )
            claims = jwt.decode(
                fields["t"], key, algorithms=["ES256"], audience=self.owner.base
            )  # checks the signature, `aud` and `exp`
            private, auth = self.owner.keys[self.path]
            plain = http_ece.decrypt(
                body, private_key=private, auth_secret=auth, version="aes128gcm"
            )
            assert scheme == "vapid" and self.headers["Content-Encoding"] == "aes128gcm"
        except Exception as exc:  # anything wrong is the test's failure
            self.owner.errors.append(repr(exc))
            return self.answer(400)
        self.owner.received.append((self.path, claims, json.loads(plain)))
        self.answer(201)


class FcmService(_Server):
    """FCM HTTP v1: `credentials_file()` writes a service account whose `token_uri` is
    here; the token `dead-token` is unregistered (404 UNREGISTERED)."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        super().__init__(_FcmHandler)

    def credentials_file(self, path) -> str:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        account = {
            "type": "service_account",
            "project_id": "chat-test",
            "client_email": "push@chat-test.iam.gserviceaccount.com",
            "private_key": pem,
            "token_uri": f"{self.base}/token",
        }
        path.write_text(json.dumps(account))
        return str(path)


class _FcmHandler(_Handler):
    def do_POST(self):
        body = self.body()
        if self.path == "/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            try:
                claims = jwt.decode(
                    form["assertion"],
                    self.owner.key.public_key(),
                    algorithms=["RS256"],
                    audience=f"{self.owner.base}/token",
                )
                assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
                assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
            except Exception as exc:
                self.owner.errors.append(repr(exc))
                return self.answer(400, {"error": "invalid_grant"})
            return self.answer(200, {"access_token": ACCESS_TOKEN, "expires_in": 3599})
        if self.path != "/v1/projects/chat-test/messages:send":
            return self.answer(404, {"error": {"status": "NOT_FOUND"}})
        if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return self.answer(401, {"error": {"status": "UNAUTHENTICATED"}})
        message = json.loads(body)["message"]
        if message["token"] == "dead-token":
            details = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                        "errorCode": "UNREGISTERED"}]  # fmt: skip
            return self.answer(404, {"error": {"status": "NOT_FOUND", "details": details}})
        self.owner.received.append(message)
        self.answer(200, {"name": "projects/chat-test/messages/1"})


def vapid_private_key() -> str:
    """A VAPID key as an operator configures it (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class ApnsService:
    """APNs' provider API over HTTP/2 (cleartext, prior knowledge: no certificate to
    trust here; the client speaks HTTP/2 only, as to Apple). It checks the ES256
    provider token with the key's public half and the headers APNs requires; the
    device token `dead` answers 410 Unregistered."""

    def __init__(self, team: str = "TEAM123456", key_id: str = "KEY1234567"):
        self.team, self.key_id = team, key_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.received: list = []
        self.errors: list = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def key_file(self, path) -> str:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        return str(path)

    def close(self) -> None:
        self.running = False
        self.listener.close()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        h2conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        h2conn.initiate_connection()
        conn.sendall(h2conn.data_to_send())
        streams: dict[int, dict] = {}
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                for event in h2conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {k.decode(): v.decode() for k, v in event.headers}
                        streams[event.stream_id] = {"headers": headers, "body": b""}
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        h2conn.acknowledge_received_data(len(event.data), event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        status, body = self._answer(streams.pop(event.stream_id))
                        h2conn.send_headers(event.stream_id, [(":status", str(status))])
                        h2conn.send_data(event.stream_id, body, end_stream=True)
                conn.sendall(h2conn.data_to_send())

    def _answer(self, request: dict) -> tuple[int, bytes]:
        headers = request["headers"]
        token = headers[":path"].rsplit("/", 1)[-1]
        try:
            scheme, provider = headers["authorization"].split(" ", 1)
            assert scheme == "bearer" and headers[":method"] == "POST"
            assert jwt.get_unverified_header(provider)["kid"] == self.key_id
            claims = jwt.decode(provider, self.key.public_key(), algorithms=["ES256"])
            assert claims["iss"] == self.team
            assert headers["apns-topic"] == "com.example.chat"
            assert headers["apns-push-type"] == "alert"
        except Exception as exc:
            self.errors.append(repr(exc))
            return 403, json.dumps({"reason": "InvalidProviderToken"}).encode()
        if token == "deaddeaddead":
            return 410, json.dumps({"reason": "Unregistered", "timestamp": 0}).encode()
        self.received.append((token, json.loads(request["body"])))
        return 200, b""
