"""A worker process for one path: holds batch 2, runs one repetition per command.

Protocol (JSON lines): the orchestrator writes `{"rep": i}` or `{"quit": true}` on stdin; the
worker answers each rep with a JSON list of measurements on the original stdout. Everything else
the libraries print goes to stderr (the orchestrator sends it to a log file), so one process per
path keeps imports and memory of one path out of the numbers of another.
"""

import json
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks import pg
from benchmarks.datafiles import read_parquet
from benchmarks.generate import counts
from benchmarks.measure import Ctx, Measurement
from benchmarks.paths import PATHS, REPORTS, STREAMING


def serve(cfg: dict[str, Any], commands: Any, results: Any) -> None:
    path = cfg["path"]
    data_dir = Path(cfg["data_dir"])
    # A streaming path reads batch 2 from Parquet itself: holding it here would count in its RSS.
    if path in STREAMING:
        batch2 = pq.read_schema(data_dir / "batch2.parquet").empty_table()
    else:
        batch2 = read_parquet(data_dir, "batch2")
    ctx = Ctx(
        dbname=cfg["dbname"],
        schema=cfg["schema"],
        data_dir=data_dir,
        truth=counts(cfg["rows"]),
        expected_checksum=(int(cfg["expected_checksum"][0]), str(cfg["expected_checksum"][1])),
        batch2=batch2,
        profile_dir=Path(cfg["profile_dir"]) if cfg.get("profile_dir") else None,
    )
    _warm_imports()
    with pg.connect(ctx.dbname) as conn:
        results.write(json.dumps({"ready": path}) + "\n")
        results.flush()
        for line in commands:
            cmd = json.loads(line)
            if cmd.get("quit"):
                break
            rep_ctx = replace(ctx, rep=int(cmd["rep"]))
            try:
                measured = PATHS[path](rep_ctx, conn)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-6)}"
                measured = [
                    Measurement(p, rep_ctx.rep, "error", error=error) for p in REPORTS[path]
                ]
            # Drop the target now: its autovacuum must not run into the next path's timing.
            pg.drop_schema(conn, ctx.schema)
            results.write(json.dumps([m.as_dict() for m in measured], default=str) + "\n")
            results.flush()


def _warm_imports() -> None:
    """Import the package (and SQLAlchemy) before the first timed repetition, not inside it."""
    try:
        import sync_pipeline
        import sync_pipeline.senders  # noqa: F401
    except ImportError:
        pass  # the engine paths then report 'pending'


def main() -> None:
    cfg = json.loads(sys.argv[1])
    results = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything printed by libraries lands in the log, not in the result stream
    serve(cfg, sys.stdin, results)


if __name__ == "__main__":
    main()
