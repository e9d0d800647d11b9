"""benchmarks/upstream.py's arithmetic and its upstream copy of a local page.

The benchmark itself (gunicorn, an upstream on loopback) is not part of the test run; this
keeps its imports and its verdict from rotting.
"""

from __future__ import annotations

from tests.functional.test_seed_benchmark import _benchmark_module


def run(ratio: float, burst_requests: int) -> dict:
    warm = {"p50_ms": 2.0}
    row = {"local-ccxt": warm, "upstr-ccxt": {"p50_ms": 2.0 * ratio}, "p50_ratio": ratio, "p90_ratio": ratio}
    burst = {"upstream_requests": burst_requests, "ok": 50, "slowest_ms": 90.0}
    return {
        "warm": {"JSON": row, "HTML": row},
        "first_ms": {"small": 5.0, "ccxt-shaped": 300.0},
        "burst": {"small": burst, "ccxt-shaped": burst},
    }


def test_targets_take_the_median_ratio_and_the_worst_burst():
    upstream = _benchmark_module("upstream")
    assert all(met for _, _, met in upstream.verdicts([run(1.2, 1), run(1.8, 1), run(1.4, 1)]))
    verdicts = upstream.verdicts([run(1.2, 1), run(1.2, 2), run(1.2, 1)])
    assert [met for _, _, met in verdicts] == [True, True, False, False]


def test_the_upstream_copy_has_the_local_files_renamed():
    upstream = _benchmark_module("upstream")
    local_page = {
        "name": "local-ccxt",
        "versions": ["1.0"],
        "files": [
            {"filename": "local_ccxt-1.0-py3-none-any.whl", "size": 321, "core-metadata": {"sha256": "0" * 64},
             "requires-python": ">=3.8", "yanked": "broken", "upload-time": "2025-01-01T00:00:00Z"},
        ],
    }  # fmt: skip
    project = upstream.copy_of(local_page, "upstr-ccxt", pad=True)
    (file,) = project.files
    assert (project.name, project.versions) == ("upstr-ccxt", ["1.0"])
    assert (file.filename, len(file.data), file.requires_python) == ("upstr_ccxt-1.0-py3-none-any.whl", 321, ">=3.8")
    assert (file.yanked, file.upload_time, file.metadata is not None) == ("broken", "2025-01-01T00:00:00Z", True)
