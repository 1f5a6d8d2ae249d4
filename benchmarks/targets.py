"""The issues' targets, judged from one run's summary: (target, measured, met | missed)."""

from typing import Any

Summary = dict[str, dict[str, Any]]
Target = tuple[str, str, str]


def targets(s: Summary, rows: int) -> list[Target]:
    """Every target this run can judge: issue 10 (the paths users run), issue 13 (events), then
    issue 5 (the engine)."""
    return issue10(s, rows) + issue13(s) + issue5(s, rows)


def _get(s: Summary, path: str, key: str) -> Any:
    row = s.get(path, {})
    return row.get(key) if row.get("status") == "ok" and not row.get("checks_failed") else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def issue10(s: Summary, rows: int) -> list[Target]:
    copy = _get(s, "copy", "median_s")
    job_mb = 1536 if rows >= 10_000_000 else 1024
    return [
        (
            "issue 10: four-asset job, run duration (event log) ≤ 1.5× COPY (stretch ≤ 1.0×)",
            *_verdict(_ratio(_get(s, "dagster_job", "run_s"), copy), 1.5, "{:.2f}×"),
        ),
        (
            "issue 10: four-asset job, whole `dg launch` command ≤ 2.0× COPY",
            *_verdict(_get(s, "dagster_job", "x_copy"), 2.0, "{:.2f}×"),
        ),
        (
            f"issue 10: four-asset job, peak RSS of its largest process ≤ {job_mb / 1024:g} GB",
            *_verdict(_get(s, "dagster_job", "peak_rss_mb"), job_mb, "{:.0f} MB"),
        ),
        (
            "issue 10: SQL sender read (Postgres) ≤ 0.5× COPY",
            *_verdict(_get(s, "sender_read", "x_copy"), 0.5, "{:.2f}×"),
        ),
        (
            "issue 10: engine fed by the SQL sender ≤ 1.2× COPY",
            *_verdict(_get(s, "engine_sender", "x_copy"), 1.2, "{:.2f}×"),
        ),
    ]


def issue13(s: Summary) -> list[Target]:
    copy = _get(s, "copy", "median_s")
    events, engine = _get(s, "engine_events", "median_s"), _get(s, "engine", "median_s")
    added = _ratio(events - engine, copy) if events is not None and engine is not None else None
    one, many = _get(s, "routing_one", "median_s"), _get(s, "routing_1000", "median_s")
    return [
        (
            "issue 13: events on, one subscriber reading along, add ≤ 0.3× COPY to `engine`",
            *_verdict(added, 0.3, "{:+.2f}× COPY"),
        ),
        (
            "issue 13: 1,000 key-filtered subscribers receive the commit in < 3× one's time",
            *_verdict(_ratio(many, one), 3.0, "{:.2f}×", below=True),
        ),
    ]


def issue5(s: Summary, rows: int) -> list[Target]:
    stream_mb = 2048 if rows >= 10_000_000 else 1024  # the issue: 1 GB at 1M, 2 GB at 10M
    out = []
    for label, value, limit, fmt in (
        ("full sync ≤ 1.5× COPY (stretch ≤ 1.0×)", _get(s, "engine", "x_copy"), 1.5, "{:.2f}×"),
        ("no-change re-sync ≤ 0.6× COPY", _get(s, "engine_nochange", "x_copy"), 0.6, "{:.2f}×"),
        ("column mode ≤ 2.5× COPY", _get(s, "engine_column", "x_copy"), 2.5, "{:.2f}×"),
        (
            "column mode ≤ 2.5× COPY, target with fillfactor 50 (HOT stamps)",
            _get(s, "engine_column_hot", "x_copy"),
            2.5,
            "{:.2f}×",
        ),
        ("peak RSS of the engine ≤ 1 GB", _get(s, "engine", "peak_rss_mb"), 1024, "{:.0f} MB"),
        (
            f"peak RSS of the streamed sync (engine_stream) ≤ {stream_mb // 1024} GB",
            _get(s, "engine_stream", "peak_rss_mb"),
            stream_mb,
            "{:.0f} MB",
        ),
    ):
        out.append((f"issue 5: {label}", *_verdict(value, limit, fmt)))
    engine = _get(s, "engine", "median_s")
    for path, label in (("dlt", "dlt's merge"), ("dlt_indexed", "dlt's merge, indexed table")):
        speedup = _ratio(_get(s, path, "median_s"), engine)
        out.append(
            (f"issue 5: ≥ 4× faster than {label}", *_verdict(speedup, 4, "{:.1f}×", at_least=True))
        )
    return out


def _verdict(
    value: float | None, limit: float, fmt: str, *, at_least: bool = False, below: bool = False
) -> tuple[str, str]:
    """`value` against `limit`: at most (default), at least, or strictly below it."""
    if value is None:
        return "–", "not measured in this run"
    met = value >= limit if at_least else value < limit if below else value <= limit
    return fmt.format(value), "met" if met else "missed"
