"""The benchmark's workload generator: deterministic, and its ground truth holds row by row."""

from decimal import Decimal

import pytest

import benchmarks.generate as gen
from benchmarks.datafiles import read_parquet, write_parquet
from benchmarks.generate import DATA_COLUMNS, counts, generate

BLOCKED = 2500  # generated in blocks of 1,000 rows (BLOCK_ROWS patched), like 10M in 1M blocks


@pytest.fixture(scope="module", params=[1000, 150, BLOCKED])
def workload(request):
    with pytest.MonkeyPatch.context() as mp:
        if request.param == BLOCKED:
            mp.setattr(gen, "BLOCK_ROWS", 1000)
        yield generate(request.param, seed=7)


def by_ref(table):
    return {r["external_ref"]: r for r in table.to_pylist()}


def same(new, old, field):
    """The engine's equality for this workload: email case-insensitive, price as a number."""
    a, b = new[field], old[field]
    if field == "email":
        return a.casefold() == b.casefold()
    if field == "price":
        return Decimal(a) == b
    return a == b


def test_same_seed_gives_identical_batches(workload):
    with pytest.MonkeyPatch.context() as mp:
        if workload.truth.rows == BLOCKED:
            mp.setattr(gen, "BLOCK_ROWS", 1000)
        again = generate(workload.truth.rows, seed=7)
    assert again.batch1.equals(workload.batch1)
    assert again.batch2.equals(workload.batch2)
    assert again.expected.equals(workload.expected)


def test_other_seed_gives_other_data(workload):
    assert not generate(workload.truth.rows, seed=8).batch2.equals(workload.batch2)


def test_truth_counts_match_a_row_by_row_diff(workload):
    old, new = by_ref(workload.batch1), by_ref(workload.batch2)
    fields = [c for c in DATA_COLUMNS if c != "external_ref"]
    changed = {
        k for k in new.keys() & old.keys() if not all(same(new[k], old[k], f) for f in fields)
    }
    t = workload.truth
    rows = t.rows
    assert len(new.keys() - old.keys()) == t.added == rows * 5 // 100
    assert len(old.keys() - new.keys()) == t.missing == rows * 2 // 100
    assert len(changed) == t.changed == rows * 10 // 100
    assert len(new.keys() & old.keys()) - len(changed) == t.unchanged
    assert workload.batch2.num_rows == t.batch2_rows == counts(rows).batch2_rows


def test_format_only_rows_differ_raw_but_not_under_the_comparators(workload):
    old, new = by_ref(workload.batch1), by_ref(workload.batch2)
    raw_diff = {
        k
        for k in new.keys() & old.keys()
        if new[k]["email"] != old[k]["email"] or new[k]["price"] != f"{old[k]['price']:.2f}"
    }
    fields = [c for c in DATA_COLUMNS if c != "external_ref"]
    format_only = {k for k in raw_diff if all(same(new[k], old[k], f) for f in fields)}
    assert len(format_only) == workload.truth.format_only
    prices = {new[k]["price"] for k in format_only}
    assert any("." not in p or len(p.split(".")[1]) != 2 for p in prices)


def test_changed_rows_change_one_to_three_fields(workload):
    old, new = by_ref(workload.batch1), by_ref(workload.batch2)
    fields = [c for c in DATA_COLUMNS if c not in ("external_ref", "id")]
    sizes = {sum(not same(new[k], old[k], f) for f in fields) for k in new.keys() & old.keys()} - {
        0
    }
    assert sizes == {1, 2, 3}


def test_expected_table_is_batch1_with_changes_and_new_rows(workload):
    old, new = by_ref(workload.batch1), by_ref(workload.batch2)
    expected = by_ref(workload.expected)
    assert expected.keys() == old.keys() | new.keys()
    for key, row in expected.items():
        if key not in new:
            assert row == {c: old[key][c] for c in DATA_COLUMNS}
        elif key not in old:
            assert row == {**new[key], "price": Decimal(new[key]["price"])}
        else:  # changed fields take the new value; equal-under-comparator fields keep the old
            for f in DATA_COLUMNS:
                want = old[key][f] if same(new[key], old[key], f) else new[key][f]
                assert same({f: want}, {f: row[f]}, f) if f == "price" else row[f] == want


def test_ids_and_external_refs_are_unique_across_blocks(workload):
    for table in (workload.batch2, workload.expected):
        for column in ("id", "external_ref"):
            values = table[column].to_pylist()
            assert len(set(values)) == len(values)


def test_parquet_files_hold_the_generated_workload_written_block_by_block(tmp_path, monkeypatch):
    monkeypatch.setattr(gen, "BLOCK_ROWS", 1000)
    write_parquet(BLOCKED, tmp_path, seed=7)
    expected = generate(BLOCKED, seed=7)
    for name in ("batch1", "batch2", "expected"):
        assert read_parquet(tmp_path, name).equals(getattr(expected, name))
    assert expected.truth == counts(BLOCKED)
