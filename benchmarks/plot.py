"""Draw the suite's plots from results.json, ours and the peers:

- ``scaling``: latency against releases (the default);
- ``uploads``: the time of each upload against the files the project already held.

Run with the peers' Python (it has matplotlib; the index's .venv does not):

    benchmarks/.peers/venv/bin/python benchmarks/plot.py benchmarks/out/results.json docs/benchmark-scaling.png
    benchmarks/.peers/venv/bin/python benchmarks/plot.py benchmarks/out/results.json docs/benchmark-uploads.png uploads
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"ours": "#1b7837", "pypiserver": "#b2182b", "devpi": "#2166ac"}
PARTS = (("page", "Big-project simple page (HTML)"), ("legacy", "Legacy JSON (or nearest equivalent)"))


def main(source: Path, target: Path, kind: str = "scaling") -> None:
    results = json.loads(source.read_text())
    if kind == "uploads":
        uploads(results, target)
    else:
        scaling(results, target)


def _rolling_median(values: list[float], window: int) -> list[float]:
    half = window // 2
    return [statistics.median(values[max(0, i - half) : i + half + 1]) for i in range(len(values))]


def uploads(results: dict, target: Path) -> None:
    meta = results["meta"]
    settings = meta["settings"]
    modes = (("sequential", "one client"), ("parallel", f"{settings.get('upload_clients', '?')} clients at a time"))
    figure, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for axis, (mode, title) in zip(axes, modes, strict=True):
        for server, record in results["servers"].items():
            run = (record.get("uploads") or {}).get(mode)
            if not isinstance(run, dict) or not run.get("per_upload"):
                continue
            points = sorted(run["per_upload"])
            files = [before for before, _ in points]
            times = [ms for _, ms in points]
            colour = COLOURS.get(server, "grey")
            axis.plot(files, times, ".", color=colour, alpha=0.25, markersize=3)
            label = f"{server}: {run['files_per_second']:.1f} files/s"
            axis.plot(files, _rolling_median(times, 9), "-", color=colour, label=label)
        axis.set_yscale("log")
        axis.set_xlabel("files the project already held (a wheel and an sdist per version)")
        axis.set_title(f"Upload time as the project grows, {title}")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8, loc="upper left")
    axes[0].set_ylabel("milliseconds per upload (log; line: median of 9)")
    note = f" — {meta['note']}" if meta.get("note") else ""
    figure.suptitle(
        f"{settings.get('upload_versions', '?')} versions uploaded to a new project, {meta['date']}, "
        f"{meta['cores']} cores, {meta['database']}{note}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(target, dpi=110)


def scaling(results: dict, target: Path) -> None:
    meta = results["meta"]
    figure, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for axis, (part, title) in zip(axes, PARTS, strict=True):
        for server, record in results["servers"].items():
            scaling = {int(size): value for size, value in record.get("scaling", {}).items()}
            if not scaling:
                continue
            sizes = sorted(scaling)
            colour = COLOURS.get(server, "grey")
            warm = [scaling[size][part]["warm_p50"] for size in sizes]
            cold = [scaling[size][part]["cold_median"] for size in sizes]
            axis.plot(sizes, warm, "o-", color=colour, label=f"{server}, warm (p50)")
            axis.plot(sizes, cold, "s--", color=colour, alpha=0.7, label=f"{server}, first after a change")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("releases (two files each)")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("milliseconds (log)")
    axes[1].legend(fontsize=8, loc="upper left")
    note = f" — {meta['note']}" if meta.get("note") else ""
    figure.suptitle(
        f"Latency against releases, {meta['date']}, {meta['cores']} cores, {meta['database']}{note}", fontsize=10
    )
    figure.tight_layout()
    figure.savefig(target, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:4])
