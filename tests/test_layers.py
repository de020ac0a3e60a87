"""The house's floors: a module never imports one above it (docs/architecture.md). Read from
the source with `ast`, so an import added anywhere in these files is caught."""

import ast
from pathlib import Path

CHAT = Path(__file__).resolve().parent.parent / "chat"
TRANSPORT = ("flask_socketio", "socketio", "engineio", "chat.extensions.socketio")
# module or folder -> what it may never import
BELOW = {
    # the domain knows nothing of the transport: not the socket handlers, not Socket.IO
    "services": ("chat.api", "chat.sockets", *TRANSPORT),
    "live": ("chat.api", "chat.sockets", "chat.services"),
    # storage, under the services: how things are kept, not who may do what
    "store": ("chat.api", "chat.sockets", "chat.services", "chat.live", *TRANSPORT),
    "extensions.py": ("chat.api", "chat.sockets", "chat.services"),
    "security.py": ("chat.api", "chat.sockets", "chat.services"),
    "wire.py": ("chat.api", "chat.sockets", "chat.services", "chat.live"),
    "models": ("chat.api", "chat.sockets", "chat.services", "chat.live"),
    "schemas": ("chat.api", "chat.sockets", "chat.services", "chat.live"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_imports_a_floor_above_it():
    wrong = []
    for place, forbidden in BELOW.items():
        target = CHAT / place
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        assert files, f"{place} is gone: update BELOW"
        for path in files:
            for name in sorted(_imports(path)):
                if name.startswith(forbidden):
                    wrong.append(f"{path.relative_to(CHAT.parent)} imports {name}")
    assert wrong == []


def _module(path: Path) -> str:
    parts = path.relative_to(CHAT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _all_imports(path: Path, package: str) -> set[str]:
    """Every import of the module, those inside functions too (an import put off to a
    call is still a dependency), but not those only for type checkers."""
    names = set()
    nodes = list(ast.parse(path.read_text()).body)
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            nodes += node.orelse
        elif not isinstance(node, ast.Import | ast.ImportFrom):
            nodes += [n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt)]
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names |= {f"{base}.{alias.name}" for alias in node.names} | {base}
    return names


def test_no_import_cycles():
    """No two modules of the package import each other, directly or round a circle,
    counting imports inside functions (a late import only hides a circle)."""
    files = {_module(p): p for p in CHAT.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = _all_imports(path, package)
        # `from package import module` depends on the module, not on the package
        found -= {m.rpartition(".")[0] for m in found if m in files}
        graph[name] = {m for m in found if m in files and m != name}
    cycles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert len(graph) > 60
    assert cycles == []
