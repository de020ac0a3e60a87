"""The plugin surface: the plugins of plugins/ (the built-in ones and the example) import
from the core only what chat.plugin_api offers, so that module is the whole contract
(docs/plugins.md)."""

import ast
from pathlib import Path

import chat.plugin_api as plugin_api

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_FILES = sorted((ROOT / "plugins").rglob("*.py"))
# the core, and the transport it owns (plugins reach sockets through socket_event/publish)
CORE = ("chat", "flask_socketio", "socketio", "engineio")


def _core_imports(path: Path) -> list[tuple[str, str | None]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.split(".")[0] in CORE]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found += [
                (node.module, a.name) for a in node.names if node.module.split(".")[0] in CORE
            ]
    return found


def test_built_in_plugins_use_only_the_plugin_api():
    assert len(PLUGIN_FILES) > 10
    wrong = [
        f"{path.relative_to(ROOT)}: {module}{'.' + name if name else ''}"
        for path in PLUGIN_FILES
        for module, name in _core_imports(path)
        if module != "chat.plugin_api" or name not in plugin_api.__all__
    ]
    assert wrong == []


def test_the_plugin_api_exports_what_it_names():
    missing = [name for name in plugin_api.__all__ if not hasattr(plugin_api, name)]
    assert missing == []
