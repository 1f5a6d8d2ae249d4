"""Summaries of the measurements: medians, ratios to COPY, targets, machine notes, markdown."""

import os
import platform
import re
import statistics
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.generate import Truth
from benchmarks.paths import DESCRIPTIONS

ORDER = tuple(DESCRIPTIONS)


def summarize(measurements: list[dict[str, Any]], truth: Truth) -> dict[str, dict[str, Any]]:
    """One row per path: status, medians over the ok repetitions, checks that failed."""
    by_path: dict[str, list[dict[str, Any]]] = {}
    for m in measurements:
        by_path.setdefault(m["path"], []).append(m)
    copy = _median_ok(by_path.get("copy", []))
    copy_best = min(
        (m["seconds"] for m in by_path.get("copy", []) if m["status"] == "ok"), default=None
    )
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(by_path, key=lambda p: ORDER.index(p) if p in ORDER else len(ORDER)):
        ms = by_path[path]
        ok = [m for m in ms if m["status"] == "ok"]
        bad = [m for m in ms if m["status"] != "ok"]
        median = _median_ok(ms)
        best = min((m["seconds"] for m in ok), default=None)
        failed = [{"rep": m["rep"], **c} for m in ms for c in m["checks"] if not c["ok"]]
        rows[path] = {
            "status": bad[0]["status"] if bad else "ok",
            "error": bad[0]["error"] if bad else None,
            "reps_ok": len(ok),
            "reps": len(ms),
            "median_s": median,
            "min_s": best,
            "max_s": max((m["seconds"] for m in ok), default=None),
            "x_copy": median / copy if median and copy else None,
            "x_copy_best": best / copy_best if best and copy_best else None,
            "rows_per_s": truth.batch2_rows / median if median else None,
            "peak_rss_mb": max((m["peak_rss_mb"] for m in ok), default=None),
            "base_rss_mb": max((m["base_rss_mb"] for m in ok), default=None),
            "wal_mb": _median([m["wal_mb"] for m in ok]),
            "load_1m": _median([m["load_1m"] for m in ok if m.get("load_1m") is not None]),
            "counts": ok[-1]["counts"] if ok else {},
            "checks_passed": sum(c["ok"] for m in ms for c in m["checks"]),
            "checks_failed": failed,
        }
    return rows


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _median_ok(ms: list[dict[str, Any]]) -> float | None:
    return _median([m["seconds"] for m in ms if m["status"] == "ok"])


def targets(s: dict[str, dict[str, Any]], rows: int) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of issue 5 that this run can judge."""
    stream_mb = 2048 if rows >= 10_000_000 else 1024  # the issue: 1 GB at 1M, 2 GB at 10M

    def get(path: str, key: str) -> Any:
        return s.get(path, {}).get(key) if s.get(path, {}).get("status") == "ok" else None

    out = []
    for label, value, limit, fmt in (
        ("full sync ≤ 1.5× COPY (stretch ≤ 1.0×)", get("engine", "x_copy"), 1.5, "{:.2f}×"),
        ("no-change re-sync ≤ 0.6× COPY", get("engine_nochange", "x_copy"), 0.6, "{:.2f}×"),
        ("column mode ≤ 2.5× COPY", get("engine_column", "x_copy"), 2.5, "{:.2f}×"),
        (
            "column mode ≤ 2.5× COPY, target with fillfactor 50 (HOT stamps)",
            get("engine_column_hot", "x_copy"),
            2.5,
            "{:.2f}×",
        ),
        ("peak RSS of the engine ≤ 1 GB", get("engine", "peak_rss_mb"), 1024, "{:.0f} MB"),
        (
            f"peak RSS of the streamed sync (engine_stream) ≤ {stream_mb // 1024} GB",
            get("engine_stream", "peak_rss_mb"),
            stream_mb,
            "{:.0f} MB",
        ),
    ):
        out.append((label, *_verdict(value, limit, fmt)))
    engine, dag = get("engine", "median_s"), get("dagster", "median_s")
    for path, label in (("dlt", "dlt's merge"), ("dlt_indexed", "dlt's merge, indexed table")):
        dlt = get(path, "median_s")
        speedup = dlt / engine if engine and dlt else None
        out.append((f"≥ 4× faster than {label}", *_verdict(speedup, 4, "{:.1f}×", at_least=True)))
    overhead = dag - engine if dag is not None and engine is not None else None
    out.append(("Dagster run adds ≤ 5 s", *_verdict(overhead, 5, "{:+.2f} s")))
    return out


def _verdict(
    value: float | None, limit: float, fmt: str, at_least: bool = False
) -> tuple[str, str]:
    if value is None:
        return "–", "not measured in this run"
    met = value >= limit if at_least else value <= limit
    return fmt.format(value), "met" if met else "missed"


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "cpu": _proc_field("/proc/cpuinfo", "model name"),
        "ram_gb": round(int(_proc_field("/proc/meminfo", "MemTotal").split()[0]) / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_avg": os.getloadavg(),
        "commit": _commit(),
    }
    for dist in ("pyarrow", "psycopg", "sqlalchemy", "dagster", "dlt"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = None
    return info


def _commit() -> str:
    """The checked-out commit of the code measured (engine included), '+dirty' if modified."""
    return (_git("rev-parse", "--short", "HEAD") or "?") + (
        "+dirty"
        if _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!*.md")
        else ""
    )


def _git(*args: str) -> str:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", *args], check=False, cwd=here, capture_output=True, text=True)
    except OSError:
        return ""
    return done.stdout.strip()


def _proc_field(path: str, key: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError:
        return "?"
    match = re.search(rf"^{re.escape(key)}\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else "?"
