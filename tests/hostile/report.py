"""The hostile-input table of docs/reliability.md: kinds and counts from the
catalogue, results from a pytest run of tests/hostile.

    python -m tests.hostile.report                  # run tests/hostile, print the table
    python -m tests.hostile.report --junit run.xml  # use a run's JUnit XML instead
    python -m tests.hostile.report --write docs/reliability.md   # and put the table there

``scripts/reliability-inputs`` runs the first (with ``--write``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree  # noqa: S405 - our own pytest run's report, not input from outside
from collections import Counter
from pathlib import Path

from tests.hostile.catalogue import CATEGORIES, KINDS, Kind

ROOT = Path(__file__).resolve().parents[2]
START = "<!-- hostile-inputs:start (python -m tests.hostile.report --write docs/reliability.md) -->"
END = "<!-- hostile-inputs:end -->"
NOTHING_LOST = "nothing"


def run_tests(junit: Path) -> None:
    """Run the hostile-input tests; their outcome is read from the JUnit file, not the exit code."""
    subprocess.run(  # noqa: S603 - this interpreter, running pytest on our own tests
        [sys.executable, "-m", "pytest", "tests/hostile", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=ROOT,
        check=False,
    )


def outcomes(junit: Path) -> dict[str, Counter]:
    """Per kind, how many of its tests passed and failed."""
    tree = ElementTree.parse(junit)  # noqa: S314 - see the import
    results: dict[str, Counter] = {kind.name: Counter() for kind in KINDS}
    by_property = {kind.property_test: kind.name for kind in KINDS if kind.property_test}
    for case in tree.iter("testcase"):
        name = case.get("name", "")
        match = re.search(r"\[([^/\]]+)/", name)
        kind = match.group(1) if match else by_property.get(name)
        if kind not in results:
            continue
        failed = any(child.tag in ("failure", "error") for child in case)
        skipped = any(child.tag == "skipped" for child in case)
        results[kind]["skipped" if skipped else "failed" if failed else "passed"] += 1
    return results


# What the tests of each category assert the index answers.
ANSWERS = {
    "credentials": "401 with the reason, nothing written",
    "api-body": "4xx problem details, no row",
    "xml-rpc": "fault or 413, nothing parsed further",
    "read": "4xx with the reason, nothing logged as an error",
}
UPLOAD_ANSWER = "4xx with the reason, no row, no file"
DRAWN_ANSWER = "never 5xx: 4xx with the reason and nothing kept, or, when valid, kept exactly as sent"


def _result(kind: Kind, counts: Counter | None) -> tuple[str, str]:
    """(what the index answered, what was lost) for one kind."""
    answer = DRAWN_ANSWER if kind.generated else ANSWERS.get(kind.category, UPLOAD_ANSWER)
    if counts is None:
        return answer, NOTHING_LOST
    if not counts["passed"] and not counts["failed"]:
        return "not run", "unknown"
    if counts["failed"]:
        return f"**{counts['failed']} of {counts['passed'] + counts['failed']} tests failed**", "see the failures"
    return answer, NOTHING_LOST


def _inputs(kind: Kind) -> str:
    if kind.generated and kind.cases:
        return f"{len(kind.cases)} + {kind.generated} drawn"
    if kind.generated:
        return f"{kind.generated} drawn"
    return str(len(kind.cases))


def table(results: dict[str, Counter] | None = None) -> str:
    """The markdown table; without results, as a run in which everything passed would print it."""
    lines = [
        "| Category | Kind | What is sent | Inputs | Answer | Lost |",
        "|---|---|---|---:|---|---|",
    ]
    for category, title in CATEGORIES.items():
        for kind in (each for each in KINDS if each.category == category):
            answer, lost = _result(kind, None if results is None else results.get(kind.name))
            lines.append(f"| {title} | `{kind.name}` | {kind.what} | {_inputs(kind)} | {answer} | {lost} |")
    fixed = sum(len(kind.cases) for kind in KINDS)
    drawn = sum(kind.generated for kind in KINDS)
    lines.append(f"| **Total** | **{len(KINDS)} kinds** | | **{fixed} fixed + {drawn} drawn** | | |")
    return "\n".join(lines) + "\n"


def write(doc: Path, text: str) -> None:
    """Replace the table between its markers in ``doc``."""
    content = doc.read_text()
    if START not in content or END not in content:
        raise SystemExit(f"{doc} has no {START} ... {END} block to replace")
    before, rest = content.split(START, 1)
    _old, after = rest.split(END, 1)
    doc.write_text(f"{before}{START}\n{text}{END}{after}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", type=Path, help="JUnit XML of a run of tests/hostile (default: run it now)")
    parser.add_argument("--write", type=Path, help="markdown file whose hostile-inputs block to replace")
    args = parser.parse_args(argv)
    if args.junit is None:
        with tempfile.TemporaryDirectory() as folder:
            junit = Path(folder) / "hostile.xml"
            run_tests(junit)
            results = outcomes(junit)
    else:
        results = outcomes(args.junit)
    text = table(results)
    print(text, end="")
    if args.write is not None:
        write(args.write, text)
    failed = any(counts["failed"] or not counts["passed"] for counts in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
