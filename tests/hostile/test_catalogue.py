"""The catalogue is well formed, and docs/reliability.md shows what it holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.hostile import catalogue, report

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def test_kinds_and_inputs_are_named_once():
    names = [kind.name for kind in catalogue.KINDS]
    assert len(names) == len(set(names))
    for kind in catalogue.KINDS:
        ids = [case.id for case in kind.cases]
        assert len(ids) == len(set(ids)), kind.name
        assert kind.count > 0, kind.name
        assert kind.category in catalogue.CATEGORIES, kind.name
        assert bool(kind.generated) == bool(kind.property_test), kind.name
        assert all(400 <= case.status < 500 for case in kind.cases), kind.name
    assert {kind.category for kind in catalogue.KINDS} == set(catalogue.CATEGORIES)


def test_the_documented_table_is_the_catalogues():
    """Rerun scripts/reliability-inputs --write docs/reliability.md after changing the catalogue."""
    text = DOC.read_text()
    block = text.split(report.START, 1)[1].split(report.END, 1)[0]
    assert block.strip() == report.table().strip()


def _junit(tmp_path, cases: dict[str, str]) -> Path:
    rows = []
    for name, outcome in cases.items():
        inner = {"passed": "", "failed": "<failure message='x'/>", "skipped": "<skipped/>"}[outcome]
        rows.append(f'<testcase classname="tests.hostile.t" name="{name}">{inner}</testcase>')
    path = tmp_path / "run.xml"
    path.write_text(f"<testsuites><testsuite>{''.join(rows)}</testsuite></testsuites>")
    return path


def test_the_report_reads_each_kinds_outcome(tmp_path):
    junit = _junit(
        tmp_path,
        {
            "test_refused_and_nothing_kept[missing-field/action]": "passed",
            "test_refused_and_nothing_kept[missing-field/name]": "failed",
            "test_upload_refuses_hostile_credentials[bad-token/sql]": "passed",
            "test_any_filename": "passed",
            "test_something_else": "failed",
        },
    )
    results = report.outcomes(junit)
    assert results["missing-field"] == Counter(passed=1, failed=1)
    assert results["bad-token"] == Counter(passed=1)
    assert results["fuzzed-filename"] == Counter(passed=1)
    assert results["zip-bomb-ratio"] == Counter()
    table = report.table(results)
    assert "| `missing-field` | A field the upload needs is left out. | 8 | **1 of 2 tests failed** |" in table
    (zip_bomb_row,) = [line for line in table.splitlines() if "| `zip-bomb-ratio` |" in line]
    assert zip_bomb_row.endswith("| not run | unknown |")
