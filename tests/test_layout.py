"""The README's layout section is the tree: every folder and Python file at the top
level is described there, and everything it names exists (docs/architecture.md)."""

import re
import subprocess

from devtools.servers import ROOT

# Files at the top level that the project's own conventions explain (packaging, the
# README itself, licences, tool configuration), not the layout.
CONVENTIONAL = re.compile(
    r"^(\..*|[A-Z]+(\.md)?|Makefile|Dockerfile|docker-compose\.yml|pyproject\.toml"
    r"|package(-lock)?\.json|requirements.*)$"
)


def _layout() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```")[1]


def test_the_readme_layout_names_every_top_level_place_and_only_real_ones():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {path.split("/")[0] for path in tracked} - {"README.md"}
    places = {name for name in top if not CONVENTIONAL.match(name)}
    named = set()
    for line in _layout().splitlines():
        if line and not line.startswith(" "):
            head = line.split("  ")[0]
            named |= {part.strip().rstrip("/") for part in head.split(",")}
    assert places <= named, f"not in the README's layout: {sorted(places - named)}"
    assert all((ROOT / name).exists() for name in named), sorted(named)
    for card in ("chat", "plugins", "migrations", "tests", "wsgi.py", "config.py",
                 "requirements.txt", "Procfile"):  # fmt: skip
        assert card in named and (ROOT / card).exists(), card
