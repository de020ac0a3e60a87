"""The house's floors: a module never imports one above it (ARCHITECTURE.md). Read from
the source with `ast`, so an import added anywhere in these files is caught."""

import ast
from pathlib import Path

CHAT = Path(__file__).resolve().parent.parent / "chat"
# module or folder -> what it may never import
BELOW = {
    "services": ("chat.api", "chat.sockets"),
    "live": ("chat.api", "chat.sockets", "chat.services"),
    "extensions.py": ("chat.api", "chat.sockets", "chat.services"),
    "security.py": ("chat.api", "chat.sockets", "chat.services"),
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
