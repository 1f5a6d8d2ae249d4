"""What the UI shows: counts stay numbers, the diff preview reads old → new, no passwords."""

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from sync_pipeline.defs.metadata import diff_markdown, result_metadata
from sync_pipeline.defs.resources import SqlDatabase

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Entry:  # the shape of the engine's DiffEntry
    effect: str
    key: tuple[Any, ...]
    pk: tuple[Any, ...] | None
    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class Result:  # the shape of the engine's ImportResult
    created: int = 3
    updated: int = 2
    unchanged: int = 10
    skipped: int = 0
    missing: int = 1
    deleted: int = 0
    errors: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    batch_id: int = 7
    txid: int | None = None


def test_diff_preview_shows_old_and_new_per_field() -> None:
    text = diff_markdown(
        [
            Entry("changed", (1,), (1,), {"email": ("a@x.io", "b@x.io"), "name": ("A|B", "A")}),
            Entry("added", (2,), None, {}),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "| effect | key | changes |"
    assert "`email`: 'a@x.io' → 'b@x.io'" in lines[2]
    assert "'A\\|B' → 'A'" in lines[2]  # a pipe in a value cannot break the table
    assert lines[3].startswith("| added | (2,) |")


def test_counts_are_numbers_and_txid_only_when_given() -> None:
    sqlite = result_metadata(Result())
    postgres = result_metadata(Result(txid=4711))

    assert isinstance(sqlite["created"], dg.IntMetadataValue) and sqlite["created"].value == 3
    assert sqlite["errors"].value == 0 and sqlite["batch_id"].value == 7
    assert "txid" not in sqlite and postgres["txid"].value == 4711


def test_display_url_hides_the_password() -> None:
    db = SqlDatabase(url="postgresql+psycopg://sync:s3cret@db.internal:5432/shop")
    assert "s3cret" not in db.display_url()
    assert db.display_url().startswith("postgresql+psycopg://sync:***@db.internal")


@pytest.mark.integration
def test_dagster_cli_validates_the_code_location() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "All code locations passed validation" in done.stderr + done.stdout
