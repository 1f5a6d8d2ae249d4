"""An incremental sync: the cursor moves only after a successful `applied`; full_refresh resets."""

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline.senders.state import CursorStore
from sync_pipeline.syncs import parse_syncs
from sync_pipeline_tests.dbs import TestDb
from sync_pipeline_tests.defs.conftest import QUIET, Location

pytestmark = pytest.mark.integration


def add_rows(url: str, *rows: tuple[int, str | None]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS events_src (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER)"
        )
        for id_, name in rows:
            conn.execute(
                sa.text("INSERT INTO events_src VALUES (:id, :name, :id)"),
                {"id": id_, "name": name},
            )
    engine.dispose()


def extracted_rows(result: dg.ExecuteInProcessResult) -> int:
    [event] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["events", "extract"])
    ]
    return int(event.metadata["dagster/row_count"].value)  # type: ignore[arg-type]


def test_cursor_advances_only_after_a_successful_apply(
    db: TestDb, tmp_path: Path, location: Location, instance: dg.DagsterInstance
) -> None:
    source = f"sqlite:///{tmp_path / 'events.db'}"
    store = str(tmp_path / "cursors.db")
    [spec] = parse_syncs(
        {
            "syncs": [
                {
                    "name": "events",
                    "sender": {
                        "kind": "sql",
                        "url": source,
                        "table": "events_src",
                        "cursor_column": "seq",
                        "cursor_store": store,
                    },
                    "table": "events",
                    "match_by": "id",
                    "strategy": "overwrite",
                    "rules": [{"name": "named", "kind": "not_null", "columns": ["name"]}],
                }
            ]
        }
    )
    job = location([spec]).resolve_job_def("events_sync")

    def run(**config: object) -> dg.ExecuteInProcessResult:
        ops = {"ops": {"events__extract": {"config": config}}} if config else {}
        return job.execute_in_process(
            instance=instance, raise_on_error=False, run_config={**QUIET, **ops}
        )

    add_rows(source, (1, "a"), (2, "b"), (3, "c"))
    first = run()
    assert first.success and extracted_rows(first) == 3
    assert CursorStore(store).get("events") == 3

    add_rows(source, (4, "d"), (5, "e"))
    second = run()
    assert second.success and extracted_rows(second) == 2  # only the new rows
    assert CursorStore(store).get("events") == 5
    assert len(db.rows("events")) == 5

    add_rows(source, (6, None))  # the blocking check fails: applied does not run
    failed = run()
    assert not failed.success and extracted_rows(failed) == 1
    assert CursorStore(store).get("events") == 5
    assert len(db.rows("events")) == 5

    db.execute("UPDATE events SET name = 'changed' WHERE id = 1")
    engine = sa.create_engine(source)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE events_src SET name = 'f' WHERE id = 6")
    engine.dispose()
    refresh = run(full_refresh=True)
    assert refresh.success and extracted_rows(refresh) == 6  # everything, from the start
    assert CursorStore(store).get("events") == 6
    assert [r["name"] for r in db.rows("events")] == ["a", "b", "c", "d", "e", "f"]
