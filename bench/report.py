"""Write docs/benchmarks.md (table with ours / Node ratios) and one plot per scenario."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def latest(results: Path) -> dict:
    """The newest result file of each scenario."""
    found = {}
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text())
        found[data["scenario"]] = data
    return found


def ratio(ours, node) -> str:
    return f"{ours / node:.2f}" if ours and node else "n/a"


def fmt(value, digits=1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


COST_ORDER = ("ours", "node", "python floor")


def _cpu(figures: dict | None, rate: str, who: tuple[str, ...]) -> float | None:
    """A cost peer's CPU ms per 1,000 deliveries at `rate`, summed over `who` (server,
    database); None where not measured (the floor has no database)."""
    step = (figures or {}).get("cpuMsPer1000Deliveries", {}).get(rate) or {}
    parts = [step.get(w) for w in who]
    if any(p is None for p in parts):
        return None
    return sum(parts)


def _new_cost(data: dict) -> bool:
    """A cost result with CPU per rate (older runs measured one figure for the run)."""
    return "cost" in data and isinstance(
        data["cost"]["peers"]["ours"].get("cpuMsPer1000Deliveries"), dict
    )


def rows(data: dict) -> list[tuple]:
    """(figure, ours, Node, ours / Node) rows, and the python floor's where measured."""
    out = []
    if "connections" in data:
        c = data["connections"]["peers"]
        for key, label in (
            ("connectsPerSecond", "connects/s"),
            ("rssPer1000Mb", "server MB per 1,000 connections"),
            ("idleCpuPercent", "server CPU % of a core, 10,000 idle sockets (last 30 s held)"),
            ("connected", "connections held"),
            ("dropped", "unexpected drops"),
        ):
            ours, node = c["ours"].get(key), c["node"].get(key)
            floor = c.get("floor", {}).get(key)
            out.append(
                (label, fmt(ours), fmt(node), ratio(ours, node), fmt(floor), ratio(ours, floor))
            )
    if _new_cost(data):
        peers = data["cost"]["peers"]
        for rate in peers["ours"]["cpuMsPer1000Deliveries"]:
            for who, label in (
                (("server",), f"server CPU ms per 1,000 deliveries at {rate} sends/s (cost)"),
                (("server", "database"), f"server + database CPU ms, the same, at {rate} sends/s"),
            ):
                ours, node, floor = (_cpu(peers.get(p), rate, who) for p in COST_ORDER)
                out.append(
                    (label, fmt(ours), fmt(node), ratio(ours, node), fmt(floor), ratio(ours, floor))
                )
    if "rooms" in data:
        r = data["rooms"]["peers"]
        ours, node = (
            r["ours"]["sustainedDeliveriesPerSecond"],
            r["node"]["sustainedDeliveriesPerSecond"],
        )
        out.append(
            ("rooms: deliveries/s at p99 <= 100 ms", fmt(ours), fmt(node), ratio(ours, node))
        )
        o = _at(r["ours"]["steps"], 1000)
        n = _at(r["node"]["steps"], 1000)
        acked = [s and s["acked"] / max(s["sent"], 1) for s in (o, n)]
        out.append(
            (
                "rooms: share of sends acked at ~1,000 sends/s (latencies below are theirs)",
                fmt(acked[0], 2),
                fmt(acked[1], 2),
                ratio(*acked),
            )
        )
        for q in ("p50", "p99", "p999", "mean"):
            out.append(
                (
                    f"rooms: {q} ms at ~1,000 sends/s",
                    fmt(o and o[q]),
                    fmt(n and n[q]),
                    ratio(o and o[q], n and n[q]),
                )
            )
    if "bigroom" in data:
        b = data["bigroom"]["peers"]
        for step_o, step_n in zip(b["ours"]["steps"], b["node"]["steps"], strict=False):
            out.append(
                (
                    f"big room: p99 ms at {step_o['offered']} sends/s",
                    fmt(step_o["p99"]),
                    fmt(step_n["p99"]),
                    ratio(step_o["p99"], step_n["p99"]),
                )
            )
    if "persistence" in data and "rooms" in data:
        p = data["persistence"]["peers"]
        alone = p["database alone"]["sendsPerSecond"]
        r = data["rooms"]["peers"]
        ours = r["ours"]["sustainedDeliveriesPerSecond"] / RECEIVERS
        node = r["node"]["sustainedDeliveriesPerSecond"] / RECEIVERS
        bare = p["node without database"]["sustainedDeliveriesPerSecond"]
        out += [
            (
                "persistence: database alone, sends/s (best of 1 and 8 clients)",
                fmt(alone),
                fmt(alone),
                "n/a",
            ),
            *[
                (
                    "persistence: database alone on SecantusDB's Python server, sends/s",
                    fmt(p[key]["sendsPerSecond"]),
                    fmt(p[key]["sendsPerSecond"]),
                    "n/a",
                )
                for key in ("database alone, Python server",)
                if key in p
            ],
            (
                "persistence: stored sends/s at p99 <= 100 ms",
                fmt(ours),
                fmt(node),
                ratio(ours, node),
            ),
            (
                "persistence: those sends / the database alone",
                fmt(ours / alone, 2),
                fmt(node / alone, 2),
                ratio(ours, node),
            ),
            (
                "persistence: Node without its database, deliveries/s at p99 <= 100 ms",
                "n/a",
                fmt(bare),
                "n/a",
            ),
        ]
    return out


RECEIVERS = 9  # each rooms-scenario message reaches the room's 9 other members


SCALE_PEERS = ("1 process", "2 processes + Redis", "2 processes + RabbitMQ")


def rooms_steps(run: dict) -> list[str]:
    """Each peer's rooms steps side by side: latency, and CPU per 1,000 deliveries
    (server + database) where the run measured it."""
    peers = run["peers"]
    rates = sorted({s["offered"] for f in peers.values() for s in f["steps"]})
    out = [
        "## Rooms of 10, step by step",
        "",
        "The rooms scenario's steps (1,000 rooms of 10, 10 s a rate; a peer stops after",
        "its first step over 100 ms, then runs the highest rate). CPU is ms per 1,000",
        f"deliveries in that step, server + database. Run: {run['date']}.",
        "",
        "| sends/s | " + " | ".join(f"{p}: p50 / p99 ms | {p}: CPU" for p in peers) + " |",
        "|---|" + "---|---|" * len(peers),
    ]
    for rate in rates:
        cells = []
        for f in peers.values():
            step = _at_rate(f["steps"], rate)
            cpu = (step or {}).get("cpuMsPer1000Deliveries") or {}
            cells += [
                f"{fmt(step['p50'])} / {fmt(step['p99'])}" if step else "-",
                f"{cpu.get('server', 0):.0f} + {cpu.get('database', 0):.0f}" if cpu else "-",
            ]
        out.append(f"| {rate} | " + " | ".join(cells) + " |")
    return out


def scaleout_rows(data: dict) -> tuple[list[str], list[list[str]]]:
    """The scale-out table: its header and rows, a column per peer (runs before RabbitMQ
    have two), then each two-process peer against one process."""
    peers = data["scaleout"]["peers"]
    labels = [label for label in SCALE_PEERS if label in peers]
    runs = [peers[label] for label in labels]
    header = ["figure", *labels, *(f"{label.split(' + ')[1]} / 1" for label in labels[1:])]
    out = []

    def row(name: str, values: list, digits: int = 1) -> None:
        ratios = [ratio(v, values[0]) for v in values[1:]]
        out.append([name, *(fmt(v, digits) for v in values), *ratios])

    row("deliveries/s at p99 <= 100 ms", [r.get("sustainedDeliveriesPerSecond") for r in runs])
    row("CPU ms per delivery (all server processes)", [r["cpuMsPerDelivery"] for r in runs], 3)
    for rate in sorted({s["offered"] for r in runs for s in r["steps"]}):
        steps = [_at_rate(r["steps"], rate) for r in runs]  # a peer may have skipped it
        for q in ("p50", "p99"):
            row(f"{q} ms at {rate} sends/s", [s[q] if s else None for s in steps])
    return header, out


def _at_rate(steps: list[dict], rate: int) -> dict | None:
    return next((s for s in steps if s["offered"] == rate), None)


def _at(steps: list[dict], rate: int):
    return next((s for s in steps if s["offered"] >= rate), None)


def plot(data: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    for scenario in ("rooms", "bigroom", "scaleout"):
        if scenario not in data:
            continue
        fig, ax = plt.subplots(figsize=(7, 4))
        peers = dict(data[scenario]["peers"])
        if scenario == "rooms" and "persistence" in data:
            extra = data["persistence"]["peers"]["node without database"]
            peers["node without database"] = extra
        for peer, figures in peers.items():
            steps = [s for s in figures.get("steps", []) if s["p99"] is not None]
            ax.plot(
                [s["offered"] for s in steps],
                [s["p99"] for s in steps],
                marker="o",
                label=f"{peer} p99",
            )
            ax.plot(
                [s["offered"] for s in steps],
                [s["p50"] for s in steps],
                linestyle="--",
                label=f"{peer} p50",
            )
        ax.set_xlabel("offered sends/s")
        ax.set_ylabel("delivery latency, ms")
        ax.set_yscale("log")
        ax.set_title(f"{scenario}: latency against offered load")
        ax.legend()
        name = f"benchmarks-{scenario}.png"
        fig.savefig(DOCS / name, dpi=100, bbox_inches="tight")
        plt.close(fig)
        names.append(name)
    return names


def write(results: Path) -> None:
    data = latest(results)
    any_run = next(iter(data.values()))
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (bench/run.py, about 40 minutes); raw figures in",
        "`bench/results/`. Every peer ran in the same run on the same machine, against the",
        "same database server, driven by one Node load generator using the official",
        "socket.io-client (bench/load/generator.mjs). **Ours** is the product as shipped",
        "(gunicorn + gevent, production config, default plugins, every message stored",
        "before its ack); **Node** is a minimal Socket.IO 4 server (bench/peers/node) that",
        "also stores each message before acking; the **ceiling** is a raw `ws` broadcast",
        "(bench/peers/ceiling). Ratios are ours / Node: above 1 is better for rates, below",
        "1 is better for latency and memory.",
        "",
        "Run: {date}; {cpus} CPUs, Python {python}, Node {node}; database: {db}. Server,".format(
            date=any_run["date"], db=any_run.get("database", "SecantusDB"), **any_run["machine"]
        ),
        "database and generator share the machine's 2 cores. `make bench` runs on",
        "SecantusDB's Rust server (within ~1-2x of mongod per operation; its Python server,",
        "`make run`'s, is 4-17x) when it builds, and says which one it used above; set",
        "`MONGODB_URI` to run everything against a real MongoDB.",
        "",
        "The python floor (bench/peers/floor) is bare python-socketio on gevent under the",
        "same gunicorn configuration, with no storage, auth or plugins: the framework's",
        "own cost, measured where it compares (it stores nothing).",
        "",
        "| figure | ours | Node | ours / Node | python floor | ours / floor |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join((*row, "n/a", "n/a")[:6]) + " |" for row in rows(data)]
    if "bigroom" in data and "ceiling" in data["bigroom"]["peers"]:
        steps = data["bigroom"]["peers"]["ceiling"]["steps"]
        lines += [
            "",
            "Ceiling (raw `ws` broadcast to the same 1,000 clients, no storage): p99 "
            + ", ".join(f"{fmt(s['p99'])} ms at {s['offered']}/s" for s in steps)
            + ".",
        ]
    if "rooms" in data:
        lines += ["", *rooms_steps(data["rooms"])]
    if "scaleout" in data:
        lines += [
            "",
            "## Scale-out: ours on 2 processes + Redis or RabbitMQ against 1 process",
            "",
            "The same 200 rooms of 10 (every room has members on both processes), the rate",
            "stepped up until p99 passes 100 ms; one process per core (the machine has 2),",
            "the Node load generator and the database on the same cores. The second process",
            "adds a core, the message queue (Redis pub/sub, or a RabbitMQ fanout exchange",
            "through kombu) and shared presence (Redis in both). CPU per delivery counts",
            "the server processes only, not Redis or RabbitMQ themselves.",
            f"Run: {data['scaleout']['date']}.",
            "",
        ]
        header, table = scaleout_rows(data)
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in table]
    if _new_cost(data):
        peers = data["cost"]["peers"]
        rates = list(peers["ours"]["cpuMsPer1000Deliveries"])
        lines += [
            "",
            "## Cost: CPU per 1,000 deliveries",
            "",
            "The same 200 rooms of 10 at fixed rates for each peer, 10 s a rate. Ours and",
            "Node store every message before acking, in the same database server; the python",
            "floor (bench/peers/floor: bare python-socketio on gevent under the product's",
            "gunicorn configuration, no storage, auth or plugins) is what the framework",
            "itself costs. Each rate's CPU is its own (from its first send to a second after",
            "its last; connecting and joining are not in it), of the server's process and of",
            f"the database server's. Run: {data['cost']['date']}.",
            "",
            "| peer | "
            + " | ".join(f"{r}/s: server | {r}/s: + database | ours / peer" for r in rates)
            + " |",
            "|---|" + "---|---|---|" * len(rates),
        ]
        for name in COST_ORDER:
            if name not in peers:
                continue
            cells = []
            for r in rates:
                server = _cpu(peers[name], r, ("server",))
                both = _cpu(peers[name], r, ("server", "database"))
                ours = _cpu(peers["ours"], r, ("server",))
                cells += [fmt(server), fmt(both), ratio(ours, server)]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if "profile" in data:
        ours = data["profile"]["peers"]["ours"]
        total = ours["cpuMsPer1000Deliveries"]
        lines += [
            "",
            "## Where our CPU goes",
            "",
            "The cost scenario's load on ours again, sampled by py-spy from outside the",
            "process (bench/profile.py: each sample goes to the first category its stack",
            f"shows). {total:.0f} ms CPU per 1,000 deliveries in this pass, "
            f"{ours.get('samples', 0)} samples. Run: {data['profile']['date']}.",
            "",
            "| category | share of samples | ms per 1,000 deliveries |",
            "|---|---|---|",
        ]
        if "error" in ours:
            lines.append(f"| py-spy failed: {ours['error']} | | |")
        lines += [
            f"| {name} | {share:.1%} | {share * total:.0f} |"
            for name, share in ours.get("shares", {}).items()
        ]
    if "sync" in data:
        f = data["sync"]["peers"]["ours"]
        lines += [
            "",
            "## Sync: catching up after being offline",
            "",
            f"One client offline while four others make {f['requestsMade']:,} requests in its",
            f"{f['rooms']} rooms (new messages, edits, reactions, pins, deletes: "
            f"{f['changesMade']:,} changes",
            "recorded), then `sync_all` over its socket, 500 changes a call, until it is up",
            "to date. No peer has this: it is the exactly-once promise, measured. Run:",
            f"{data['sync']['date']}.",
            "",
            "| figure | ours |",
            "|---|---|",
            f"| changes received | {f['changesReceived']:,} |",
            f"| duplicates / missing | {f['duplicates']} / {f['missing']} |",
            f"| `sync_all` calls | {f['requests']} |",
            f"| time to catch up | {f['catchUpSeconds']:.2f} s |",
            f"| changes per second | {f['changesPerSecond']:,} |",
        ]
    if "search" in data:
        f = data["search"]["peers"]["ours"]
        lines += [
            "",
            "## Search",
            "",
            f"{f['messages']:,} messages in {f['rooms']:,} rooms, the searching user a member of",
            "all of them; words drawn from a Zipf-like vocabulary of 5,000, so a common word",
            "matches thousands and a rare one a few. Each kind is 200 queries over REST",
            "(`GET /api/search/messages`, 20 a page), without and with a room filter, over",
            "two histories: the messages written over 30 days, and (`burst`) written as fast",
            "as the database takes them (~20 s: a one-second window of `_id`s holds ~5,000).",
            "A window is one second at least (`_id`s count seconds), and SecantusDB gathers",
            "every index entry of a window before it sorts and stops at the page (and, the",
            "index being multikey, every entry after the window's start, not only those",
            "before its end): in `burst` a common word (or a common beginning, `w1*`) costs",
            "the thousands of entries its newest second holds (MongoDB walks the index in",
            "`_id` order and stops at the page).",
            f"Target: p95 <= 50 ms. Run: {data['search']['date']}.",
            "",
            "| query | p50 ms | p95 ms |",
            "|---|---|---|",
        ]
        lines += [
            f"| {name} | {fmt(v['p50'])} | {fmt(v['p95'])} |"
            for name, v in f.items()
            if isinstance(v, dict)
        ]
    generator = [
        f"{scenario}/{peer}: {max([s.get('generatorCpu', 0) for s in f.get('steps', [f])]):.0%}"
        for scenario, d in data.items()
        for peer, f in d["peers"].items()
        if "steps" in f or "generatorCpu" in f
    ]
    lines += [
        "",
        "Generator CPU (share of one core; above ~70% the figure is a floor): "
        + ", ".join(generator),
        "",
    ]
    for name in plot(data):
        lines.append(f"![{name}]({name})")
    (DOCS / "benchmarks.md").write_text("\n".join(lines) + "\n")
