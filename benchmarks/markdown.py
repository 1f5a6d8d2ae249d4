"""The markdown section of one run, and its place in BENCHMARKS.md (one section per row count)."""

import re
from pathlib import Path
from typing import Any

from benchmarks.paths import DESCRIPTIONS
from benchmarks.targets import targets


def section(result: dict[str, Any]) -> str:
    """Markdown for one run: results table, targets, correctness, machine and server notes."""
    rows, truth, summary = result["rows"], result["truth"], result["summary"]
    lines = [
        f"### {rows:,} rows (batch 2: {truth['batch2_rows']:,} rows), "
        f"{_plural(result['repeat'], 'repetition')}, {result['started_at']}",
        "",
        "| path | median s | min–max s | × COPY | × COPY (best) | rows/s | peak RSS MB | WAL MB "
        "| load | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for path, s in summary.items():
        lines.append(
            f"| `{path}`: {DESCRIPTIONS.get(path, '')} | {_f(s['median_s'], '{:.2f}')} "
            f"| {_range(s)} | {_f(s['x_copy'], '{:.2f}')} | {_f(s['x_copy_best'], '{:.2f}')} "
            f"| {_f(s['rows_per_s'], '{:,.0f}')} | {_f(s['peak_rss_mb'], '{:.0f}')} "
            f"| {_f(s['wal_mb'], '{:.0f}')} | {_f(s['load_1m'], '{:.1f}')} | {_status(s)} |"
        )
    lines += _job_notes(summary)
    lines += [
        "",
        "Targets (stated for 1M rows; the memory ones also for 10M), medians of this run:",
    ]
    lines += [""]
    lines.append("| target | measured | verdict |")
    lines.append("|---|---:|---|")
    lines += [f"| {t} | {v} | {verdict} |" for t, v, verdict in targets(summary, rows)]
    lines += ["", _correctness(result), "", _machine(result["machine"], result["server"])]
    if result.get("concurrent_runs"):
        names = ", ".join(result["concurrent_runs"])
        lines += ["", f"**Other benchmark runs shared the server during this run ({names}):"]
        lines[-1] += " its timings are skewed.**"
    return "\n".join(lines) + "\n"


def _job_notes(summary: dict[str, Any]) -> list[str]:
    """The four-asset job's run duration and the peak RSS of each process of its tree."""
    s = summary.get("dagster_job")
    if not s or s["status"] != "ok":
        return []
    copy = summary.get("copy", {}).get("median_s")
    run = s.get("run_s")
    ratio = f" = {run / copy:.2f}× COPY" if run and copy else ""
    procs = ", ".join(f"`{name}` {mb:.0f} MB" for name, mb in s.get("processes", {}).items())
    steps = ", ".join(f"`{k}` {v:.2f}" for k, v in s.get("steps_s", {}).items())
    return [
        "",
        f"`dagster_job` ({_plural(s['reps_ok'], 'repetition')}): the run's own duration "
        f"(RUN_START → RUN_SUCCESS in the instance's event log), median {_f(run, '{:.2f}')} s"
        f"{ratio}; before RUN_START (`dg` starting, loading the code location, creating the run) "
        f"{_f(s.get('before_run_s'), '{:.2f}')} s, after RUN_SUCCESS (until the command exits) "
        f"{_f(s.get('after_run_s'), '{:.2f}')} s. Peak RSS per process of the command's tree "
        f"(highest over the repetitions): {procs or '–'}."
        + (f" Steps (median s): {steps}." if steps else ""),
    ]


def _f(value: float | None, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def _range(s: dict[str, Any]) -> str:
    if s["min_s"] is None:
        return "–"
    return f"{s['min_s']:.2f}–{s['max_s']:.2f}"


def _status(s: dict[str, Any]) -> str:
    if s["status"] == "pending":
        return "pending: engine not merged yet"
    if s["status"] == "skipped":
        return f"skipped: {s['error']}"
    if s["status"] != "ok":
        first = (s["error"] or "").splitlines()[0][:120]
        return f"{s['status']}: {first}"
    failed = len(s["checks_failed"])
    passed = _plural(s["checks_passed"], "check")
    return f"ok, {passed} passed" + (f", **{failed} FAILED**" if failed else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _correctness(result: dict[str, Any]) -> str:
    t, exp = result["truth"], result["expected_checksum"]
    return (
        f"Generator truth: {t['added']:,} added, {t['changed']:,} changed, "
        f"{t['unchanged']:,} unchanged (of which {t['format_only']:,} differ only by email case "
        f"or price scale), {t['missing']:,} missing. Expected final table: {exp[0]:,} rows, "
        f"checksum `{exp[1]}`. Correctness: "
        + ("**FAILED**, see JSON." if result["correctness_failed"] else "all checks passed.")
    )


def _machine(m: dict[str, Any], server: dict[str, str]) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in server.items() if k != "version")
    load = ", ".join(f"{x:.2f}" for x in m["load_avg"])
    return (
        f"Code: commit {m.get('commit', '?')}. "
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, Linux {m['kernel']}, "
        f"Python {m['python']}, pyarrow {m['pyarrow']}, psycopg {m['psycopg']}, "
        f"dagster {m['dagster']}, dlt {m['dlt']}; load average at start {load} (the machine is "
        f"shared). Server: {server['version'].split(' on ')[0]}, settings untouched: {settings}."
    )


def update_file(path: Path, rows: int, text: str, name: str = "results") -> None:
    """Replace (or append) the section `name` for `rows` between its markers in `path`."""
    start, end = f"<!-- {name} rows={rows} start -->", f"<!-- {name} rows={rows} end -->"
    block = f"{start}\n{text}{end}"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    new = (
        pattern.sub(lambda _: block, old)
        if pattern.search(old)
        else old.rstrip() + f"\n\n{block}\n"
    )
    path.write_text(new)
