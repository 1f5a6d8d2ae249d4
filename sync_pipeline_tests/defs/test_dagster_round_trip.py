"""Values cross the whole four-asset path unchanged: sender -> staged chunks -> target, on
Postgres and SQLite (docs/semantics.md §3.9a; issue 10: int64 over its whole range, numeric
with its scale, aware and naive timestamps, JSON, unicode text)."""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa

from sync_pipeline.defs.factory import build_location
from sync_pipeline.defs.io import StagingIOManager
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.syncs import parse_syncs
from sync_pipeline_tests.dbs import TestDb
from sync_pipeline_tests.defs.conftest import run

pytestmark = pytest.mark.integration

UTC_PLUS_2 = dt.timezone(dt.timedelta(hours=2))
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "big": 2**53 + 1,
        "amount": Decimal("1234567890123456789012345678.1234567891"),
        "at": dt.datetime(2026, 1, 3, 10, 0, 0, 123456, tzinfo=UTC_PLUS_2),
        "naive": dt.datetime(2026, 1, 3, 23, 59, 59, 999999),
        "doc": {"a": [1, 2.5, "x"], "ü": None, "big": 2**63 - 1},
        "name": 'Zoë 日本 😀\n"quoted", \\ tab\t',
    },
    {
        "id": 2,
        "big": 2**63 - 1,
        "amount": Decimal("-0.0000000001"),
        "at": dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        "naive": dt.datetime(1, 1, 1),
        "doc": [],
        "name": "",
    },
    {
        "id": 3,
        "big": -(2**63),
        "amount": Decimal("0E-10"),
        "at": None,
        "naive": None,
        "doc": "text",
        "name": None,
    },
    # a null beside 2**53 + 1 is what turned the column into float64 on the pandas path
    {"id": 4, "big": None, "amount": None, "at": None, "naive": None, "doc": None, "name": "x"},
]
POSTGRES_ONLY = ("amount", "at")  # SQLite stores neither exactly


def _table(name: str, postgres: bool) -> sa.Table:
    columns = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("big", sa.BigInteger),
        sa.Column("naive", sa.DateTime()),
        sa.Column("doc", sa.JSON),
        sa.Column("name", sa.Text),
    ]
    if postgres:
        columns += [
            sa.Column("amount", sa.Numeric(38, 10)),
            sa.Column("at", sa.DateTime(timezone=True)),
        ]
    if name == "vals":
        columns.append(sa.Column("last_batch_id", sa.BigInteger))
    return sa.Table(name, sa.MetaData(), *columns)


def _defs(db: TestDb, staging_dir: Path) -> dg.Definitions:
    specs = parse_syncs(
        {
            "syncs": [
                {
                    "name": "vals",
                    "sender": {"kind": "sql", "table": "vals_src", "chunk_size": 2},
                    "table": "vals",
                    "match_by": ["id"],
                    "strategy": "overwrite",
                }
            ]
        }
    )
    resources = {
        "target_db": SqlDatabase(url=db.url),
        "sender_db": SqlDatabase(url=db.url),
        "io_manager": StagingIOManager(base_dir=str(staging_dir)),
    }
    return build_location(specs, resources)


def test_every_value_lands_unchanged_through_the_four_assets(
    db: TestDb, tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    postgres = db.engine.dialect.name == "postgresql"
    rows = [{k: v for k, v in r.items() if postgres or k not in POSTGRES_ONLY} for r in ROWS]
    db.create(_table("vals_src", postgres), _table("vals", postgres))
    with db.engine.begin() as conn:
        conn.execute(_table("vals_src", postgres).insert(), rows)
    defs = _defs(db, tmp_path / "staging")

    first = run(defs, "vals_sync", instance)
    again = run(defs, "vals_sync", instance)

    assert first.success and again.success
    stored = [{k: r[k] for k in rows[0]} for r in db.rows("vals")]
    assert stored == rows
    counts = again.asset_materializations_for_node("vals__applied")[0].metadata
    assert (counts["created"].value, counts["updated"].value) == (0, 0)
    assert counts["unchanged"].value == len(rows)
