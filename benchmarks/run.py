"""Benchmark runner for issue 5: every path, interleaved, on the same data, in one run.

    uv run python -m benchmarks.run --rows 100000 --repeat 3 --out benchmarks/results

Each path runs in its own worker process (see worker.py); per repetition the paths are run one
after another, the starting path rotating, each on a freshly loaded target in its own schema of a
throw-away database. Exit status: 0 all ok, 1 a correctness check failed, 2 a path errored or is
pending (engine not merged yet).
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pyarrow.parquet as pq

from benchmarks import pg
from benchmarks.datafiles import complete, write_parquet
from benchmarks.generate import DEFAULT_SEED, GENERATOR_VERSION, counts
from benchmarks.markdown import section, update_file
from benchmarks.paths import PATHS, REPORTS
from benchmarks.report import machine, summarize

ROOT = Path(__file__).resolve().parent.parent
# Named path sets for --only/--skip: `users` is the run behind BENCHMARKS.md's table of the paths
# users run (issues 10 and 13); re-running it after a change is this one command:
#   uv run python -m benchmarks.run --rows 1000000 --repeat 3 --only users
PRESETS = {
    "users": (
        "copy,engine,engine_stream,engine_events,engine_sender,sender_read,dagster_job,routing"
    ),
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=100_000, help="rows in batch 1 (default 100000)")
    p.add_argument("--repeat", type=int, default=3, help="repetitions per path (>= 3 for medians)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--skip", default="", help=f"comma-separated paths to skip, of {','.join(PATHS)}"
    )
    p.add_argument(
        "--only",
        default="",
        help=f"comma-separated paths to run (default: all); presets: {', '.join(PRESETS)}",
    )
    p.add_argument(
        "--md", type=Path, default=ROOT / "BENCHMARKS.md", help="markdown file to update"
    )
    p.add_argument("--no-md", action="store_true", help="do not update the markdown file")
    p.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="measure nothing: re-summarize a stored result JSON and rewrite its reports",
    )
    p.add_argument(
        "--once",
        default="",
        help="comma-separated paths measured in the first repetition only (long paths at 1M)",
    )
    p.add_argument(
        "--profile",
        default="",
        help="comma-separated paths to run under cProfile (times are inflated; implies --no-md); "
        "stats go to OUT/profiles/ROWS/",
    )
    args = p.parse_args(argv)
    args.preset = args.only if args.only in PRESETS else None  # its own section of the markdown
    args.only, args.skip = _expand(args.only), _expand(args.skip)
    named = ",".join((args.skip, args.only, args.profile, args.once)).split(",")
    unknown = {x for x in named if x} - set(PATHS)
    if unknown:
        p.error(f"unknown path(s) {sorted(unknown)}; known: {', '.join(PATHS)}")
    return args


def _expand(names: str) -> str:
    return ",".join(PRESETS.get(n, n) for n in names.split(","))


def selected(args: argparse.Namespace) -> list[str]:
    only = [x for x in args.only.split(",") if x] or list(PATHS)
    skip = {x for x in args.skip.split(",") if x}
    return [p for p in PATHS if p in only and p not in skip]


def prepare_data(out: Path, rows: int, seed: int) -> Path:
    """Generate the workload once per (rows, seed, generator version); reuse the Parquet after."""
    directory = out / "data" / f"rows{rows}-seed{seed}-v{GENERATOR_VERSION}"
    if complete(directory):
        return directory
    start = time.perf_counter()
    write_parquet(rows, directory, seed)
    log(f"generated {rows:,} rows in {time.perf_counter() - start:.1f}s -> {directory}")
    return directory


def expected_checksum(dbname: str, data_dir: Path) -> tuple[int, str]:
    """Checksum of the generator's expected final table, loaded by COPY into a scratch schema."""
    with pg.connect(dbname) as conn:
        pg.fresh_schema(conn, "expected")
        source = pq.ParquetFile(data_dir / "expected.parquet")
        pg.copy_batches(conn, "expected", "customers", source.iter_batches(batch_size=100_000))
        result = pg.checksum(conn, "expected")
        pg.drop_schema(conn, "expected")
    return result


class Worker:
    """One worker process per path, driven over JSON lines."""

    def __init__(self, cfg: dict[str, Any], log_file: IO[str]) -> None:
        self.path = cfg["path"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            cwd=ROOT,
        )

    def ready(self) -> None:
        self._read()

    def run(self, rep: int) -> list[dict[str, Any]]:
        self._send({"rep": rep})
        result: list[dict[str, Any]] = self._read()
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            self._send({"quit": True})
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def _send(self, cmd: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.path} died (exit {self.proc.wait()}); see its log")
        return json.loads(line)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def measure_all(args: argparse.Namespace, paths: list[str], data_dir: Path) -> dict[str, Any]:
    """Run every path `repeat` times, interleaved, in a throw-away database; return raw results."""
    dbname = f"sync_bench_{os.getpid()}"
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    logs = args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    measurements: list[dict[str, Any]] = []
    others: set[str] = set()
    with pg.database(dbname), pg.connect(dbname) as watch:
        expected = expected_checksum(dbname, data_dir)
        with pg.connect(dbname) as conn:
            server = pg.server_info(conn)
        base = {"dbname": dbname, "data_dir": str(data_dir), "rows": args.rows}
        base["expected_checksum"] = list(expected)
        workers: dict[str, Worker] = {}
        try:
            for p in paths:
                log_file = (logs / f"{args.rows}-{p}.log").open("w")
                cfg = {**base, "path": p, "schema": f"bench_{p}"}
                if p in args.profile.split(","):
                    cfg["profile_dir"] = str(args.out / "profiles" / str(args.rows))
                workers[p] = Worker(cfg, log_file)
            for w in workers.values():
                w.ready()
            for rep in range(args.repeat):
                order = paths[rep % len(paths) :] + paths[: rep % len(paths)]
                for p in order:
                    if rep and p in args.once.split(","):
                        continue
                    others |= _warn_others(watch, dbname, others)
                    measurements += run_one(workers[p], rep)
        finally:
            for w in workers.values():
                w.close()
    return {
        "rows": args.rows,
        "seed": args.seed,
        "repeat": args.repeat,
        "started_at": started,
        "truth": counts(args.rows).as_dict(),
        "expected_checksum": list(expected),
        "server": server,
        "machine": machine(),
        "concurrent_runs": sorted(others),
        "measurements": measurements,
    }


def _warn_others(conn: Any, mine: str, known: set[str]) -> set[str]:
    """Other benchmark runs on this server right now; each new one is logged as a warning."""
    found = set(pg.other_runs(conn, mine))
    for name in sorted(found - known):
        log(f"WARNING: another benchmark run ({name}) is using this server: timings are skewed")
    return found


def run_one(worker: Worker, rep: int) -> list[dict[str, Any]]:
    try:
        ms = worker.run(rep)
    except RuntimeError as exc:
        ms = [
            {"path": p, "rep": rep, "status": "error", "error": str(exc), "checks": []}
            for p in REPORTS[worker.path]
        ]
    for m in ms:
        failed = [c["name"] for c in m.get("checks", []) if not c["ok"]]
        secs = f"{m['seconds']:.2f}s" if m.get("seconds") is not None else "-"
        rss = f"{m['peak_rss_mb']:.0f}MB" if m.get("peak_rss_mb") is not None else "-"
        extra = f" FAILED {failed}" if failed else ""
        if m["status"] != "ok":
            extra += " " + (m.get("error") or "").splitlines()[0][:160]
        log(f"rep {rep} {m['path']:<16} {m['status']:<8} {secs:>9} peak {rss:>7}{extra}")
    return ms


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    if args.render is not None:
        result = json.loads(args.render.read_text())
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        data_dir = prepare_data(args.out, args.rows, args.seed)
        result = measure_all(args, selected(args), data_dir)
    return report_and_exit(args, result)


def report_and_exit(args: argparse.Namespace, result: dict[str, Any]) -> int:
    """Summarize, write JSON + markdown (and the BENCHMARKS.md section), print, exit status."""
    rows = result["rows"]
    summary = summarize(result["measurements"], counts(rows))
    failed = {p: s["checks_failed"] for p, s in summary.items() if s["checks_failed"]}
    result["summary"] = summary
    result["correctness_failed"] = bool(failed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{rows}.json").write_text(json.dumps(result, indent=2, default=str))
    text = section(result)
    (args.out / f"{rows}.md").write_text(text)
    if not (args.no_md or args.profile):
        update_file(args.md, rows, text, "users" if args.preset == "users" else "results")
    print(text)
    if failed:
        log(f"CORRECTNESS FAILURE: {json.dumps(failed, default=str)[:4000]}")
        return 1
    if any(s["status"] not in ("ok", "skipped") for s in summary.values()):
        log("some paths did not complete (error or pending engine); see the table")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
