"""Recording: one event per inserted, updated or deleted row, in the writing transaction."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sync_pipeline import events, import_multiple, import_records
from sync_pipeline.errors import ConfigError
from sync_pipeline_tests.events.helpers import accounts, all_events, effects, has_event_tables

pytestmark = pytest.mark.integration

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
SEED = [
    {"id": 1, "tenant": "A", "name": "ann", "balance": "10.50"},
    {"id": 2, "tenant": "A", "name": "bob", "balance": "0"},
    {"id": 3, "tenant": "B", "name": "cid", "balance": "7.25"},
]


@pytest.fixture
def bank(db):
    db.create(accounts())
    return db


def test_one_event_per_written_row_none_for_unchanged_or_stamped_rows(bank):
    first = import_records(bank.engine, "accounts", SEED, events=True)
    batch = [
        {"id": 1, "tenant": "A", "name": "ann", "balance": "10.50"},  # unchanged: only stamped
        {"id": 2, "tenant": "A", "name": "bob", "balance": "99.00", "gone": False},
        {"id": 3, "tenant": "B", "name": "cid", "gone": True},
        {"id": 4, "tenant": "B", "name": "dan", "balance": "1"},
    ]
    second = import_records(
        bank.engine, "accounts", batch, "overwrite", delete_flag="gone", events=True
    )
    assert (first.events, second.events) == (3, 3)
    assert (second.unchanged, second.updated, second.deleted, second.created) == (1, 1, 1, 1)
    assert effects(bank.engine) == [
        ("inserted", 1), ("inserted", 2), ("inserted", 3),
        ("inserted", 4), ("updated", 2), ("deleted", 3),
    ]  # fmt: skip
    update = all_events(bank.engine)[4]
    assert update.changes["balance"] == (Decimal("0.00"), Decimal("99.00"))
    assert update.changes["last_batch_id"] == (first.batch_id, second.batch_id)
    assert set(update.changes) == {"balance", "last_batch_id"}
    assert update.batch_id == second.batch_id and update.txid == second.txid


def test_a_no_change_resync_records_nothing(bank):
    import_records(bank.engine, "accounts", SEED, events=True)
    again = import_records(bank.engine, "accounts", SEED, "overwrite", events=True)
    assert (again.unchanged, again.events) == (3, 0)
    assert len(all_events(bank.engine)) == 3


def test_insert_events_carry_the_written_row_including_generated_ids(bank):
    rows = [{"tenant": "A", "name": "x", "balance": "1.10"}, {"tenant": "B", "name": "y"}]
    result = import_records(bank.engine, "accounts", rows, "append", batch_id=False, events=True)
    stored = {r["id"]: r for r in bank.rows("accounts")}
    recorded = {e.pk["id"]: dict(e.changes) for e in all_events(bank.engine)}
    assert result.events == 2 and recorded == stored


def test_keys_new_values_on_insert_and_update_old_values_on_delete(bank):
    keyed = {"keys": ["tenant"]}
    import_records(bank.engine, "accounts", SEED, events=keyed, batch_id=False)
    moved = [{"id": 1, "tenant": "B", "name": "ann", "balance": "10.50"}]
    import_records(bank.engine, "accounts", moved, "overwrite", events=keyed, batch_id=False)
    import_records(
        bank.engine, "accounts", [{"id": 2, "x": 1}], "overwrite", delete_flag="x",
        events=keyed, batch_id=False,
    )  # fmt: skip
    inserted, update, delete = [all_events(bank.engine)[i] for i in (0, 3, 4)]
    assert inserted.keys == {"tenant": "A"}
    assert update.keys == {"tenant": "B"} and update.changes == {"tenant": ("A", "B")}
    assert (delete.effect, delete.pk, delete.keys) == ("deleted", {"id": 2}, {"tenant": "A"})
    assert delete.changes == {}


def test_a_soft_delete_is_an_update_of_deleted_at(bank):
    import_records(bank.engine, "accounts", SEED, events=True, batch_id=False)
    import_records(
        bank.engine, "accounts", [{"id": 3, "gone": True}], "overwrite", delete_flag="gone",
        delete_mode="soft_delete", clock=lambda: T0, events=True, batch_id=False,
    )  # fmt: skip
    last = all_events(bank.engine)[-1]
    assert (last.effect, last.pk) == ("updated", {"id": 3})
    old, new = last.changes["deleted_at"]
    assert old is None and new.replace(tzinfo=new.tzinfo or dt.UTC) == T0


def test_events_off_creates_nothing_and_counts_zero(bank):
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(bank.engine, "before_cursor_execute", listen)
    result = import_records(bank.engine, "accounts", SEED)
    sa.event.remove(bank.engine, "before_cursor_execute", listen)
    assert result.events == 0
    assert statements and not [s for s in statements if "_sync_event" in s]
    assert not has_event_tables(bank.engine)
    assert events.read(bank.engine) == []


def test_import_multiple_records_every_table_in_one_commit(bank):
    bank.create(accounts(name="ledger"))
    results = import_multiple(bank.engine, {"accounts": SEED, "ledger": SEED[:1]}, events=True)
    (commit,) = events.read(bank.engine)
    assert [r.events for r in results.values()] == [3, 1]
    assert set(commit.tables) == {"accounts", "ledger"} and len(commit.events) == 4


def test_keys_must_be_columns_of_the_table(bank):
    with pytest.raises(ConfigError, match="tenantt"):
        import_records(bank.engine, "accounts", SEED, events={"keys": ["tenantt"]})
    assert bank.rows("accounts") == []


@pytest.mark.parametrize("bad", [{"key": ["tenant"]}, "yes", {"keys": "tenant"}, {"keys": [1]}])
def test_bad_events_options_are_config_errors(bank, bad):
    with pytest.raises(ConfigError, match="events"):
        import_records(bank.engine, "accounts", SEED, events=bad)


def test_values_of_every_kind_come_back_as_select_gives_them(db):
    md = sa.MetaData()
    table = sa.Table(
        "typed", md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("amount", sa.Numeric(14, 2)),
        sa.Column("ratio", sa.Float),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("day", sa.Date),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("doc", sa.JSON),
        sa.Column("flag", sa.Boolean),
        sa.Column("note", sa.Text),
    )  # fmt: skip
    db.create(table)
    record = {
        "id": 1, "amount": Decimal("1234567890.12"), "ratio": 0.1,
        "at": T0, "day": dt.date(2030, 2, 3), "blob": b"\x00\xff", "doc": {"a": [1, None, 2.5]},
        "flag": True, "note": "x" * 20_000,
    }  # fmt: skip
    import_records(db.engine, "typed", [record], events=True, batch_id=False, timestamps=None)
    (event,) = all_events(db.engine)
    assert dict(event.changes) == db.rows("typed")[0]
    changed = {**record, "note": "y"}
    import_records(
        db.engine, "typed", [changed], "overwrite", events=True, batch_id=False, timestamps=None
    )
    assert all_events(db.engine)[-1].changes == {"note": ("x" * 20_000, "y")}


@pytest.mark.parametrize("numeric", [sa.Numeric(30, 10), sa.Numeric()], ids=["p30s10", "bare"])
def test_postgres_numerics_keep_every_digit(pg, numeric):
    pg.create(sa.Table("n", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("v", numeric)))  # fmt: skip
    stored = []
    for value in [Decimal("12345678901234567890.0123456789"), Decimal("-0.0000000001")]:
        import_records(
            pg.engine, "n", [{"id": 1, "v": value}], "overwrite", events=True, batch_id=False
        )
        stored.append(pg.rows("n")[0]["v"])
    inserted, updated = all_events(pg.engine)
    assert inserted.changes["v"] == stored[0] and updated.changes["v"] == tuple(stored)
    assert str(updated.changes["v"][1]) == str(stored[1])  # the same digits, not just equal


def test_applying_a_planned_diff_records_its_events(bank):
    from sync_pipeline import BatchImport

    batch = BatchImport(bank.engine, "accounts", "overwrite", batch_id=False, events=True)
    result = batch.apply(batch.preview(SEED))
    assert result.events == 3 and effects(bank.engine) == [("inserted", i) for i in (1, 2, 3)]


def test_postgres_records_set_based_one_statement_per_write_not_per_row(pg):
    pg.create(accounts())
    events.install(pg.engine)
    rows = [{"id": i, "tenant": "A", "name": f"n{i}"} for i in range(1, 2001)]
    import_records(pg.engine, "accounts", rows, events=True, batch_id=False)
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(pg.engine, "before_cursor_execute", listen)
    changed = [{**r, "name": "x"} if r["id"] % 2 else {**r, "gone": True} for r in rows]
    result = import_records(
        pg.engine, "accounts", changed, "overwrite", delete_flag="gone", events=True, batch_id=False
    )
    sa.event.remove(pg.engine, "before_cursor_execute", listen)
    assert (result.updated, result.deleted, result.events) == (1000, 1000, 2000)
    assert len([s for s in statements if "INSERT INTO _sync_events" in s]) == 2
