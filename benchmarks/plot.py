"""Draw the scaling plot from results.json: latency against releases, ours and the peers.

Run with the peers' Python (it has matplotlib; the index's .venv does not):

    benchmarks/.peers/venv/bin/python benchmarks/plot.py benchmarks/out/results.json docs/benchmark-scaling.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"ours": "#1b7837", "pypiserver": "#b2182b", "devpi": "#2166ac"}
PARTS = (("page", "Big-project simple page (HTML)"), ("legacy", "Legacy JSON (or nearest equivalent)"))


def main(source: Path, target: Path) -> None:
    results = json.loads(source.read_text())
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
    main(Path(sys.argv[1]), Path(sys.argv[2]))
