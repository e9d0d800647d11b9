"""benchmarks/private_reads.py's arithmetic: medians over runs, paired ratios, the 1.5x target.

The benchmark itself (two gunicorns, load) is not part of the test run; this keeps its
imports and its verdict from rotting.
"""

from __future__ import annotations

import pytest

from tests.functional.test_seed_benchmark import _benchmark_module


def run(anonymous_ms: float, token_ms: float, anonymous_rps: float, token_rps: float) -> dict:
    def way(ms: float, rps: float) -> dict:
        return {"p50_ms": ms, "p90_ms": ms * 1.5, "rps": rps, "cpu_ms": None, "load_p99_ms": None}

    page = {
        "anonymous": way(anonymous_ms, anonymous_rps),
        "token, public": way(token_ms, token_rps),
        "token, private": way(token_ms, token_rps),
    }
    return {"ccxt JSON": page, "root JSON": page}


def test_ratios_are_paired_within_a_run_then_the_median_is_taken():
    private_reads = _benchmark_module("private_reads")
    # Runs 2 and 3 are slow for every way alike: the paired ratios stay at 1.2 and 0.8.
    runs = [run(2.0, 2.4, 1000, 800), run(4.0, 4.8, 500, 400), run(3.0, 3.6, 600, 480)]

    found = private_reads.summary(runs)

    row = found["ccxt JSON"]["token, private"]
    assert row["p50_ms"] == pytest.approx(3.6)
    assert row["p50_ms_ratio"] == pytest.approx(1.2)
    assert row["rps_ratio"] == pytest.approx(0.8)
    assert row["cpu_ms"] is None
    assert row["cpu_ms_ratio"] is None
    assert "p50_ms_ratio" not in found["ccxt JSON"]["anonymous"]
    assert all(met for _, _, met in private_reads.verdicts(found))
    text = private_reads.render(found, {"date": "today", "runs": 3, "workers": 4, "database": "SQLite",
                                        "requests": 200, "duration": 3.0, "load_tool": "wrk",
                                        "load_before": 0.5, "load_after": 0.7})  # fmt: skip
    assert "| ccxt JSON | token, private | 3.60 | 5.40 | 480 | – | 1.20 | 1.20 | 0.80 |" in text


@pytest.mark.parametrize(("token_ms", "token_rps"), [(1.6, 1000), (1.0, 600)])
def test_a_reader_past_one_and_a_half_times_misses_the_target(token_ms, token_rps):
    private_reads = _benchmark_module("private_reads")

    found = private_reads.summary([run(1.0, token_ms, 1000, token_rps)])

    assert not all(met for _, _, met in private_reads.verdicts(found))
