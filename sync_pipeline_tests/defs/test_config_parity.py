"""Each engine option written in a sync's YAML leaves the same target state as import_records."""

from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from sync_pipeline import comparators, import_records
from sync_pipeline.errors import SyncError
from sync_pipeline.syncs import parse_syncs, runner
from sync_pipeline.syncs.staging import ChunkList
from sync_pipeline_tests.dbs import TestDb

pytestmark = pytest.mark.integration

HERE = "sync_pipeline_tests.defs.test_config_parity"
SEEN: list[int] = []


def rows(records: list[dict[str, Any]]) -> ChunkList:
    """Records as the one-chunk batch the sync's steps take."""
    return ChunkList.of(pa.Table.from_pylist(records))


def lower_key(value: Any, record: Any) -> Any:
    """Key part for comparison only: codes match case-insensitively."""
    return value.lower() if isinstance(value, str) else value


def code_key(record: Any) -> Any:
    return str(record["code"]).lower()


def keep_longer(new: Any, existing: Any, record: Any) -> Any:
    """update_if_exists function: the longer of the incoming and the stored note."""
    old = existing.get("note") or ""
    return new if len(str(new or "")) > len(old) else old


def count_inserted(rows: list[dict[str, Any]]) -> None:
    SEEN.append(len(rows))


SEED = [
    {"id": 1, "code": "A1", "name": "Ann", "amount": Decimal("10.00"), "tenant": "a", "note": "x"},
    {"id": 2, "code": "B2", "name": "Bob", "amount": Decimal("20.00"), "tenant": "a", "note": "y"},
    {"id": 3, "code": "C3", "name": "Cid", "amount": Decimal("30.00"), "tenant": "b", "note": "z"},
]
BATCH = [
    {
        "id": 1,
        "code": "a1",
        "name": "ANN",
        "amount": Decimal("10.001"),
        "tenant": "a",
        "note": "xx",
    },
    {"id": 2, "code": "B2", "name": "Bobby", "amount": Decimal("25.00"), "tenant": "a", "note": ""},
    {"id": 4, "code": "D4", "name": "Dan", "amount": Decimal("40.00"), "tenant": "b", "note": "w"},
]
NEW_IDS = [{**r, "id": r["id"] + 10} for r in BATCH]  # matched by code, not by id

# (id, YAML options, the same options for import_records, batch)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[dict[str, Any]]]] = [
    ("match_by_field", {"match_by": "code"}, {"match_by": "code"}, NEW_IDS),
    (
        "match_by_function",
        {"match_by": {"code": f"{HERE}:lower_key"}, "strategy": "overwrite"},
        {"match_by": {"code": lower_key}, "strategy": "overwrite"},
        NEW_IDS,
    ),
    (
        "case_insensitive_keys",
        {"match_by": ["code"], "case_sensitive": False, "strategy": "merge"},
        {"match_by": ["code"], "case_sensitive": False, "strategy": "merge"},
        [{k: v for k, v in r.items() if k != "id"} | {"id": r["id"] + 10} for r in BATCH],
    ),
    (
        "null_keys_skip",
        {"match_by": "code", "null_keys": "skip", "strategy": "overwrite"},
        {"match_by": "code", "null_keys": "skip", "strategy": "overwrite"},
        [*NEW_IDS, {"id": 9, "code": None, "name": "nobody", "tenant": "a"}],
    ),
    (
        "duplicates_last",
        {"duplicates": "last", "strategy": "overwrite"},
        {"duplicates": "last", "strategy": "overwrite"},
        [*BATCH, {**BATCH[0], "name": "Ann again"}],
    ),
    (
        "chunks_and_callbacks",
        {
            "chunk_size": 1,
            "callback_chunk_size": 1,
            "strategy": "overwrite",
            "callbacks": {"on_inserted": f"{HERE}:count_inserted"},
            "on_updated_when": ["name"],
        },
        {
            "chunk_size": 1,
            "callback_chunk_size": 1,
            "strategy": "overwrite",
            "on_inserted": count_inserted,
            "on_updated_when": ["name"],
        },
        BATCH,
    ),
    ("batch_column", {"batch_column": "seen_in"}, {"batch_column": "seen_in"}, BATCH),
    ("batch_mode_ledger", {"batch_mode": "ledger"}, {"batch_mode": "ledger"}, BATCH),
    (
        "delete_flag",
        {"delete_flag": "gone", "strategy": "overwrite"},
        {"delete_flag": "gone", "strategy": "overwrite"},
        [{**r, "gone": r["id"] == 2} for r in BATCH],
    ),
    (
        "comparison_key",
        {"comparison_key": f"{HERE}:code_key", "strategy": "overwrite"},
        {"comparison_key": code_key, "strategy": "overwrite"},
        NEW_IDS,
    ),
    (
        "comparators",
        {
            "strategy": "overwrite",
            "comparators": {
                "name": "casefold",
                "note": "ignore",
                "amount": {"float_tolerance": 0.01},
            },
        },
        {
            "strategy": "overwrite",
            "comparators": {
                "name": comparators.casefold,
                "note": comparators.ignore,
                "amount": comparators.float_tolerance(0.01),
            },
        },
        BATCH,
    ),
    ("update_list", {"update_if_exists": ["name"]}, {"update_if_exists": ["name"]}, BATCH),
    (
        "update_mapping",
        {
            "update_if_exists": {
                "name": {"value": "fixed"},
                "amount": {"sql": "amount + 1"},
                "note": {"function": f"{HERE}:keep_longer"},
            }
        },
        {
            "update_if_exists": {
                "name": "fixed",
                "amount": sa.text("amount + 1"),
                "note": keep_longer,
            }
        },
        BATCH,
    ),
    (
        "where_scope",
        {"where": {"tenant": "a"}, "strategy": "merge", "on_error": "skip_record"},
        {"where": {"tenant": "a"}, "strategy": "merge", "on_error": "skip_record"},
        [r for r in BATCH if r["tenant"] == "a"],
    ),
]


def _table(name: str) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(20), unique=True),
        sa.Column("name", sa.Text),
        sa.Column("amount", sa.Numeric(12, 3)),
        sa.Column("tenant", sa.String(10)),
        sa.Column("note", sa.Text),
        sa.Column("last_batch_id", sa.BigInteger),
        sa.Column("seen_in", sa.BigInteger),
    )


@pytest.mark.parametrize(
    ("yaml_options", "kwargs", "batch"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_yaml_option_matches_the_library(
    db: TestDb, yaml_options: dict[str, Any], kwargs: dict[str, Any], batch: list[dict[str, Any]]
) -> None:
    db.create(_table("by_yaml"), _table("by_library"))
    for table in ("by_yaml", "by_library"):
        import_records(db.engine, table, SEED, "overwrite")
    [spec] = parse_syncs(
        {"syncs": [{"name": "s", "sender": {"kind": "fake"}, "table": "by_yaml", **yaml_options}]}
    )
    SEEN.clear()
    by_yaml = runner.apply(db.engine, spec, rows(batch), None)
    seen_by_yaml = list(SEEN)
    SEEN.clear()
    kwargs = dict(kwargs)
    strategy = kwargs.pop("strategy", None)
    by_library = import_records(db.engine, "by_library", pd.DataFrame(batch), strategy, **kwargs)
    assert db.rows("by_yaml") == db.rows("by_library")
    same = {"txid": None, "table": None}
    assert by_yaml.as_dict() | same == by_library.as_dict() | same
    assert seen_by_yaml == SEEN
    assert db.rows("by_yaml") != db.rows("by_yaml", order_by="id")[:0]  # rows are there


@pytest.mark.parametrize(
    ("policy", "columns"), [("ignore", ["note"]), ("add_columns", ["note", "extra"])]
)
def test_drift_policy_from_yaml(db: TestDb, policy: str, columns: list[str]) -> None:
    db.create(_table("by_yaml"))
    [spec] = parse_syncs(
        {"syncs": [{"name": "s", "sender": {"kind": "fake"}, "table": "by_yaml", "drift": policy}]}
    )
    runner.apply(db.engine, spec, rows([{"id": 1, "note": "n", "extra": "e"}]), None)
    [row] = db.rows("by_yaml")
    assert [c for c in ("note", "extra") if row.get(c) is not None] == columns


def test_drift_error_is_the_default(db: TestDb) -> None:
    db.create(_table("by_yaml"))
    [spec] = parse_syncs({"syncs": [{"name": "s", "sender": {"kind": "fake"}, "table": "by_yaml"}]})
    with pytest.raises(SyncError, match="extra"):
        runner.apply(db.engine, spec, rows([{"id": 1, "extra": "e"}]), None)
    assert db.rows("by_yaml") == []
