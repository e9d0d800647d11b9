"""The results as markdown (tables, targets), and their place in docs/benchmarks.md.

python benchmarks/report.py benchmarks/out/results.json    # the markdown of a finished run again
"""

from __future__ import annotations

import json
import math
import re
import statistics
import sys
from pathlib import Path

PEERS = ("pypiserver", "devpi")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

TARGET_PAGE_P50_MS = 5.0
TARGET_PAGE_RPS = 300.0
TARGET_PEER_FACTOR = 50.0
TARGET_PAGE_AFTER_CHANGE_MS = 200.0
TARGET_LEGACY_AFTER_CHANGE_MS = 100.0
TARGET_LEGACY_WARM_MS = 10.0
TARGET_API_P50_MS = 20.0
TARGET_UPLOADS_PER_S = 30.0
TARGET_FLAT_FACTOR = 2.0
TARGET_COLD_EXPONENT = 1.1  # cost ∝ releases^k; 1 is linear, 0.1 of slack for noise
# The peer factors are set on ccxt's size: on a smaller big project (--quick's 500 releases) the
# peers' per-release costs are a few times ours, not fifty, and the run cannot show the target.
TARGET_PEER_RELEASES = 4632
NOT_AT_THIS_SCALE = "not measured at this scale"


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _rps(value: float | None, seconds: float | None = None) -> str:
    if value is None:
        return "–"
    if value == 0 and seconds:
        return f"< {1 / seconds:.2g}"  # no answer within the run
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}" if value > 0 else "0"


def _bytes(size: int | None) -> str:
    if size is None:
        return "–"
    if size >= 1024**2:
        return f"{size / 1024**2:.1f} MiB"
    return f"{size / 1024:,.0f} KiB" if size >= 10 * 1024 else f"{size:,} B"


def _ratio(ours: float | None, theirs: float | None) -> str:
    """ours / theirs; below 1 as 1/x, which reads better than 0.0021."""
    if not ours or not theirs:
        return "–"
    ratio = ours / theirs
    return f"1/{1 / ratio:,.3g}" if ratio < 1 else f"{ratio:,.3g}"


def _endpoint(results: dict, server: str, key: str) -> dict | None:
    return results["servers"].get(server, {}).get("endpoints", {}).get(key)


def _p50(figures: dict | None) -> float | None:
    return figures["latency"]["p50"] if figures else None


def _rps_of(figures: dict | None) -> float | None:
    return figures["load"]["rps"] if figures else None


def _p50_cell(figures: dict | None) -> str:
    if not figures:
        return "–"
    latency = figures["latency"]
    return _ms(latency["p50"]) + (f" ({latency['samples']})" if latency.get("capped") else "")


def _cached(meta: dict, key: str) -> str:
    return " (from the cache)" if meta.get(f"{key}_cached") else ""


def _errors(load: dict) -> str:
    return f" ({load['errors']} errors)" if load["errors"] else ""


def _queries(counted: dict | None) -> str:
    """Warm / build; a count that differed between the rounds shows as its range, "1–2"."""
    if not counted:
        return "–"

    def one(kind: str) -> str:
        runs = counted.get(f"{kind}_runs") or [counted[kind]]
        return f"{min(runs)}–{max(runs)}" if min(runs) != max(runs) else str(runs[0])

    return f"{one('warm')} / {one('cold')}"


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# ---------------------------------------------------------------- sections


def header(results: dict) -> list[str]:
    meta = results["meta"]
    settings = meta["settings"]
    timings = meta["timings"]
    versions = meta.get("peer_versions", {})
    ours = results["servers"].get("ours", {})
    lines = [
        f"### Results, {meta['date']}" + (" (`--quick`)" if meta["quick"] else ""),
        "",
    ]
    if meta.get("note"):
        lines += [f"**{meta['note']}**", ""]
    peers = ", ".join(
        f"{name} {versions[name]}"
        for name in ("pypiserver", "devpi-server", "watchdog", "waitress")
        if name in versions
    )
    lines += [
        f"Machine: {meta['cores']} cores ({meta.get('cpu', '?')}), {meta.get('memory', '?')} RAM, "
        f"{meta['platform']}. Load average {meta['load_before']:.2f} before, {meta.get('load_after', 0):.2f} after.",
        f"Ours: commit {meta.get('commit', '?')}, Python {meta['python']}, Django {meta.get('django', '?')}, "
        f"gunicorn {meta.get('gunicorn', '?')} ({ours.get('workers', '?')} workers from `gunicorn.conf.py`), "
        f"{meta['database']}" + (f" {meta['sqlite']}" if meta["database"] == "SQLite" else "") + ", local files. "
        f"Peers: {peers or 'none'}. Load: {meta['load_tool']}.",
        "",
        "Data: " + " ".join(line.strip() for line in meta.get("seed_output", "").splitlines()),
        "Scaling projects: "
        + (f"{', '.join(f'{size:,}' for size in settings['sizes'])} releases." if settings["sizes"] else "none."),
        "",
        "Time: "
        + ", ".join(
            f"{label} {timings[key]:.0f} s"
            for key, label in (
                ("seed", "seeding"),
                ("seed_scaling", "seeding the scaling projects"),
                ("peers_install", "installing the peers (beside the seeding)"),
                ("peer_export", "exporting for the peers"),
                (
                    "devpi_import",
                    "devpi's import of the main data (beside that seeding)" + _cached(meta, "devpi_import"),
                ),
                ("devpi_import_scaling", "of the scaling data" + _cached(meta, "devpi_import_scaling")),
                ("measuring", "measuring"),
                ("ours", "of which ours"),
                ("pypiserver", "pypiserver"),
                ("devpi", "devpi"),
                ("total", "whole run"),
            )
            if timings.get(key, 0) >= 0.5
        )
        + ".",  # fmt: skip
        "",
        f"Sequential latency: {settings['requests']} requests one at a time, each on a new connection, from "
        f"connect to the last byte; slow peers are time-boxed to {settings['peer_budget']:g} s per run (the "
        f"number of requests is then given in brackets). Load: {settings['duration']:g} s at "
        f"{settings['connections']} connections (longer for slow peers, up to {settings['max_load_seconds']:g} s).",
        "",
    ]
    return lines


def endpoint_table(results: dict) -> list[str]:
    queries = results.get("queries") or {}
    lines = [
        "#### Every endpoint, ours (warm)",
        "",
        "| endpoint | body | gzip | p50 ms | p99 ms | req/s | server CPU ms/req | 304 p50 ms | queries warm / build |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results.get("endpoints", []):
        figures = _endpoint(results, "ours", row["key"])
        if not figures:
            continue
        load = figures["load"]
        revalidation = figures.get("revalidation")
        counted = queries.get(row["key"])
        lines.append(
            f"| {row['label']} | {_bytes(figures['bytes_plain'])} | {_bytes(figures['bytes_gzip'])} | "
            f"{_ms(figures['latency']['p50'])} | {_ms(figures['latency']['p99'])} | "
            f"{_rps(load['rps'])}{_errors(load)} | "
            f"{_ms(load.get('server_cpu_ms'))} | "
            f"{_ms(revalidation['p50']) if revalidation else figures.get('revalidation_note') or '–'} | "
            f"{_queries(counted)} |"
        )
    ours = results["servers"].get("ours", {})
    lines += [
        "",
        f"Peak RSS of gunicorn (master and workers, sampled every 100 ms) over these runs: "
        f"{ours.get('peak_rss_kib', 0) / 1024:.0f} MiB. Queries: counted in process with "
        "`CaptureQueriesContext` on the same database, the servers stopped: a warm request, and one that "
        "builds the page (stored pages forgotten first, as after a change), twice each (a range: the rounds "
        "differed).",
        "",
    ]
    return lines


def peer_table(results: dict) -> list[str]:
    present = [peer for peer in PEERS if peer in results["servers"]]
    if not present:
        return []
    heads = " | ".join(f"{peer} p50 ms | ours / {peer} p50 | {peer} req/s | ours / {peer} req/s" for peer in present)
    lines = [
        "#### Against the peers: same request, same run (ours / theirs)",
        "",
        f"| endpoint | ours p50 ms | ours req/s | {heads} |",
        "|---|---|---|" + "---|---|---|---|" * len(present),
    ]
    notes = []
    for row in results.get("endpoints", []):
        ours = _endpoint(results, "ours", row["key"])
        cells = []
        measured = False
        for peer in present:
            theirs = _endpoint(results, peer, row["key"])
            measured = measured or theirs is not None
            note = results["servers"][peer].get("notes", {}).get(row["key"])
            if note and theirs is None:
                cells += [f"– ({note})", "", "", ""]
                continue
            if note:
                notes.append(f"{row['label']}, {peer}: {note}.")
            cells += [
                _p50_cell(theirs),
                _ratio(_p50(ours), _p50(theirs)),
                _rps(_rps_of(theirs), theirs and theirs["load"]["seconds"]),
                _ratio(_rps_of(ours), _rps_of(theirs)),
            ]
        if measured:
            lines.append(f"| {row['label']} | {_p50_cell(ours)} | {_rps(_rps_of(ours))} | " + " | ".join(cells) + " |")
    lines += ["", "| measure | ours | " + " | ".join(present) + " |", "|---|---|" + "---|" * len(present)]
    servers = ["ours", *present]
    big = "simple-big-html"

    def cell(server: str, getter) -> str:
        record = results["servers"].get(server, {})
        return getter(record)

    rows = [
        ("body of the big simple page (HTML, gzip asked)", lambda r: _bytes((r.get("endpoints", {}).get(big) or {}).get("bytes_gzip") or (r.get("endpoints", {}).get(big) or {}).get("bytes_plain"))),  # noqa: E501
        ("peak RSS (MiB)", lambda r: f"{r.get('peak_rss_kib', 0) / 1024:,.0f}"),
        ("small uploads into a growing project, files/s, one client", lambda r: _upload_rate(r, "sequential")),
        ("the same, files/s, parallel clients", lambda r: _upload_rate(r, "parallel")),
        ("start-up until the first answer (s)", lambda r: f"{r.get('start_seconds', 0):.1f}"),
    ]  # fmt: skip
    for label, getter in rows:
        lines.append(f"| {label} | " + " | ".join(cell(server, getter) for server in servers) + " |")
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    lines.append("")
    return lines


def after_change_table(results: dict) -> list[str]:
    labels = {row["key"]: row["label"] for row in results.get("endpoints", [])}
    servers = [name for name in ("ours", *PEERS) if results["servers"].get(name, {}).get("after_change")]
    if not servers:
        return []
    lines = [
        "#### First request after a change (one new wheel uploaded, then the request once)",
        "",
        "| request | " + " | ".join(f"{name}: first ms, median (max) | {name}: upload ms" for name in servers) + " |",
        "|---|" + "---|---|" * len(servers),
    ]
    keys = sorted({key for name in servers for key in results["servers"][name]["after_change"]}, key=list(labels).index)
    for key in keys:
        cells = []
        for name in servers:
            runs = results["servers"][name]["after_change"].get(key)
            if not runs:
                cells += ["–", "–"]
                continue
            firsts = [run["first_ms"] for run in runs]
            cells += [
                f"{_ms(_median(firsts))} ({_ms(max(firsts))})",
                _ms(_median([run["upload_ms"] for run in runs])),
            ]
        lines.append(f"| {labels.get(key, key)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Ours builds a change once per node (the page store: the other workers wait for that build and read "
        "its file); the figure is that build, with its gzip form.",
        "",
    ]
    return lines


def _upload_runs(record: dict) -> dict[str, dict]:
    """A server's upload runs by mode ("sequential", "parallel"); a results file from before the
    growing-project runs held one sequential figure, on a fresh project."""
    uploads = record.get("uploads") or {}
    if "files_per_second" in uploads:
        return {"sequential": {**uploads, "clients": 1}}
    return {mode: run for mode, run in uploads.items() if isinstance(run, dict)}


def _upload_rate(record: dict, mode: str) -> str:
    run = _upload_runs(record).get(mode)
    if not run:
        return "–"
    return f"{run['files_per_second']:.1f}" + (f" ({run['clients']} clients)" if run["clients"] > 1 else "")


def _growth(run: dict) -> tuple[float, float] | None:
    """Median ms per upload over the first and the last tenth of the files (by upload order)."""
    times = [ms for _, ms in sorted(run.get("per_upload") or [])]
    if len(times) < 10:
        return None
    tenth = len(times) // 10
    return statistics.median(times[:tenth]), statistics.median(times[-tenth:])


def uploads_section(results: dict) -> list[str]:
    big = results.get("big_upload")
    settings = results["meta"]["settings"]
    servers = [name for name in ("ours", *PEERS) if _upload_runs(results["servers"].get(name, {}))]
    lines = ["#### Uploads", ""]
    growing = [name for name in servers if "per_upload" in _upload_runs(results["servers"][name]).get("sequential", {})]
    if growing:
        versions = settings.get("upload_versions", "?")
        clients = settings.get("upload_clients", "?")
        lines += [
            f"The same files to every server: {versions} versions of a new project, a wheel and an sdist each "
            f"(a few KiB, valid), as twine sends them (ours at `/legacy/` with an API token, the peers "
            f"anonymously), so the project grows from nothing to {versions} versions during the run. Once by "
            f"one client, once by {clients} clients at a time (each uploading whole versions, wheel then sdist, "
            "into a second new project). No time budget: every server uploads every file (a bound of "
            f"{settings.get('upload_time_limit', 900):g} s per run stops only a runaway, and says so). ms per "
            "upload: median over the first and the last tenth of the files.",
            "",
            "| server | one client: files/s | ms per upload, first → last tenth | "
            f"{clients} clients: files/s | ms per upload, first → last tenth | errors |",
            "|---|---|---|---|---|---|",
        ]
        for name in growing:
            runs = _upload_runs(results["servers"][name])
            cells = []
            errors = 0
            for mode in ("sequential", "parallel"):
                run = runs.get(mode)
                if not run:
                    cells += ["–", "–"]
                    continue
                errors += run.get("errors", 0)
                growth = _growth(run)
                capped = f" ({run['files']} files: stopped at the time limit)" if run.get("capped") else ""
                cells.append(f"{run['files_per_second']:.1f}{capped}")
                cells.append(f"{_ms(growth[0])} → {_ms(growth[1])}" if growth else "–")
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {errors} |")
        lines += ["", "![Time per upload as the project grows](benchmark-uploads.png)", ""]
    elif servers:
        ours = _upload_runs(results["servers"].get("ours", {})).get("sequential")
        if ours:
            lines.append(
                f"Small files (a wheel and an sdist per version, a few KiB each) through `/legacy/`, one after "
                f"another as twine sends them: {ours['files']} files in {ours['seconds']:.1f} s, "
                f"**{ours['files_per_second']:.1f} files/s** (median {ours['latency_p50_ms']:.0f} ms per upload)."
            )
    if big:
        lines.append(
            f"A {big['size'] / 1024**2:,.0f} MiB wheel: answered in {big['seconds']:.1f} s; the gunicorn worker "
            f"that took it grew by **{big['growth_kib'] / 1024:.1f} MiB** (RSS {big['baseline_kib'] / 1024:.0f} → "
            f"{big['peak_kib'] / 1024:.0f} MiB, 50 ms samples and the kernel's high-water mark)."
            + (" " + " ".join(big["notes"]) if big.get("notes") else "")
        )
    lines.append("")
    return lines


def scaling_table(results: dict) -> list[str]:
    servers = [name for name in ("ours", *PEERS) if results["servers"].get(name, {}).get("scaling")]
    if not servers:
        return []
    sizes = sorted({int(size) for name in servers for size in results["servers"][name]["scaling"]})
    lines = [
        "#### Scaling: big-project page (HTML) and legacy JSON against releases",
        "",
        "Warm p50 / first request after a change (median), ms. pypiserver's legacy JSON is its `/<project>/json`, "
        "devpi's is its project page as JSON (nearest equivalents).",
        "",
        "| releases | " + " | ".join(f"{name} page | {name} legacy JSON" for name in servers) + " |",
        "|---|" + "---|---|" * len(servers),
    ]
    for size in sizes:
        cells = []
        for name in servers:
            record = results["servers"][name]["scaling"].get(str(size)) or results["servers"][name]["scaling"].get(size)
            for part in ("page", "legacy"):
                if not record:
                    cells.append("–")
                    continue
                cells.append(f"{_ms(record[part]['warm_p50'])} / {_ms(record[part]['cold_median'])}")
        lines.append(f"| {size:,} | " + " | ".join(cells) + " |")
    cpu = []
    for name in servers:
        scaling = _scaling(results, name)
        for part, label in (("page", "page"), ("legacy", "legacy JSON")):
            figures = [scaling[size][part].get("warm_cpu_ms") for size in sizes if size in scaling]
            if figures and None not in figures:
                cpu.append(f"{name} {label}: " + " / ".join(_ms(value) for value in figures))
    if cpu:
        lines += ["", "Server CPU ms per warm request, by size: " + "; ".join(cpu) + "."]
    ours = _scaling(results, "ours")
    # Sizes of warm answers, plain and with gzip asked (a results file from before held one size
    # per page, of whichever form the first answer had: not shown).
    if ours and all("bytes_plain" in ours[size][part] for size in ours for part in ("page", "legacy")):
        bodies = "; ".join(
            f"{label}: "
            + ", ".join(
                f"{_bytes(ours[size][part]['bytes_plain'])} / {_bytes(ours[size][part].get('bytes_gzip'))}"
                for size in sorted(ours)
            )
            for part, label in (("page", "page"), ("legacy", "legacy JSON"))
        )
        sizes_text = ", ".join(f"{size:,}" for size in sorted(ours))
        lines += ["", f"Our response bodies, plain / gzip, at {sizes_text} releases: {bodies}."]
    lines += ["", "![Latency against releases](benchmark-scaling.png)", ""]
    return lines


def _scaling(results: dict, server: str) -> dict[int, dict]:
    return {int(size): value for size, value in results["servers"].get(server, {}).get("scaling", {}).items()}


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met); met is None when it could not be measured in this run."""
    found: list[tuple[str, str, bool | None]] = []

    def check(name: str, value: float | None, limit: float, below: bool = True, unit: str = "ms") -> None:
        if value is None:
            found.append((name, "not measured", None))
            return
        met = value <= limit if below else value >= limit
        found.append((name, f"{_ms(value) if unit == 'ms' else f'{value:,.1f}'} {unit}", met))

    for key in ("simple-big-html", "simple-big-json", "simple-big-html-plain", "simple-big-json-plain"):
        figures = _endpoint(results, "ours", key)
        label = key.removeprefix("simple-big-").replace("-plain", ", no gzip").replace("html", "HTML")
        label = label.replace("json", "JSON")
        check(f"big simple page warm p50 ≤ {TARGET_PAGE_P50_MS:g} ms ({label})", _p50(figures), TARGET_PAGE_P50_MS)
        check(
            f"big simple page ≥ {TARGET_PAGE_RPS:g} req/s at 8 connections ({label})",
            _rps_of(figures), TARGET_PAGE_RPS, below=False, unit="req/s",
        )  # fmt: skip
    releases = results["meta"]["settings"].get("releases", TARGET_PEER_RELEASES)
    for peer in PEERS:
        for key in ("simple-big-html", "simple-big-json"):
            ours, theirs = _endpoint(results, "ours", key), _endpoint(results, peer, key)
            if theirs is None:
                continue
            label = "HTML" if key.endswith("html") else "JSON"
            name = (f"big simple page ≥ {TARGET_PEER_FACTOR:g}× faster than {peer} at {TARGET_PEER_RELEASES:,} "
                    f"releases ({label}; the smaller of the p50 and req/s factors)")  # fmt: skip
            factor = min(_p50(theirs) / _p50(ours), _rps_of(ours) / max(_rps_of(theirs), 1e-9))
            if releases < TARGET_PEER_RELEASES:
                found.append((name, f"{NOT_AT_THIS_SCALE} ({releases:,} releases: {factor:,.0f}×)", None))
                continue
            found.append((name, f"{factor:,.0f}×", factor >= TARGET_PEER_FACTOR))
    changes = results["servers"].get("ours", {}).get("after_change", {})
    for key, limit, name in (
        ("simple-big-json", TARGET_PAGE_AFTER_CHANGE_MS, "big simple page JSON"),
        ("simple-big-html", TARGET_PAGE_AFTER_CHANGE_MS, "big simple page HTML"),
        ("legacy-json", TARGET_LEGACY_AFTER_CHANGE_MS, "legacy JSON"),
    ):
        firsts = [run["first_ms"] for run in changes.get(key, [])]
        check(f"{name}, first request after a change ≤ {limit:g} ms (median)", _median(firsts), limit)
    for key in ("legacy-json", "legacy-json-version"):
        name = "legacy JSON" + (" of a version" if key.endswith("version") else "")
        check(f"{name} warm p50 ≤ {TARGET_LEGACY_WARM_MS:g} ms", _p50(_endpoint(results, "ours", key)), 10.0)
    for key, name in (("api-releases", "release page"), ("api-release", "release resource"), ("api-events", "events")):
        check(f"API {name} p50 ≤ {TARGET_API_P50_MS:g} ms", _p50(_endpoint(results, "ours", key)), TARGET_API_P50_MS)
    uploads = _upload_runs(results["servers"].get("ours", {})).get("sequential")
    check(
        f"small uploads ≥ {TARGET_UPLOADS_PER_S:g} files/s (one client, into a growing project)",
        uploads["files_per_second"] if uploads else None, TARGET_UPLOADS_PER_S, below=False, unit="files/s",
    )  # fmt: skip
    scaling = _scaling(results, "ours")
    if len(scaling) >= 2:
        sizes = sorted(scaling)
        for part, name in (("page", "big simple page"), ("legacy", "legacy JSON")):
            warm = [scaling[size][part]["warm_p50"] for size in sizes]
            factor = max(warm) / min(warm)
            found.append(
                (f"{name} warm latency flat from {sizes[0]:,} to {sizes[-1]:,} releases (within "
                 f"{TARGET_FLAT_FACTOR:g}×)", f"{factor:.2f}×", factor <= TARGET_FLAT_FACTOR)
            )  # fmt: skip
            small, large = sizes[-2], sizes[-1]
            cold_small, cold_large = scaling[small][part]["cold_median"], scaling[large][part]["cold_median"]
            exponent = math.log(cold_large / cold_small) / math.log(large / small)
            found.append(
                (f"{name} cost after a change linear at worst ({small:,} → {large:,} releases: k in "
                 f"cost ∝ releases^k ≤ {TARGET_COLD_EXPONENT:g})", f"k = {exponent:.2f}",
                 exponent <= TARGET_COLD_EXPONENT)
            )  # fmt: skip
    return found


def exit_status(results: dict) -> int:
    """0 when every target measured is met, 1 when one is missed (the suite's exit status)."""
    return 0 if all(met is not False for _, _, met in targets(results)) else 1


def targets_table(results: dict) -> list[str]:
    lines = ["#### Targets", "", "| target | measured | met |", "|---|---|---|"]
    for name, measured, met in targets(results):
        lines.append(f"| {name} | {measured} | {'yes' if met else '–' if met is None else '**no**'} |")
    lines.append("")
    return lines


def render(results: dict) -> str:
    sections = [
        header(results),
        targets_table(results),
        endpoint_table(results),
        peer_table(results),
        after_change_table(results),
        uploads_section(results),
        scaling_table(results),
    ]
    return "\n".join(line for section in sections for line in section).rstrip() + "\n"


def update_docs(path: Path, text: str) -> None:
    """Replace what lies between the results markers (the rest of the page is written by hand)."""
    page = path.read_text()
    if BEGIN not in page or END not in page:
        raise ValueError(f"{path} has no {BEGIN} ... {END} markers")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    path.write_text(pattern.sub(lambda _: f"{BEGIN}\n\n{text}\n{END}", page))


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))
