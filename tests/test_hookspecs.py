"""Meta-tests: every hook is documented in docs/plugins.md and exercised by a test."""

import ast
import inspect
from pathlib import Path

from chat import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = [
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "chat_spec")
]


def _test_functions() -> list[str]:
    """The source of every test function in the suite."""
    sources = []
    for path in (ROOT / "tests").rglob("test_*.py"):
        if path.name == Path(__file__).name:
            continue
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                sources.append(ast.get_source_segment(text, node))
    return sources


def test_there_are_hooks():
    assert len(HOOKS) >= 8


def test_every_hook_has_a_docstring_with_its_arguments():
    for name in HOOKS:
        fn = getattr(hookspecs, name)
        doc = inspect.getdoc(fn) or ""
        assert len(doc) > 40, name
        for arg in inspect.signature(fn).parameters:
            assert arg in doc, f"{name}: argument {arg} is not explained"


def test_every_hook_has_a_section_in_the_plugin_guide():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    missing = [name for name in HOOKS if f"\n### {name}\n" not in guide]
    assert not missing, f"undocumented hooks: {missing}"


def test_every_hook_is_exercised_by_a_test():
    sources = _test_functions()
    untested = [name for name in HOOKS if not any(name in src for src in sources)]
    assert not untested, f"hooks without a test: {untested}"


def test_every_hook_receives_the_app():
    without = [n for n in HOOKS if "app" not in inspect.signature(getattr(hookspecs, n)).parameters]
    assert without == []
