"""Writer: order of steps and rejection rules of Phoenix.Sync.Writer (reference §A2)."""

import uuid

import pytest
import sqlalchemy as sa

from sync_pipeline import Writer, WriteRejected
from sync_pipeline.engine.mutations import Operation, Transaction
from sync_pipeline.engine.mutations.casting import cast_row
from sync_pipeline.errors import ConfigError
from sync_pipeline_tests import dbs
from sync_pipeline_tests.engine.mutation_helpers import (
    SEEDED,
    StatementCounter,
    dele,
    ins,
    make_todos,
    payload,
    rows,
    upd,
)


def test_an_empty_writer_accepts_nothing(db: dbs.TestDb) -> None:
    make_todos(db)
    with pytest.raises(WriteRejected) as err:
        Writer().apply(payload(ins({"id": "3", "title": "x"})), db.engine)
    assert (err.value.step, err.value.index) == ("check", 0)
    assert rows(db) == SEEDED


def test_applies_a_mixed_transaction_with_the_exact_callback_sequence(db: dbs.TestDb) -> None:
    make_todos(db)
    calls: list[tuple] = []

    def load(data):
        calls.append(("load", data["id"]))
        return dict(db.rows("todos")[int(data["id"]) - 1])  # only ids 1 and 2 exist before

    def validate(row, changes, op):
        calls.append(("validate", op, row.get("id")))
        return {} if op == "delete" else cast_row(table, changes)

    def hook(name):
        return lambda conn, values, ctx: calls.append((name, ctx.index))

    table = sa.Table("todos", sa.MetaData(), autoload_with=db.engine)
    writer = Writer().allow(
        "todos", load=load, validate=validate, pre_apply=hook("pre"), post_apply=hook("post"),
        before_all=lambda conn: calls.append(("before_all",)),
    )  # fmt: skip
    txn = payload(
        ins({"id": "98", "title": "New", "completed": "false"}),
        upd({"id": "1", "title": "First todo"}, {"title": "Changed"}),
        dele({"id": "2"}),
        ins({"id": "99", "title": "Temp"}),
        dele({"id": "99"}),
        ins({"id": "100", "title": "Later"}),
        upd({"id": "100"}, {"completed": "true"}),
    )
    result = writer.apply(txn, db.engine)
    assert [c.operation for c in result.changes] == [
        "insert",
        "update",
        "delete",
        "insert",
        "delete",
        "insert",
        "update",
    ]
    assert rows(db) == [
        {"id": 1, "title": "Changed", "completed": False},
        {"id": 98, "title": "New", "completed": False},
        {"id": 100, "title": "Later", "completed": True},
    ]
    # load only for rows that existed before the transaction (1 and 2), never for 99 or 100
    assert [c for c in calls if c[0] == "load"] == [("load", "1"), ("load", "2")]
    assert calls[:6] == [
        ("before_all",), ("validate", "insert", None), ("pre", 0), ("post", 0),
        ("load", "1"), ("validate", "update", 1),
    ]  # fmt: skip
    assert calls.count(("before_all",)) == 1


def test_update_and_delete_must_carry_the_primary_key(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow("todos")
    for op in (upd({"title": "First todo"}, {"title": "x"}), dele({"title": "First todo"})):
        with pytest.raises(WriteRejected, match="missing required primary keys: \\['id'\\]") as err:
            writer.apply(payload(ins({"id": "5", "title": "ok"}), op), db.engine)
        assert (err.value.step, err.value.index) == ("check", 1)
    assert rows(db) == SEEDED


def test_default_validate_casts_strings_and_rejects_unknown_columns(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow("todos")
    writer.apply(payload(ins({"id": "7", "title": "t", "completed": "true"})), db.engine)
    assert rows(db)[-1] == {"id": 7, "title": "t", "completed": True}
    with pytest.raises(WriteRejected, match="unknown column 'owner'") as err:
        writer.apply(payload(upd({"id": "1"}, {"owner": "me"})), db.engine)
    assert err.value.step == "validate"


def test_missing_original_row_is_a_load_error(db: dbs.TestDb) -> None:
    make_todos(db)
    with pytest.raises(WriteRejected, match="No original record found for row") as err:
        Writer().allow("todos").apply(payload(upd({"id": "999"}, {"title": "x"})), db.engine)
    assert err.value.step == "load"


def test_operation_not_in_accept_is_rejected_at_check(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow("todos", accept=("insert", "update"))
    with pytest.raises(WriteRejected, match="delete is not accepted") as err:
        writer.apply(payload(ins({"id": "3", "title": "a"}), dele({"id": "1"})), db.engine)
    assert (err.value.step, err.value.index) == ("check", 1)
    assert rows(db) == SEEDED


@pytest.mark.parametrize("verdict", [False, "not yours", "raise"])
def test_check_runs_on_every_operation_before_any_database_access(db: dbs.TestDb, verdict) -> None:
    make_todos(db)
    seen = []

    def check(op: Operation):
        seen.append(op.index)
        if op.index == 2:
            if verdict == "raise":
                raise PermissionError("not yours")
            return verdict
        return None

    counter = StatementCounter(db.engine)
    try:
        with pytest.raises(WriteRejected) as err:
            Writer().allow("todos", check=check).apply(
                payload(
                    ins({"id": "3", "title": "a"}),
                    ins({"id": "4", "title": "b"}),
                    dele({"id": "1"}),
                ),
                db.engine,
            )
        assert counter.count == 0
    finally:
        counter.close()
    assert seen == [0, 1, 2]
    assert (err.value.step, err.value.index) == ("check", 2)
    if verdict != False:  # noqa: E712
        assert "not yours" in err.value.message
    assert rows(db) == SEEDED


def test_multiple_tables_and_before_all_once_per_table(db: dbs.TestDb) -> None:
    make_todos(db)
    make_todos(db, "notes")
    counts: dict[str, int] = {}

    def before(name):
        def run(conn):
            counts[name] = counts.get(name, 0) + 1
            return name

        return run

    seen_ctx = []
    writer = (
        Writer()
        .allow("todos", before_all=before("todos"))
        .allow(
            "notes",
            before_all=before("notes"),
            post_apply=lambda c, v, ctx: seen_ctx.append(ctx.before_all),
        )
    )
    writer.apply(
        payload(
            ins({"id": "3", "title": "a"}), ins({"id": "3", "title": "n"}, "notes"),
            upd({"id": "3"}, {"title": "b"}), upd({"id": "3"}, {"title": "m"}, "notes"),
        ),
        db.engine,
    )  # fmt: skip
    assert counts == {"todos": 1, "notes": 1}
    assert seen_ctx == ["notes", "notes"]
    assert rows(db)[-1]["title"] == "b" and rows(db, "notes")[-1]["title"] == "m"


def test_client_table_mapping_bare_and_exact(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow("todos", client_table="client_todos")
    writer.apply(payload(ins({"id": "3", "title": "a"}, ("any_schema", "client_todos"))), db.engine)
    writer.apply(payload(ins({"id": "4", "title": "b"}, "client_todos")), db.engine)
    exact = Writer().allow("todos", client_table=("client", "todos"))
    exact.apply(payload(ins({"id": "5", "title": "c"}, ("client", "todos"))), db.engine)
    for relation in (("public", "todos"), "todos2"):
        with pytest.raises(WriteRejected, match="does not accept writes"):
            exact.apply(payload(ins({"id": "6", "title": "d"}, relation)), db.engine)
    assert [r["id"] for r in rows(db)] == [1, 2, 3, 4, 5]


def test_bare_relation_matching_two_exact_mappings_is_ambiguous(db: dbs.TestDb) -> None:
    make_todos(db)
    make_todos(db, "todos_b")
    writer = (
        Writer()
        .allow("todos", client_table=("a", "todos"))
        .allow("todos_b", client_table=("b", "todos"))
    )
    with pytest.raises(WriteRejected, match="Multiple matches for relation 'todos'") as err:
        writer.apply(payload(ins({"id": "3", "title": "x"}, "todos")), db.engine)
    assert err.value.step == "check"
    writer.apply(payload(ins({"id": "3", "title": "x"}, ("b", "todos"))), db.engine)
    assert [r["id"] for r in rows(db, "todos_b")] == [1, 2, 3]
    with pytest.raises(ConfigError, match="already allowed"):
        writer.allow("todos", client_table=("a", "todos"))


def test_per_operation_overrides_take_precedence(db: dbs.TestDb) -> None:
    make_todos(db)
    used = []
    writer = Writer().allow(
        "todos",
        validate=lambda row, changes: used.append("top") or {"title": changes["title"], "id": 9},
        update={"validate": lambda row, changes: used.append("update") or {"title": "U"}},
        delete={"validate": lambda row: used.append("delete1")},
    )
    writer.apply(
        payload(ins({"title": "I"}), upd({"id": "1"}, {"title": "x"}), dele({"id": "2"})), db.engine
    )
    assert used == ["top", "update", "delete1"]
    assert rows(db) == [
        {"id": 1, "title": "U", "completed": False},
        {"id": 9, "title": "I", "completed": False},
    ]


def test_update_after_delete_of_the_same_row_fails(db: dbs.TestDb) -> None:
    make_todos(db)
    with pytest.raises(WriteRejected, match="deleted earlier") as err:
        Writer().allow("todos").apply(
            payload(dele({"id": "1"}), upd({"id": "1"}, {"title": "x"})), db.engine
        )
    assert (err.value.step, err.value.index) == ("load", 1)
    assert rows(db) == SEEDED


def test_load_errors_are_the_rejection_message(db: dbs.TestDb) -> None:
    make_todos(db)

    def load(conn, data):
        raise LookupError("todo belongs to someone else")

    with pytest.raises(WriteRejected, match="belongs to someone else") as err:
        Writer().allow("todos", load=load).apply(payload(dele({"id": "1"})), db.engine)
    assert err.value.step == "load"
    with pytest.raises(WriteRejected, match="No original record"):
        Writer().allow("todos", load=lambda data: None).apply(payload(dele({"id": "1"})), db.engine)
    with pytest.raises(WriteRejected, match="Invalid return value from load"):
        Writer().allow("todos", load=lambda data: 42).apply(payload(dele({"id": "1"})), db.engine)


def test_a_post_apply_failure_rolls_back_every_earlier_write(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow(
        "todos", post_apply=lambda conn, row, ctx: "quota" if ctx.index == 2 else None
    )
    with pytest.raises(WriteRejected, match="quota") as err:
        writer.apply(
            payload(
                ins({"id": "3", "title": "a"}), dele({"id": "1"}), ins({"id": "4", "title": "b"})
            ),
            db.engine,
        )
    assert (err.value.step, err.value.index) == ("post_apply", 2)
    assert rows(db) == SEEDED


def test_pre_apply_can_write_in_the_same_transaction(db: dbs.TestDb) -> None:
    table = make_todos(db)
    make_todos(db, "audit")

    def audit(conn, values, ctx):
        conn.execute(
            sa.text("INSERT INTO audit (id, title) VALUES (:i, :t)"),
            {"i": 10 + ctx.index, "t": ctx.operation.operation},
        )

    Writer().allow("todos", pre_apply=audit).apply(
        payload(ins({"id": "3", "title": "a"})), db.engine
    )
    assert rows(db, "audit")[-1] == {"id": 10, "title": "insert", "completed": False}
    assert table.name == "todos"


def test_txid_is_the_transaction_of_the_written_rows(db: dbs.TestDb) -> None:
    make_todos(db)
    result = (
        Writer()
        .allow("todos")
        .apply(payload(ins({"id": "3", "title": "a"}), upd({"id": "1"}, {"title": "b"})), db.engine)
    )
    if db.kind == "sqlite":
        assert result.txid is None
        return
    xmins = {r[0] for r in db.execute("SELECT xmin::text::bigint FROM todos WHERE id IN (1, 3)")}
    assert isinstance(result.txid, int)
    assert xmins == {result.txid % 2**32}


def test_accepts_engine_connection_and_url(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow("todos")
    writer.apply(payload(ins({"id": "3", "title": "url"})), db.url)
    with db.engine.connect() as conn:
        writer.apply(payload(ins({"id": "4", "title": "conn"})), conn)
    assert [r["id"] for r in rows(db)] == [1, 2, 3, 4]


def test_inside_a_caller_transaction_a_rejection_rolls_back_to_a_savepoint(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow("todos")
    with db.engine.connect() as conn, conn.begin():
        conn.execute(sa.text("INSERT INTO todos (id, title) VALUES (50, 'caller')"))
        with pytest.raises(WriteRejected):
            writer.apply(
                payload(ins({"id": "3", "title": "a"}), upd({"id": "999"}, {"title": "x"})), conn
            )
        writer.apply(payload(ins({"id": "4", "title": "b"})), conn)
    assert [r["id"] for r in rows(db)] == [1, 2, 4, 50]


def test_custom_parser_and_parsed_transactions(db: dbs.TestDb) -> None:
    make_todos(db)

    def parser(data):
        return [
            Operation.new(i, "INSERT", "todos", {}, {"id": str(n), "title": "p"})
            for i, n in enumerate(data["ids"])
        ]

    writer = Writer().allow("todos")
    writer.apply({"ids": [5, 6]}, db.engine, parser=parser)
    txn = writer.parse_transaction(payload(dele({"id": "5"})))
    assert isinstance(txn, Transaction) and txn.operations[0].relation == ("public", "todos")
    writer.apply(txn, db.engine)
    with pytest.raises(WriteRejected, match="no valid format or parser"):
        writer.apply("[]", db.engine, format="ecto")
    assert [r["id"] for r in rows(db)] == [1, 2, 6]


def test_transact_applies_raw_operations_and_rolls_back_on_error(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow("todos")

    def fn(op, conn):
        if op.operation == "delete":
            return "deletes are not allowed here"
        conn.execute(
            sa.text("INSERT INTO todos (id, title) VALUES (:i, :t)"),
            {"i": int(op.changes["id"]), "t": op.changes["title"]},
        )
        return None

    txid = writer.transact(payload(ins({"id": "3", "title": "t"})), db.engine, fn)
    assert (txid is None) == (db.kind == "sqlite")
    with pytest.raises(WriteRejected, match="deletes are not allowed") as err:
        writer.transact(payload(ins({"id": "4", "title": "t"}), dele({"id": "1"})), db.engine, fn)
    assert (err.value.step, err.value.index) == ("apply", 1)
    with pytest.raises(WriteRejected) as perr:
        writer.transact("{oops", db.engine, fn)
    assert perr.value.step == "parse" and perr.value.index is None
    assert [r["id"] for r in rows(db)] == [1, 2, 3]


def test_allow_validates_its_arguments() -> None:
    with pytest.raises(ConfigError, match="accept"):
        Writer().allow("todos", accept=("upsert",))
    with pytest.raises(ConfigError, match="check must accept 1"):
        Writer().allow("todos", check=lambda a, b: None)
    with pytest.raises(ConfigError, match="takes a dict with keys"):
        Writer().allow("todos", update={"load": lambda d: None})
    with pytest.raises(ConfigError, match="client_table"):
        Writer().allow("todos", client_table=("a", "b", "c"))  # type: ignore[arg-type]


@pytest.mark.integration
def test_writer_on_mariadb_casts_booleans_and_rejects_whole() -> None:
    from sync_pipeline_tests.senders.sources import mariadb_db

    mdb = mariadb_db()
    name = f"todos_{uuid.uuid4().hex[:8]}"
    md = sa.MetaData()
    table = sa.Table(
        name, md,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("title", sa.String(50), nullable=False),
        sa.Column("completed", sa.Boolean, nullable=False, server_default=sa.false()),
    )  # fmt: skip
    md.create_all(mdb.engine)
    try:
        writer = Writer().allow(name)
        result = writer.apply(
            payload(ins({"id": "1", "title": "a", "completed": "true"}, name)), mdb.engine
        )
        assert result.txid is None
        with pytest.raises(WriteRejected, match="allows 50"):
            writer.apply(
                payload(
                    ins({"id": "2", "title": "b"}, name),
                    upd({"id": "1"}, {"title": "x" * 51}, name),
                ),
                mdb.engine,
            )
        with mdb.engine.connect() as conn:
            assert conn.execute(sa.select(table)).all() == [(1, "a", True)]
    finally:
        md.drop_all(mdb.engine)
        mdb.engine.dispose()


def test_default_validate_refuses_to_change_the_primary_key(db: dbs.TestDb) -> None:
    make_todos(db)
    writer = Writer().allow("todos")
    with pytest.raises(WriteRejected, match="cannot change the primary key 'id'") as err:
        writer.apply(payload(upd({"id": "1"}, {"id": "7", "title": "moved"})), db.engine)
    assert err.value.step == "validate"
    writer.apply(payload(upd({"id": "1"}, {"id": "1", "title": "same id"})), db.engine)
    assert rows(db)[0] == {"id": 1, "title": "same id", "completed": False}


def test_insert_without_key_gets_the_generated_one(db: dbs.TestDb) -> None:
    db.create(
        sa.Table(
            "notes",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("body", sa.Text),
        )
    )
    result = (
        Writer()
        .allow("notes")
        .apply(payload(ins({"body": "a"}, "notes"), ins({"body": "b"}, "notes")), db.engine)
    )
    assert [dict(c.pk) for c in result.changes] == [{"id": 1}, {"id": 2}]
    assert [dict(c.row) for c in result.changes][1] == {"id": 2, "body": "b"}


def test_a_database_error_is_an_apply_rejection(db: dbs.TestDb) -> None:
    make_todos(db)
    with pytest.raises(WriteRejected, match=r"(?i)unique") as err:
        Writer().allow("todos").apply(
            payload(ins({"id": "3", "title": "a"}), ins({"id": "1", "title": "dup"})), db.engine
        )
    assert (err.value.step, err.value.index) == ("apply", 1)
    assert rows(db) == SEEDED
