"""`make test`'s coverage gate: line and branch coverage of what the suite measured
(the package, the entry, the migrations and the plugins, in the test processes and the
servers they started), each printed, and a failure when either is under the floor.

    python -m devtools.coverage_gate [--floor 90]
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from coverage import Coverage

FLOOR = 90.0


def totals() -> dict:
    """The combined data's totals, as coverage's JSON report gives them."""
    cov = Coverage()
    cov.load()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "coverage.json"
        cov.json_report(outfile=str(report))
        return json.loads(report.read_text())["totals"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", type=float, default=FLOOR)
    floor = parser.parse_args(argv).floor
    t = totals()
    line_pct = 100.0 * t["covered_lines"] / max(t["num_statements"], 1)
    branch_pct = 100.0 * t["covered_branches"] / max(t["num_branches"], 1)
    missed_lines = t["num_statements"] - t["covered_lines"]
    missed_branches = t["num_branches"] - t["covered_branches"]
    print(
        f"coverage: lines {line_pct:.1f}% ({missed_lines} missed), "
        f"branches {branch_pct:.1f}% ({missed_branches} missed); floor {floor:.0f}%"
    )
    if min(line_pct, branch_pct) < floor:
        print("coverage is under the floor: `coverage report -m` shows what is missed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
