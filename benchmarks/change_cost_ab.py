"""``python benchmarks/change_cost_ab.py --baseline DIR``: ``change_cost.py`` for two trees of the index, alternately.

    .venv/bin/python benchmarks/change_cost_ab.py --baseline ../main [--project ccxt] [--rounds 4] [--changes 5]

Compares this tree's code with another's (a checkout of main, say) on the same seeded
data (``DATABASE_URL``, ``INDEX_DATA_DIR``: ``benchmarks/seed.py`` first): each round runs
this tree's ``change_cost.py`` once in each tree's code, in turn (the order swapped every
round), so that the machine's load falls on both alike. Each tree keeps its pages in a
page store of its own (``PAGE_STORE_DIR`` under ``--store-root``): their kept states differ
in form, and a page one stored must not be a hit for the other. Every change is made to the
same project, so both see it grow alike.

Prints the medians of every first request after a change (``incremental``: the index as
each tree ships it; ``full``: every row read and rendered, the same in both), in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "change_cost.py"
# Runs SCRIPT with TREE's code: its benchmarks/_django.py puts TREE on sys.path.
RUNNER = (
    "import runpy, sys; tree = sys.argv[1]; sys.path[:0] = [tree + '/benchmarks', tree]; "
    "sys.argv = [sys.argv[2], *sys.argv[3:]]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def run(tree: Path, label: str, args: argparse.Namespace, store_root: Path, output: Path) -> dict:
    environment = dict(os.environ, PAGE_STORE_DIR=str(store_root / label))
    command = [sys.executable, "-c", RUNNER, str(tree), str(SCRIPT)]
    command += ["--project", args.project, "--changes", str(args.changes), "--samples", str(output)]
    subprocess.run(command, check=True, env=environment, cwd=tree, stdout=subprocess.DEVNULL)  # noqa: S603 - our own script
    return json.loads(output.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, type=Path, help="the other tree (a checkout of main)")
    parser.add_argument("--project", default="ccxt")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--changes", type=int, default=5, help="changes per way per run (default 5)")
    parser.add_argument("--store-root", type=Path, help="where each tree's page store goes (default: a temporary one)")
    args = parser.parse_args()
    trees = {"baseline": args.baseline.resolve(), "this tree": HERE.parent}
    samples: dict[str, dict[str, dict[str, list[float]]]] = {label: {} for label in trees}
    with tempfile.TemporaryDirectory() as scratch:
        store_root = args.store_root or Path(scratch)
        for number in range(args.rounds):
            order = list(trees) if number % 2 == 0 else list(reversed(trees))
            for label in order:
                result = run(trees[label], label.replace(" ", "-"), args, store_root, Path(scratch) / "samples.json")
                for way, pages in result.items():
                    for page, timings in pages.items():
                        samples[label].setdefault(way, {}).setdefault(page, []).extend(timings)
                print(f"round {number + 1}: {label}", file=sys.stderr)
    count = len(samples["this tree"]["incremental"]["project, HTML"])
    print(f"First request after a change, gzip, {args.project}: medians of {count} changes per way and tree (ms)")
    print()
    print("| page | full build | baseline, incremental | this tree, incremental | ratio |")
    print("|---|---|---|---|---|")
    for page in samples["this tree"]["incremental"]:
        full = statistics.median(samples["baseline"]["full"][page] + samples["this tree"]["full"][page])
        before = statistics.median(samples["baseline"]["incremental"][page])
        after = statistics.median(samples["this tree"]["incremental"][page])
        print(f"| {page} | {full:.1f} | {before:.1f} | {after:.1f} | {before / after:.1f}x |")
    ranges = {
        label: {page: (min(timings), max(timings)) for page, timings in samples[label]["incremental"].items()}
        for label in trees
    }
    print()
    print("Ranges (min-max), incremental: " + json.dumps(ranges))


if __name__ == "__main__":
    main()
