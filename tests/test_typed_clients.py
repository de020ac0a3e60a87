"""Typed clients from the committed OpenAPI document: the TypeScript types are what
openapi-typescript makes of docs/openapi.json, a wrong call does not compile, and the
example clients (openapi-fetch; a package openapi-python-client generates) work
against a live server started as shipped."""

import json
import os
import subprocess
import sys
from pathlib import Path

from devtools.servers import ROOT

CLIENT = ROOT / "clients" / "typescript"
BIN = ROOT / "node_modules" / ".bin"


def _run(*argv, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _compile(tmp_path: Path, *sources: Path) -> subprocess.CompletedProcess:
    """tsc with the client's settings, into tmp_path/build (which finds the packages
    through a link to the checkout's node_modules)."""
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    (tmp_path / "package.json").write_text('{"type": "module"}')
    for source in sources:
        (tmp_path / source.name).write_text(source.read_text())
    (tmp_path / "schema.d.ts").write_text((CLIENT / "schema.d.ts").read_text())
    config = json.loads((CLIENT / "tsconfig.json").read_text())
    config["files"] = [s.name for s in sources]
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    return _run(BIN / "tsc", "-p", tmp_path, cwd=tmp_path)


def test_types_are_what_the_committed_document_says(tmp_path):
    out = tmp_path / "schema.d.ts"
    flags = ("--default-non-nullable", "false")  # a default makes a field optional to send
    made = _run(BIN / "openapi-typescript", "docs/openapi.json", *flags, "-o", out)
    assert made.returncode == 0, made.stderr
    assert out.read_text() == (CLIENT / "schema.d.ts").read_text(), "run `npm run client:types`"


def test_a_call_the_document_does_not_allow_does_not_compile(tmp_path):
    wrong = tmp_path / "src" / "wrong.ts"
    wrong.parent.mkdir()
    wrong.write_text(
        'import createClient from "openapi-fetch";\n'
        'import type { paths } from "./schema.js";\n'
        'const chat = createClient<paths>({ baseUrl: "http://127.0.0.1" });\n'
        'await chat.POST("/api/messages", { body: { content: "no room" } });\n'
        'await chat.POST("/api/messages", { body: { roomId: "r", content: 1 } });\n'
        'await chat.GET("/api/nowhere", {});\n'
    )
    compiled = _compile(tmp_path, wrong)
    errors = compiled.stdout.splitlines()
    assert [e.split(":")[0] for e in errors if "error TS" in e] == [
        "wrong.ts(4,36)",  # roomId is required
        "wrong.ts(5,57)",  # content is a string
        "wrong.ts(6,16)",  # no such path
    ], compiled.stdout
    assert "Property 'roomId' is missing" in compiled.stdout


def test_the_typed_client_talks_to_a_live_server(live, tmp_path):
    compiled = _compile(tmp_path, CLIENT / "example.ts")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    env = {**os.environ, "CHAT_URL": live}
    ran = _run("node", tmp_path / "build" / "example.js", env=env)
    assert ran.returncode == 0, ran.stderr
    _check(json.loads(ran.stdout.strip().splitlines()[-1]), "hello from TypeScript")


def _check(result: dict, said: str) -> None:
    """Sent once though retried, read back, found by search, a bad send refused."""
    assert result["sent"] == 201 and result["retried"] == 200 and result["sameMessage"]
    assert result["history"] == [said]
    assert result["room"] in result["found"]
    assert result["refused"] == 422


def test_the_generated_python_client_talks_to_a_live_server(live, tmp_path):
    """The same with Python: openapi-python-client generates `chat_client` from the
    committed document, and clients/python/example.py uses it."""
    config = ROOT / "clients" / "python" / "config.yaml"
    generator = Path(sys.executable).with_name("openapi-python-client")
    made = _run(generator, "generate", "--path", "docs/openapi.json", "--config", config,
                "--output-path", tmp_path / "chat-client")  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    env = {**os.environ, "CHAT_URL": live, "PYTHONPATH": str(tmp_path / "chat-client")}
    ran = _run(sys.executable, ROOT / "clients" / "python" / "example.py", env=env)
    assert ran.returncode == 0, ran.stderr
    _check(json.loads(ran.stdout.strip().splitlines()[-1]), "hello from Python")
