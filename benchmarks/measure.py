"""One timed operation: wall time, peak RSS of this process, WAL written, checks on the outcome.

Peak RSS: each path runs in its own worker process. Right before the timed operation the worker
garbage-collects, returns Arrow's unused pool memory, and resets the kernel's high-water mark
(`echo 5 > /proc/self/clear_refs`, Linux >= 4.0). `VmHWM` read right after the operation is then
the peak resident set of the whole process *during that operation* (interpreter, imported
libraries and the batch held in memory included), not polluted by set-up work or by other paths.
Where clear_refs is not writable the process-lifetime `ru_maxrss` is reported instead (flagged).
"""

import cProfile
import gc
import os
import pstats
import resource
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql

from benchmarks import pg
from benchmarks.generate import Truth
from benchmarks.memtrace import RssSampler, status_mb

Status = Literal["ok", "error", "pending", "skipped"]
T = TypeVar("T")


class EnginePending(RuntimeError):
    """The sync engine is not importable yet (the lead is writing it); the row is marked pending."""


@dataclass(frozen=True, slots=True)
class Ctx:
    """What a worker needs to run one path: where, on what data, and what is correct."""

    dbname: str
    schema: str
    data_dir: Path
    truth: Truth
    expected_checksum: tuple[int, str]
    batch2: pa.Table
    rep: int = 0
    profile_dir: Path | None = None  # set: timed operations run under cProfile (slower!)

    @property
    def url(self) -> str:
        return pg.sa_url(self.dbname, self.schema)


@dataclass(slots=True)
class Measurement:
    path: str
    rep: int
    status: Status = "ok"
    seconds: float | None = None
    base_rss_mb: float | None = None
    peak_rss_mb: float | None = None
    rss_method: str = "clear_refs+VmHWM"
    wal_mb: float | None = None
    load_1m: float | None = None  # the machine's 1-minute load average before the operation
    counts: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # path-specific figures (run_s, ...)

    def check(self, name: str, ok: bool, detail: Any = None) -> bool:
        self.checks.append({"name": name, "ok": bool(ok), "detail": detail})
        return bool(ok)

    def expect(self, name: str, got: Any, want: Any) -> bool:
        return self.check(name, got == want, {"got": got, "want": want})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def timed(
    ctx: Ctx, path: str, op: Callable[[], T], admin: psycopg.Connection[Any]
) -> tuple[Measurement, T | None]:
    """Run `op` once, measured; an exception becomes an error (or pending) measurement."""
    m = Measurement(path, ctx.rep)
    gc.collect()
    pa.default_memory_pool().release_unused()
    if not _reset_peak():
        m.rss_method = "ru_maxrss (process lifetime; clear_refs unavailable)"
    m.base_rss_mb = status_mb("VmRSS")
    m.load_1m = os.getloadavg()[0]
    lsn = pg.wal_lsn(admin)
    profiler = cProfile.Profile() if ctx.profile_dir is not None else None
    sampler: AbstractContextManager[Any] = (
        RssSampler() if ctx.profile_dir is not None else nullcontext()
    )
    start = time.perf_counter()
    try:
        with sampler:
            value: T | None = op() if profiler is None else profiler.runcall(op)
    except Exception as exc:
        value = None
        m.status = "pending" if _is_pending(exc) else "error"
        m.error = f"{type(exc).__name__}: {exc}"[:2000]
        if m.status == "error":
            m.error += "\n" + "".join(traceback.format_exc(limit=-6))[-3000:]
    m.seconds = time.perf_counter() - start
    if profiler is not None and isinstance(sampler, RssSampler) and ctx.profile_dir is not None:
        _write_profile(profiler, sampler, ctx.profile_dir / f"{path}-rep{ctx.rep}.txt")
    peak = status_mb("VmHWM")
    if peak is None or m.rss_method != "clear_refs+VmHWM":
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m.peak_rss_mb = peak
    m.wal_mb = pg.wal_bytes_since(admin, lsn) / 2**20
    return m, value


def _write_profile(profiler: cProfile.Profile, sampler: RssSampler, target: Path) -> None:
    """Where the RSS peaked, then the 40 most expensive calls by cumulative and own time."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w") as f:
        f.write(sampler.report() + "\n")
        stats = pstats.Stats(profiler, stream=f).strip_dirs()
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(40)


def _is_pending(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, EnginePending):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def load_batch1(ctx: Ctx, conn: psycopg.Connection[Any], *, fillfactor: int | None = None) -> None:
    """Fresh indexed target holding batch 1 (streamed from Parquet by COPY), vacuumed and
    analyzed, server settled. `fillfactor` leaves room in each page for HOT updates."""
    pg.fresh_schema(conn, ctx.schema)
    if fillfactor is not None:
        conn.execute(
            sql.SQL("ALTER TABLE {} SET (fillfactor = {})").format(
                sql.Identifier(ctx.schema, "customers"), sql.Literal(fillfactor)
            )
        )
    source = pq.ParquetFile(ctx.data_dir / "batch1.parquet")
    pg.copy_batches(
        conn, ctx.schema, "customers", source.iter_batches(batch_size=pg.COPY_CHUNK_ROWS)
    )
    pg.vacuum_analyze(conn, ctx.schema)
    pg.settle(conn)
