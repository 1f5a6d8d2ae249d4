"""FileSender on real temp files: CSV, JSON, NDJSON, Parquet; declared types only."""

import csv
import datetime as dt
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_pipeline.errors import ConfigError, SyncError
from sync_pipeline.senders import PartitionFilter, build_sender
from sync_pipeline.senders.errors import BadValueError, SchemaDriftError, SenderError
from sync_pipeline.senders.files import FileSender

TYPES = {"id": "int", "amount": "numeric(10,2)", "day": "date", "active": "bool"}
ROWS = [
    {"id": "1", "amount": "1.50", "day": "2025-01-01", "active": "true", "note": "2025-01-01"},
    {"id": "2", "amount": "", "day": "2025-01-02", "active": "false", "note": "007"},
]


def _rows(sender: FileSender, partition: PartitionFilter | None = None) -> list[dict]:
    return [r for chunk in sender.read(partition) for r in chunk.to_pylist()]


def _write(path: Path, fmt: str, rows: list[dict]) -> Path:
    if fmt != "csv":  # only CSV spells null as an empty field
        rows = [{k: None if v == "" else v for k, v in r.items()} for r in rows]
    if fmt == "csv":
        header = list(rows[0])
        lines = [",".join(header)] + [",".join(str(r[h]) for h in header) for r in rows]
        path.write_text("\n".join(lines) + "\n")
    elif fmt == "json":
        path.write_text("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n")
    elif fmt == "ndjson":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "parquet"])
def test_declared_types_are_applied_and_text_stays_text(tmp_path: Path, fmt: str) -> None:
    path = _write(tmp_path / f"data.{fmt}", fmt, ROWS)
    rows = _rows(FileSender(path, types=TYPES))
    assert rows[0] == {
        "id": 1,
        "amount": Decimal("1.50"),
        "day": dt.date(2025, 1, 1),
        "active": True,
        "note": "2025-01-01",  # untyped: stays text, never becomes a date
    }
    assert rows[1]["note"] == "007"
    assert rows[1]["amount"] is None


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_bad_value_names_file_line_and_field(tmp_path: Path, fmt: str) -> None:
    bad = [*ROWS, {**ROWS[0], "id": "3", "day": "2025-02-30"}]
    path = _write(tmp_path / f"data.{fmt}", fmt, bad)
    with pytest.raises(BadValueError) as err:
        list(FileSender(path, types=TYPES).read())
    assert err.value.source == str(path)
    assert err.value.line == 4 if fmt != "ndjson" else err.value.line == 3
    assert err.value.field == "day"
    assert f"{path}, line {err.value.line}, field 'day'" in str(err.value)
    assert isinstance(err.value, SyncError)


def test_bad_parquet_value_names_the_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.parquet", "parquet", [*ROWS, {**ROWS[0], "id": "x"}])
    with pytest.raises(BadValueError, match=r"row 3, field 'id'"):
        list(FileSender(path, types=TYPES).read())


def test_parquet_untyped_columns_keep_the_file_types(tmp_path: Path) -> None:
    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"id": [1, 2], "x": [0.5, None]}), path)
    chunk = next(iter(FileSender(path).read()))
    assert chunk.schema.field("id").type == pa.int64()
    assert chunk.to_pylist() == [{"id": 1, "x": 0.5}, {"id": 2, "x": None}]


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text('{"id": 1}\n{"id": 2,,}\n')
    with pytest.raises(BadValueError, match=r"line 2.*malformed JSON"):
        list(FileSender(path).read())
    arr = tmp_path / "bad.json"
    arr.write_text('[\n{"id": 1},\n{"id": }\n]')
    with pytest.raises(BadValueError, match=r"line 3.*malformed JSON"):
        list(FileSender(arr).read())


def test_json_tagged_values_decode_into_typed_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            [
                {
                    "at": {"__type__": "datetime", "value": "2025-01-01T10:00:00"},
                    "price": {"__type__": "decimal", "value": "10.10"},
                    "doc": {"a": [1, {"b": True}]},
                }
            ]
        )
    )
    sender = FileSender(path, types={"at": "datetime", "price": "numeric(12,2)", "doc": "json"})
    (row,) = _rows(sender)
    assert row["at"] == dt.datetime(2025, 1, 1, 10)
    assert row["price"] == Decimal("10.10")
    assert json.loads(row["doc"]) == {"a": [1, {"b": True}]}


def test_untyped_json_values_become_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "u.ndjson", "ndjson", [{"n": 5, "b": True, "s": "x", "z": None}])
    assert _rows(FileSender(path)) == [{"n": "5", "b": "true", "s": "x", "z": None}]


def test_numeric_never_rounds(tmp_path: Path) -> None:
    path = _write(tmp_path / "n.csv", "csv", [{"v": "1.005"}])
    with pytest.raises(BadValueError, match="3 decimal places"):
        list(FileSender(path, types={"v": "numeric(10,2)"}).read())


def test_datetime_and_datetime_tz_are_explicit(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "csv", [{"a": "2025-01-01T10:00:00+02:00"}])
    with pytest.raises(BadValueError, match="datetime_tz"):
        list(FileSender(path, types={"a": "datetime"}).read())
    (row,) = _rows(FileSender(path, types={"a": "datetime_tz"}))
    assert row["a"] == dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)


def test_glob_reads_files_in_name_order(tmp_path: Path) -> None:
    _write(tmp_path / "b.csv", "csv", [{"id": "2"}])
    _write(tmp_path / "a.csv", "csv", [{"id": "1"}])
    _write(tmp_path / "c.csv", "csv", [{"id": "3"}])
    assert [r["id"] for r in _rows(FileSender(tmp_path / "*.csv", types={"id": "int"}))] == [
        1,
        2,
        3,
    ]


def test_a_file_missing_a_column_of_the_first_is_drift(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "csv", [{"id": "1", "x": "a"}])
    _write(tmp_path / "b.csv", "csv", [{"id": "2"}])
    with pytest.raises(SchemaDriftError, match="'x'"):
        list(FileSender(tmp_path / "*.csv").read())


def test_json_field_not_in_first_record_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.ndjson", "ndjson", [{"id": 1}, {"id": 2, "extra": 1}])
    with pytest.raises(BadValueError, match="line 2, field 'extra'"):
        list(FileSender(path).read())


def test_columns_rename_and_delete_flag(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "csv", [{"id": "1", "del": "yes", "x": "q"}])
    sender = FileSender(
        path, columns=["id", "del"], rename={"del": "deleted"}, delete_flag="deleted"
    )
    chunk = next(iter(sender.read()))
    assert chunk.schema.field("deleted").type == pa.bool_()
    assert chunk.to_pylist() == [{"id": "1", "deleted": True}]


def test_chunks_and_partition_window(tmp_path: Path) -> None:
    rows = [{"id": str(i), "day": f"2025-01-0{i}"} for i in range(1, 8)]
    path = _write(tmp_path / "p.csv", "csv", rows)
    sender = FileSender(path, types={"id": "int", "day": "date"}, chunk_size=2)
    assert [c.num_rows for c in sender.read()] == [2, 2, 2, 1]
    window = PartitionFilter.window("day", dt.date(2025, 1, 3), dt.date(2025, 1, 5))
    assert [r["id"] for r in _rows(sender, window)] == [3, 4]
    assert [r["id"] for r in _rows(sender, PartitionFilter.static("id", 6))] == [6]


def test_window_on_a_text_column_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.csv", "csv", [{"day": "2025-01-01"}])
    window = PartitionFilter.window("day", dt.date(2025, 1, 1), dt.date(2025, 1, 2))
    with pytest.raises(ConfigError, match="typed date or datetime"):
        list(FileSender(path).read(window))


def test_csv_row_with_wrong_field_count(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(BadValueError, match="line 3: 1 fields, header has 2"):
        list(FileSender(path).read())


def test_config_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown column type"):
        FileSender(tmp_path / "x.csv", types={"a": "varchar"})
    with pytest.raises(SenderError, match="no file matches"):
        list(FileSender(tmp_path / "*.csv").read())
    _write(tmp_path / "x.csv", "csv", [{"a": "1"}])
    with pytest.raises(SchemaDriftError, match="typed column 'b'"):
        list(FileSender(tmp_path / "x.csv", types={"b": "int"}).read())


def test_build_sender_files(tmp_path: Path) -> None:
    _write(tmp_path / "x.csv", "csv", [{"a": "1"}])
    sender = build_sender("files", path=str(tmp_path / "x.csv"), types={"a": "int"})
    assert [r for c in sender.read() for r in c.to_pylist()] == [{"a": 1}]
    with pytest.raises(ConfigError, match="unknown sender kind"):
        build_sender("ftp")
    with pytest.raises(ConfigError, match="bad config"):
        build_sender("files", paht="x")


def test_partition_keys_given_as_text_are_read_as_the_column_type(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "p.csv", "csv", [{"id": str(i), "day": f"2025-01-0{i}"} for i in range(1, 6)]
    )
    sender = FileSender(path, types={"id": "int", "day": "date"})
    assert [r["id"] for r in _rows(sender, PartitionFilter.static("id", "2"))] == [2]
    window = PartitionFilter(column="day", start="2025-01-02", end="2025-01-04")  # type: ignore[arg-type]
    assert [r["id"] for r in _rows(sender, window)] == [2, 3]


def test_daily_datetime_window_on_a_date_column(tmp_path: Path) -> None:
    """Dagster daily partitions give aware datetimes; a date column compares as its midnight."""
    path = _write(
        tmp_path / "p.csv", "csv", [{"id": str(i), "day": f"2025-01-0{i}"} for i in range(1, 6)]
    )
    sender = FileSender(path, types={"id": "int", "day": "date"})
    window = PartitionFilter.window(
        "day", dt.datetime(2025, 1, 2, tzinfo=dt.UTC), dt.datetime(2025, 1, 3, tzinfo=dt.UTC)
    )
    assert [r["id"] for r in _rows(sender, window)] == [2]


def test_a_utf8_bom_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffid,name\n1,Zoë\n".encode())
    assert _rows(FileSender(path, types={"id": "int"})) == [{"id": 1, "name": "Zoë"}]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
            max_size=30,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_untyped_csv_text_round_trips_exactly(values: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["n", "v"])
            writer.writerows([[i, v] for i, v in enumerate(values)])
        assert [r["v"] for r in _rows(FileSender(path))] == values
