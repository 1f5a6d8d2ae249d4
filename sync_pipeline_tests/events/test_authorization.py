"""Authorization: key routing with move-outs as pk-only deletes, and authorize() failing closed."""

import pytest

from sync_pipeline import events, import_records
from sync_pipeline.errors import ConfigError
from sync_pipeline_tests.events.helpers import accounts

pytestmark = pytest.mark.integration
KEYED = {"keys": ["tenant"]}


@pytest.fixture
def bank(db):
    db.create(accounts())
    events.install(db.engine)
    return db


def _write(db, rows, **options) -> None:
    import_records(db.engine, "accounts", rows, "overwrite", events=KEYED, **options)


def _history(db) -> None:
    """Inserts in A and B, a row moved from A to B, a delete in B."""
    _write(db, [{"id": 1, "tenant": "A", "name": "a1"}, {"id": 2, "tenant": "B", "name": "b2"}])
    _write(db, [{"id": 1, "tenant": "B", "name": "secret-of-b"}])
    _write(db, [{"id": 2, "gone": True}], delete_flag="gone")


def _received(db, **kwargs) -> list[tuple]:
    with events.subscribe(db.engine, ["accounts"], poll_interval=0.05, **kwargs) as sub:
        commits = []
        while (commit := sub.next(timeout=0.3)) is not None:
            commits.append(commit)
    return [
        (e.effect, dict(e.pk), dict(e.keys), dict(e.changes)) for c in commits for e in c.events
    ]


def test_a_tenant_sees_its_rows_and_a_pk_only_delete_when_one_moves_away(bank):
    _history(bank)
    seen_by_a = _received(bank, where={"tenant": "A"})
    assert seen_by_a == [
        ("inserted", {"id": 1}, {"tenant": "A"}, {"id": 1, "tenant": "A", "name": "a1",
         "balance": None, "last_batch_id": 1, "deleted_at": None}),
        ("deleted", {"id": 1}, {}, {}),
    ]  # fmt: skip
    assert "secret-of-b" not in repr(seen_by_a)


def test_the_new_tenant_sees_the_move_in_and_its_own_deletes(bank):
    _history(bank)
    seen_by_b = [(effect, pk["id"]) for effect, pk, _, _ in _received(bank, where={"tenant": "B"})]
    assert seen_by_b == [("inserted", 2), ("updated", 1), ("deleted", 2)]


@pytest.mark.parametrize(
    "authorize",
    [lambda e: None, lambda e: False, lambda e: "yes", lambda e: 1 / 0],
    ids=["none", "false", "truthy-string", "raises"],
)
def test_authorize_fails_closed(bank, authorize):
    _history(bank)
    with events.subscribe(bank.engine, ["accounts"], authorize=authorize) as sub:
        assert sub.next(timeout=0.3) is None
        assert sub.denied == 4


def test_authorize_sees_each_event_and_keeps_only_true(bank):
    _history(bank)
    allowed = _received(bank, authorize=lambda e: e.pk == {"id": 2})
    assert [(effect, pk) for effect, pk, _, _ in allowed] == [
        ("inserted", {"id": 2}), ("deleted", {"id": 2}),
    ]  # fmt: skip


def test_a_single_row_subscription(bank):
    _history(bank)
    assert [e for e, *_ in _received(bank, row={"id": 1})] == ["inserted", "updated"]


@pytest.mark.parametrize("where", [{"name": "a1"}, {"tenant": "A", "id": 1}])
def test_where_may_only_name_recorded_key_columns(bank, where):
    _history(bank)
    with pytest.raises(ConfigError, match="not recorded key columns"):
        events.subscribe(bank.engine, ["accounts"], where=where)
