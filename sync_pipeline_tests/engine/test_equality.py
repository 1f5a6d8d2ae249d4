"""semantics §3.2: change detection on Postgres and SQLite; unchanged rows get no write at all."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_pipeline import BatchImport, comparators, import_records
from sync_pipeline.engine.compare import values_equal
from sync_pipeline_tests.engine.tables import products

pytestmark = pytest.mark.integration

T0 = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
FROZEN = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)

BASE = {
    "id": 1,
    "sku": "A-1",
    "price": Decimal("12.90"),
    "weight": 1.5,
    "seen_at": T0,
    "attrs": {"color": "red", "sizes": [1, 2]},
    "active": True,
}


@pytest.fixture
def shop(db):
    db.create(products())
    import_records(db.engine, "products", [BASE])
    return db


def sync(db, record, **options):
    return import_records(db.engine, "products", [record], "overwrite", **options)


@pytest.mark.parametrize(
    ("field", "same_value"),
    [
        ("price", "12.9"),  # Decimal scale
        ("price", Decimal("12.900")),
        ("weight", Decimal("1.50")),  # decimal vs float column
        ("seen_at", T0.astimezone(ZoneInfo("Europe/Berlin"))),  # the same instant
        ("attrs", {"sizes": [1, 2], "color": "red"}),  # JSON key order
        ("active", "true"),
    ],
)
def test_equal_values_in_another_form_are_unchanged(shop, field, same_value):
    result = sync(shop, {**BASE, field: same_value})
    assert (result.updated, result.unchanged) == (0, 1)


def test_int_equals_the_same_decimal(shop):
    import_records(shop.engine, "products", [{**BASE, "id": 2, "sku": "B", "price": 7}])
    assert sync(shop, {**BASE, "id": 2, "sku": "B", "price": Decimal("7.00")}).unchanged == 1


@pytest.mark.parametrize("null", [None, float("nan"), Decimal("NaN")])
def test_null_nan_and_none_are_one_value(shop, null):
    import_records(shop.engine, "products", [{"id": 3, "sku": "C", "weight": None, "price": None}])
    result = import_records(
        shop.engine, "products", [{"id": 3, "sku": "C", "weight": null, "price": null}], "overwrite"
    )
    assert (result.updated, result.unchanged) == (0, 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "12.91"),
        ("seen_at", T0 + dt.timedelta(seconds=1)),
        ("attrs", {"color": "red", "sizes": [2, 1]}),
        ("attrs", {"color": "red", "sizes": [1, True]}),
        ("active", False),
        ("weight", None),
    ],
)
def test_real_changes_are_detected_with_old_and_new(shop, field, value):
    diff = BatchImport(shop.engine, "products", "overwrite").preview([{**BASE, field: value}])
    [entry] = diff.preview()
    assert entry.effect == "changed" and list(entry.changes) == [field]
    assert sync(shop, {**BASE, field: value}).updated == 1


def test_user_comparator_overrides_equality(shop):
    result = sync(shop, {**BASE, "sku": "a-1"}, comparators={"sku": comparators.casefold})
    assert result.unchanged == 1
    result = sync(
        shop,
        {**BASE, "weight": 1.5000001},
        comparators={"weight": comparators.float_tolerance(1e-3)},
    )
    assert result.unchanged == 1
    calls = []

    def always_changed(new, old):
        calls.append((new, old))
        return True

    assert sync(shop, BASE, comparators={"active": always_changed}).updated == 1
    assert calls == [(True, True)]


def test_unchanged_row_gets_no_write_no_updated_at_bump_and_no_callback(shop):
    before = shop.rows("products")[0]
    seen = []
    result = sync(
        shop,
        {**BASE, "price": "12.9"},
        clock=lambda: FROZEN,
        on_updated=seen.append,
        on_inserted_or_updated=seen.append,
        batch_mode="column",
    )
    after = shop.rows("products")[0]
    assert result.unchanged == 1 and seen == []
    assert after["updated_at"] == before["updated_at"]
    assert after["last_batch_id"] == result.batch_id  # stamped, nothing else
    assert {k: v for k, v in after.items() if k != "last_batch_id"} == {
        k: v for k, v in before.items() if k != "last_batch_id"
    }


def test_changed_row_bumps_updated_at(shop):
    result = sync(shop, {**BASE, "price": "13"}, clock=lambda: FROZEN)
    row = shop.rows("products")[0]
    assert result.updated == 1
    assert row["updated_at"].replace(tzinfo=dt.UTC) == FROZEN
    assert row["price"] == Decimal("13.00")


def test_unchanged_rows_write_nothing_on_postgres(pg):
    """xmin is a Postgres system column: a new row version would change it."""
    pg.create(products())
    import_records(pg.engine, "products", [BASE])
    shop = pg
    [(xmin_before,)] = shop.execute("SELECT xmin::text FROM products")
    sync(shop, {**BASE, "price": "12.9"}, batch_id=False)
    [(xmin_after,)] = shop.execute("SELECT xmin::text FROM products")
    assert xmin_after == xmin_before


numbers = st.one_of(
    st.integers(-(10**6), 10**6),
    st.decimals(
        places=2, allow_nan=False, allow_infinity=False, min_value=-(10**6), max_value=10**6
    ),
)


@given(numbers, numbers)
def test_values_equal_is_numeric_for_ints_and_decimals(a, b):
    assert values_equal(a, b) == (Decimal(a) == Decimal(b))
    assert values_equal(a, b) == values_equal(b, a)


@given(
    st.datetimes(
        timezones=st.sampled_from([dt.UTC, ZoneInfo("Asia/Tokyo"), ZoneInfo("America/Lima")])
    )
)
def test_aware_datetimes_compare_as_instants(value):
    assert values_equal(value, value.astimezone(dt.UTC))


def test_aware_datetimes_in_other_zones_are_stored_as_the_same_instant_after_pandera(db):
    """pandera's import changes how pyarrow converts zoneinfo datetimes; ours must not care."""
    import pandera.pandas  # noqa: F401

    db.create(products())
    berlin = T0.astimezone(ZoneInfo("Europe/Berlin"))
    import_records(db.engine, "products", [{"id": 9, "sku": "z", "seen_at": berlin}])
    stored = db.rows("products")[0]["seen_at"]
    assert stored.replace(tzinfo=stored.tzinfo or dt.UTC) == T0
