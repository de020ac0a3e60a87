"""Where our server's CPU goes under the cost scenario's load: py-spy samples the
gunicorn worker (200 Hz, from outside the process), and each sample is put in the
first category whose marker its stack holds. `make bench` writes the shares to
bench/results/<date>-profile.json and docs/benchmarks.md.
"""

import collections
import re
import subprocess
import sys
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"

# (category, markers): a sample goes to the first category one of whose markers
# (a "function (file" prefix of a frame) is on its stack.
CATEGORIES = [
    (
        "framework: frames out (inline writes, backed-up writers)",
        ["send (chat/sockets/transport.py", "_write (chat/sockets/transport.py"],
    ),
    ("connect: token, user, rooms, presence", ["connect (chat/sockets/connection.py"]),
    ("send: room read", ["get_member_room (chat/services/rooms.py"]),
    ("send: store (insert, room update)", ["store (chat/store/commit.py", "_commit (chat/"]),
    ("send: wire payload, extend_message", ["message (chat/wire.py"]),
    ("send: broadcast hand-off", ["publish (chat/live/publish.py"]),
    ("send: schema, limits, hooks, models", ["send_message (chat/sockets/messages.py"]),
    ("join_room events", ["join_room (chat/sockets/rooms.py"]),
    ("other events (lean context, metrics)", ["wrapper (chat/sockets/handler.py"]),
    ("upkeep loop (expiry, slow consumers, gc)", ["(chat/live/upkeep.py"]),
    (  # before the handshake: the upgraded websocket is read inside it
        "framework: frames in, event dispatch",
        ["_websocket_handler (chat/sockets/transport.py", "_websocket_handler (engineio/"],
    ),
    ("framework: handshake, upgrade", ["_handle_connect (engineio/"]),
    ("gevent hub (loop, timers, idle)", ["run (gevent/hub.py"]),
]


def record(pid: int, out: Path) -> subprocess.Popen:
    """Start sampling `pid`; stop with finish()."""
    cmd = [str(PY_SPY), "record", "-p", str(pid), "-o", str(out), "-f", "raw", "-r", "200"]
    return subprocess.Popen(
        [*cmd, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def finish(spy: subprocess.Popen, out: Path) -> dict:
    """Stop sampling; the share of samples per category (or the error)."""
    spy.send_signal(2)
    try:
        _, err = spy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
        return {"error": "py-spy did not stop"}
    if not out.exists():
        return {"error": (err or b"py-spy wrote nothing").decode(errors="replace")[-500:]}
    return shares(out.read_text().splitlines())


def _frame(frame: str) -> str:
    """`Class.method (file:line)` -> `method (file:line)`; py-spy shortens the paths."""
    return re.sub(r"^[\w.<>]*?\.(?=[\w<>]+ \()", "", frame.replace("<locals>.", ""))


def category(stack: list[str]) -> str:
    """The first category with a marker on the stack: `(file` markers match any
    function of that file, the others a function by name and file."""
    for name, markers in CATEGORIES:
        for m in markers:
            if any((m in f) if m.startswith("(") else f.startswith(m) for f in stack):
                return name
    return "other"


def shares(lines: list[str]) -> dict:
    counts: collections.Counter = collections.Counter()
    for line in lines:
        stack, _, n = line.rstrip().rpartition(" ")
        if stack and n.isdigit():
            counts[category([_frame(f) for f in stack.split(";")])] += int(n)
    total = sum(counts.values())
    return {
        "samples": total,
        "shares": {k: round(v / total, 4) for k, v in counts.most_common()} if total else {},
    }
