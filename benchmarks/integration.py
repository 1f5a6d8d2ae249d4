"""The integration points with the sync engine: the only code that calls into sync_pipeline.

When the engine lands on main, this file is where the benchmark meets it. Everything else in
`benchmarks/` only passes URLs, table names and Arrow tables around.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.measure import EnginePending

BatchMode = Literal["ledger", "column"]


def _engine() -> Any:
    """The sync_pipeline package, or EnginePending when its public API is not there yet."""
    try:
        import sync_pipeline
        from sync_pipeline.engine import comparators

        sync_pipeline.import_records  # noqa: B018 - probe the public API
        sync_pipeline.missing_after_batch  # noqa: B018
        comparators.casefold  # noqa: B018
    except (ImportError, AttributeError) as exc:
        raise EnginePending(f"sync engine not available yet ({exc})") from exc
    return sync_pipeline


def engine_sync(
    engine_url: str,
    table: str,
    batch2_arrow: pa.Table,
    *,
    batch_mode: BatchMode = "ledger",
    events: bool = False,
) -> Any:
    """Our engine's full sync of a batch: overwrite matched rows, match by external_ref
    (`events`: with change events recorded)."""
    sp = _engine()
    from sync_pipeline.engine import comparators

    return sp.import_records(
        engine_url,
        table,
        batch2_arrow,
        strategy="overwrite",
        match_by="external_ref",
        comparators={"email": comparators.casefold},
        batch_mode=batch_mode,
        events=events,
    )


def engine_sync_stream(engine_url: str, table: str, parquet: Path, chunk_rows: int) -> Any:
    """The same sync fed as a stream of Arrow chunks read from Parquet (bounded memory)."""
    sp = _engine()
    from sync_pipeline.engine import comparators

    chunks = pq.ParquetFile(parquet).iter_batches(batch_size=chunk_rows)
    return sp.import_records(
        engine_url,
        table,
        (pa.Table.from_batches([b]) for b in chunks),
        strategy="overwrite",
        match_by="external_ref",
        comparators={"email": comparators.casefold},
        batch_mode="ledger",
    )


def _sender(url: str) -> Any:
    """The SQL sender of the benchmark's sender table, at its default chunk size."""
    from sync_pipeline.senders import build_sender

    return build_sender("sql", url=url, table="customers")


def sender_read(sender_url: str) -> Iterator[pa.Table]:
    """The SQL sender's chunks of batch 2, nothing else."""
    _engine()
    return _sender(sender_url).read(None)  # type: ignore[no-any-return]


def engine_sync_sender(engine_url: str, table: str, sender_url: str) -> Any:
    """`BatchImport.run(sender.read(None))`, the sync at its default batch mode."""
    sp = _engine()
    from sync_pipeline.engine import comparators

    sync = sp.BatchImport(
        engine_url,
        table,
        strategy="overwrite",
        match_by="external_ref",
        comparators={"email": comparators.casefold},
    )
    return sync.run(_sender(sender_url).read(None))


def missing_after(engine_url: str, table: str, batch_id: int) -> list[dict[str, Any]]:
    """Rows missing after `batch_id`, as the engine reports them (ledger or column mode)."""
    return list(_engine().missing_after_batch(engine_url, table, batch_id))


def result_counts(result: Any) -> dict[str, Any]:
    """The ImportResult's counters as plain JSON values."""
    names = ("created", "updated", "unchanged", "skipped", "missing", "deleted", "batch_id")
    out: dict[str, Any] = {n: getattr(result, n, None) for n in names}
    out["errors"] = len(getattr(result, "errors", None) or [])
    return out
