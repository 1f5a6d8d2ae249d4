"""Sync specs from YAML: the repo's config loads; every bad entry names the sync and the field."""

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from sync_pipeline.syncs import SyncConfigError, load_syncs, parse_syncs
from sync_pipeline.syncs.loader import CONFIG_ENV, config_path

REPO = Path(__file__).resolve().parents[2]

GOOD: dict[str, Any] = {
    "name": "orders",
    "sender": {"kind": "sql", "table": "orders"},
    "table": "orders",
    "match_by": ["order_id"],
    "strategy": "merge",
    "partitioning": {"kind": "daily", "column": "ordered_at", "start": dt.date(2026, 1, 1)},
    "schedule": "15 1 * * *",
    "rules": [{"name": "amount", "kind": "range", "columns": ["amount"], "min": 0}],
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    entry = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    target: Any = entry
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return entry


def test_repo_config_loads_with_callables_resolved() -> None:
    specs = load_syncs(REPO / "syncs.yaml")
    assert [s.name for s in specs] == ["customers", "orders"]
    customers = specs[0]
    assert customers.partitioning is not None and customers.partitioning.values == (
        "eu",
        "us",
        "apac",
    )
    assert customers.transforms["email"].load()("  A@B.COM ") == "a@b.com"
    assert customers.missing == "soft_delete"


def test_config_path_is_overridable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"syncs": [GOOD]}))
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert config_path() == path
    assert [s.name for s in load_syncs()] == ["orders"]


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        (with_change("strategy", "upsert"), "strategy", "is not one of skip, overwrite"),
        (with_change("table", None), "table", "non-empty string"),
        (with_change("match_by", []), "match_by", "column name"),
        (with_change("missing", "purge"), "missing", "report, soft_delete, delete"),
        (with_change("schedule", "every day"), "schedule", "5-field cron"),
        (with_change("schedule", "0 */2 * * *"), "schedule", "MINUTE HOUR"),
        (with_change("partitioning.kind", "hourly"), "partitioning.kind", "hourly"),
        (with_change("partitioning.start", None), "partitioning.start", "start date"),
        (with_change("rules.0.kind", "between"), "rules[0].kind", "between"),
        (with_change("rules.0.min", None), "rules[0].min", "min, max or both"),
        (
            with_change("rules.0", {"kind": "regex", "columns": ["a"], "pattern": "("}),
            "rules[0].pattern",
            "invalid regular expression",
        ),
        (
            with_change("rules.0", {"kind": "custom", "function": "no.such.module:fn"}),
            "rules[0].function",
            "cannot load 'no.such.module:fn'",
        ),
        (
            with_change("comparators", {"email": "sync_pipeline.demo.transforms:nope"}),
            "comparators.email",
            "cannot load",
        ),
        (with_change("stratgy", "skip"), "stratgy", "did you mean 'strategy'"),
        (with_change("sender", {"table": "x"}), "sender", "'kind'"),
    ],
)
def test_bad_config_names_sync_and_field(entry: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(SyncConfigError) as info:
        parse_syncs({"syncs": [entry]})
    assert info.value.sync == "orders"
    assert info.value.field == field
    assert message in str(info.value)
    assert str(info.value).startswith(f"sync 'orders', field '{field}'")


def test_duplicate_sync_names_are_rejected() -> None:
    with pytest.raises(SyncConfigError, match="used by more than one sync"):
        parse_syncs({"syncs": [GOOD, GOOD]})


def test_specs_are_frozen() -> None:
    [spec] = parse_syncs({"syncs": [GOOD]})
    with pytest.raises(AttributeError):
        spec.table = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.sender.config["table"] = "x"  # type: ignore[index]
