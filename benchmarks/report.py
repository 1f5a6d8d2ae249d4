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
            "base_rss_mb": max(
                (b for m in ok if (b := m["base_rss_mb"]) is not None), default=None
            ),
            "wal_mb": _median([m["wal_mb"] for m in ok]),
            "load_1m": _median([m["load_1m"] for m in ok if m.get("load_1m") is not None]),
            "counts": ok[-1]["counts"] if ok else {},
            **{k: _median_detail(ok, k) for k in ("run_s", "before_run_s", "after_run_s")},
            "processes": _processes(ok),
            "steps_s": _steps(ok),
            "checks_passed": sum(c["ok"] for m in ms for c in m["checks"]),
            "checks_failed": failed,
        }
    return rows


def _processes(ms: list[dict[str, Any]]) -> dict[str, float]:
    """Peak RSS per process kind over the repetitions (a path's process tree, if it has one)."""
    peaks: dict[str, float] = {}
    for m in ms:
        for p in m.get("detail", {}).get("processes", []):
            words = p["name"].split()
            kind = " ".join(words if "launch" in words else words[:2])
            peaks[kind] = max(peaks.get(kind, 0.0), p["peak_rss_mb"])
    return peaks


def _steps(ms: list[dict[str, Any]]) -> dict[str, float]:
    """Median duration of each step of a Dagster run (STEP_START -> STEP_SUCCESS)."""
    runs = [m.get("detail", {}).get("steps_s", {}) for m in ms]
    keys = dict.fromkeys(k for steps in runs for k in steps)
    return {k: statistics.median(steps[k] for steps in runs if k in steps) for k in keys}


def _median_detail(ms: list[dict[str, Any]], key: str) -> float | None:
    return _median([v for m in ms if (v := m.get("detail", {}).get(key)) is not None])


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _median_ok(ms: list[dict[str, Any]]) -> float | None:
    return _median([m["seconds"] for m in ms if m["status"] == "ok"])


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
