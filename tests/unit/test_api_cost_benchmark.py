"""benchmarks/api_cost.py's arithmetic: medians over runs and the table, old against new.

The benchmark itself (a seeded index, a process per copy of the code) is not part of the test
run; this keeps its imports and its table from rotting.
"""

from __future__ import annotations

from tests.functional.test_seed_benchmark import _benchmark_module


def figures(ms: float) -> dict:
    row = {"p50_ms": ms, "revalidation_p50_ms": ms / 2, "queries": 1, "revalidation_queries": 1}
    rows = {
        name: {**row, "bytes": 100, "gzip": True} for name in ("release page", "release page 2", "release", "project")
    }
    rows["release page"]["built_p50_ms"] = ms * 10
    return rows


def test_medians_over_runs_and_the_table():
    api_cost = _benchmark_module("api_cost")
    runs = [{"old": figures(old), "new": figures(new)} for old, new in ((20, 2), (30, 1), (10, 1.5))]
    results = {"copies": {"old": "/a", "new": "/b"}, "median": {c: api_cost.medians(runs, c) for c in ("old", "new")}}
    assert results["median"]["old"]["release page"]["p50_ms"] == 20
    assert results["median"]["new"]["release page"]["revalidation_p50_ms"] == 0.75
    assert results["median"]["new"]["release page"]["built_p50_ms"] == 15
    table = api_cost.table(results)
    assert "| API release page (100 releases) | 20.00 | 10.00 | 1 / 1 | 1.50 | 0.75 | 1 / 1 | 0.07 | 0.07 |" in table
    assert "old 200.00 ms, new 15.00 ms" in table
