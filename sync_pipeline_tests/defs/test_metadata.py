"""What the UI shows: counts stay numbers, the diff preview is a table of field | old | new in
plain text, check evidence names the rule in words, no passwords."""

import datetime as dt
import re
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from sync_pipeline.defs.metadata import diff_markdown, outcome_metadata, result_metadata
from sync_pipeline.defs.resources import SqlDatabase
from sync_pipeline.syncs.rules import check_rule
from sync_pipeline.syncs.spec import Rule

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


def cells(line: str) -> list[str]:
    """The cells of one markdown table row (an escaped `\\|` stays inside its cell)."""
    parts = re.split(r"(?<!\\)\|", line.strip())
    return [p.strip() for p in parts[1:-1]]


def test_diff_preview_is_a_table_with_one_row_per_changed_field() -> None:
    text = diff_markdown(
        [
            Entry(
                "changed",
                (10001,),
                (1,),
                {"status": ("paid", "cancelled"), "amount": (Decimal("311.99"), Decimal("0.00"))},
            ),
            Entry("added", (2,), None, {"ordered_at": (None, dt.datetime(2026, 1, 7, 7, 50))}),
            Entry("missing", ("eu", 3), (3,), {}),
        ]
    )
    lines = text.splitlines()
    assert cells(lines[0]) == ["effect", "key", "field", "old", "new"]
    assert [cells(line) for line in lines[2:]] == [
        ["changed", "10001", "status", "paid", "cancelled"],
        ["changed", "10001", "amount", "311.99", "0.00"],
        ["added", "2", "ordered\\_at", "", "2026-01-07 07:50"],
        ["missing", "eu, 3", "", "", ""],
    ]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("A|B", "A\\|B"),  # a pipe cannot end the cell
        ("two\nlines", "two\\nlines"),  # a newline cannot end the row
        (None, "_null_"),
        ("", '""'),
        ("null", "null"),
        (Decimal("1E+2"), "100"),
        (dt.datetime(2026, 1, 7, 7, 50, 12, 5), "2026-01-07 07:50:12.000005"),
        (dt.datetime(2026, 1, 7, 7, 50, tzinfo=dt.UTC), "2026-01-07 07:50 +0000"),
        (dt.date(2026, 1, 7), "2026-01-07"),
        (True, "true"),
        (b"\x00\xff", "0x00ff"),
        ("x" * 200, "x" * 59 + "…"),
    ],
)
def test_values_render_as_text_in_one_cell(value: object, cell: str) -> None:
    [row] = diff_markdown([Entry("changed", (1,), (1,), {"f": ("old", value)})]).splitlines()[2:]
    assert cells(row)[-1] == cell


def test_check_evidence_names_the_rule_and_tabulates_offending_values() -> None:
    rule = Rule("amount_in_range", "range", ("amount",), min=0, max=100000)
    bad = pd.DataFrame({"order_id": [10001, 10002], "amount": [5.0, -12.5]})
    outcome = check_rule(rule, bad, ("order_id",))

    meta = outcome_metadata(outcome)

    assert meta["rule"] == "amount between 0 and 100000"
    assert meta["failed_rows"].value == 1
    head, table = meta["evidence"].value.split("\n\n")
    assert head == "**amount between 0 and 100000**: 1 row fail"
    assert [cells(line) for line in table.splitlines()] == [
        ["order\\_id", "field", "value"],
        ["---", "---", "---"],
        ["10002", "amount", "-12.5"],
    ]
    assert "in_range" not in meta["evidence"].value and "sample_keys" not in meta


def test_evidence_of_a_passing_rule_is_its_wording_and_zero() -> None:
    rule = Rule("st", "allowed_values", ("status",), values=("paid", "open"))
    meta = outcome_metadata(check_rule(rule, pd.DataFrame({"status": ["paid"]}), ()))
    assert meta["rule"] == "status one of paid, open" and meta["failed_rows"].value == 0
    assert "evidence" not in meta


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
