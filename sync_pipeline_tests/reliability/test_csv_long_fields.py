"""Issue 8 item 11: the CSV sender reads valid files whatever the length of a field."""

import csv
from pathlib import Path

import pytest

from sync_pipeline import import_records
from sync_pipeline.senders.errors import BadValueError
from sync_pipeline.senders.files import FileSender
from sync_pipeline_tests.engine.tables import people

LONG = ["a" * 131_073, 'b,\n"c\r' * 200_000, "é" * 1_000_000]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_fields_longer_than_pythons_default_csv_limit_are_read_whole(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "long.csv", [{"id": str(i), "name": v} for i, v in enumerate(LONG)]
    )
    rows = [r for chunk in FileSender(path, types={"id": "int"}).read() for r in chunk.to_pylist()]
    assert rows == [{"id": i, "name": v} for i, v in enumerate(LONG)]


def test_an_unterminated_quote_is_still_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('id,name\n1,"' + "x" * 300_000 + "\n")
    with pytest.raises(BadValueError, match="malformed CSV"):
        list(FileSender(path).read())


@pytest.mark.integration
def test_a_long_csv_field_imports_unchanged(db, tmp_path: Path) -> None:
    db.create(people())
    path = _write_csv(tmp_path / "p.csv", [{"id": "1", "name": LONG[1]}])
    for chunk in FileSender(path, types={"id": "int"}).read():
        import_records(db.engine, "people", chunk, "overwrite")
    assert db.rows("people")[0]["name"] == LONG[1]
