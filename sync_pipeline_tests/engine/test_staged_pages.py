"""A staged diff is mapped from its files, and `release_pages` drops those pages from the
process's memory: a step that releases after each part or window keeps resident what it works
on, not every staged file it has read. Measured in /proc/self/smaps (Linux), not by timing."""

import re
from pathlib import Path

import pyarrow as pa
import pytest

from sync_pipeline import BatchImport, import_records
from sync_pipeline.engine.staged import load_diff, release_pages
from sync_pipeline_tests.engine.tables import people

pytestmark = pytest.mark.integration

ROWS = 20_000
MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")


def resident_kb(folder: Path) -> int:
    """Resident kB of this process's mappings of files under `folder`."""
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            if MAPPING.match(line):
                inside = line.split()[-1].startswith(str(folder))
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


def test_release_pages_drops_a_loaded_diffs_pages_and_the_diff_reads_the_same(db, tmp_path):
    db.create(people())
    import_records(db.engine, "people", [{"id": i, "name": f"n{i}", "age": i} for i in range(ROWS)])
    batch = [{"id": i, "name": f"name {i} " * 4, "age": i + 1} for i in range(ROWS)]
    chunks = (pa.Table.from_pylist(batch[i : i + 5000]) for i in range(0, ROWS, 5000))
    BatchImport(db.engine, "people").preview(chunks, staged_at=tmp_path / "diff")
    diff = load_diff(tmp_path / "diff")
    assert diff is not None
    before = diff.rows.to_pylist()  # every page of `rows` read
    assert resident_kb(tmp_path) > 100
    release_pages()
    assert resident_kb(tmp_path) == 0
    assert diff.rows.to_pylist() == before  # read back from the files
    assert resident_kb(tmp_path) > 100


def test_loading_a_staged_diff_reads_almost_none_of_its_pages(db, tmp_path):
    """`load_diff` maps the files and reads each batch's metadata, not the data: the diff is put
    together (the columns `new` shares with `rows` included) without reading it."""
    db.create(people())
    import_records(db.engine, "people", [{"id": i, "name": f"n{i}", "age": i} for i in range(ROWS)])
    batch = [{"id": i, "name": f"name {i} " * 40, "age": i + 1} for i in range(ROWS)]
    pieces = [pa.Table.from_pylist(batch[i : i + 1000]) for i in range(0, ROWS, 1000)]
    chunks = (pa.concat_tables(pieces[i : i + 10]) for i in range(0, len(pieces), 10))
    BatchImport(db.engine, "people").preview(chunks, staged_at=tmp_path / "diff")
    release_pages()
    diff = load_diff(tmp_path / "diff")
    assert diff is not None
    loaded = resident_kb(tmp_path)
    diff.rows.to_pylist(), diff.new.to_pylist()  # every page read
    assert loaded < resident_kb(tmp_path) / 3  # about 1/5 here: each batch's metadata page
