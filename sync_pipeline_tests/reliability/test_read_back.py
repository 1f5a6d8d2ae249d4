"""Issue 8 items 2 and 3: whatever Postgres stores, the next import can read back unchanged."""

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sync_pipeline import import_records

pytestmark = pytest.mark.integration


def wide(md: sa.MetaData | None = None) -> sa.Table:
    return sa.Table(
        "wide",
        md or sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("t", sa.Text),
        sa.Column("j", postgresql.JSONB),
        sa.Column("b", sa.LargeBinary),
        sa.Column("last_batch_id", sa.BigInteger),
    )


BREAKS = ["\n", "\r", "\r\n", '"\n,"', "\\.\n"]


def test_60000_rows_with_line_breaks_in_text_are_read_back_by_the_next_import(pg):
    pg.create(wide())
    breaks = [BREAKS[i % len(BREAKS)] for i in range(60_000)]
    records = [{"id": i, "t": f"row{b}{i}{b}", "j": {"k": f"a{b}b"}} for i, b in enumerate(breaks)]
    import_records(pg.engine, "wide", records, "overwrite")
    again = import_records(pg.engine, "wide", records, "overwrite")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 60_000)
    third = import_records(pg.engine, "wide", [{"id": 7, "t": "new\r"}], "merge")
    assert third.updated == 1
    rows = pg.execute("SELECT id, t FROM wide WHERE id BETWEEN 6 AND 9 ORDER BY id")
    assert rows == [(6, "row\r6\r"), (7, "new\r"), (8, 'row"\n,"8"\n,"'), (9, "row\\.\n9\\.\n")]


LARGE = [
    pytest.param({"t": "x\n" * 2_000_000}, id="4MB-text"),
    pytest.param({"j": {"k": "y" * 5_000_000, "n": [1, 2.5, None]}}, id="5MB-jsonb"),
    pytest.param({"b": bytes(range(256)) * 8_000}, id="2MB-bytea"),
    pytest.param(
        {"t": "z" * 20_000_000, "b": b"\x00" * 3_000_000}, id="20MB-text-beyond-one-block"
    ),
]


@pytest.mark.parametrize("value", LARGE)
def test_one_large_value_leaves_the_table_importable(pg, value):
    pg.create(wide())
    small = [{"id": i, "t": f"s{i}"} for i in range(2, 500)]
    records = [{"id": 1, **value}, *small]
    import_records(pg.engine, "wide", records, "overwrite")
    again = import_records(pg.engine, "wide", records, "overwrite")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 499)
    stored = pg.rows("wide")[0]
    assert {k: stored[k] for k in value} == value


def test_large_values_in_many_rows_straddle_no_block(pg):
    """Rows of 3 MB each fill several 16 MB read blocks; every block still parses."""
    pg.create(wide())
    records = [{"id": i, "t": f"{i}\n" + "v" * 3_000_000} for i in range(12)]
    import_records(pg.engine, "wide", records, "overwrite")
    again = import_records(pg.engine, "wide", records, "overwrite")
    assert again.unchanged == 12
