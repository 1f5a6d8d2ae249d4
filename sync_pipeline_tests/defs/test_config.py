"""Sync specs from YAML: the repo's config loads; every bad entry names the sync and the field."""

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sync_pipeline.errors import ConfigError
from sync_pipeline.syncs import SyncConfigError, load_syncs, parse_syncs, runner
from sync_pipeline.syncs.config import json_schema
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
        (with_change("table", None), "table", "valid string"),
        (with_change("table", ""), "table", "at least 1 character"),
        (with_change("match_by", []), "match_by", "at least one field"),
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
        (with_change("sender", {"table": "x"}), "sender.kind", "is required"),
        # every sender option is checked per kind when the code location loads
        (with_change("sender.kind", "sqll"), "sender.kind", "did you mean 'sql'"),
        (with_change("sender.chunk_sise", 5), "sender.chunk_sise", "did you mean 'chunk_size'"),
        (with_change("sender.query", "select 1"), "sender", "exactly one of table= or query="),
        (with_change("sender.chunk_size", 0), "sender", "at least 1"),
        # engine options: shapes by the model, values by the engine's own validator
        (with_change("chunk_sise", 5), "chunk_sise", "did you mean 'chunk_size'"),
        (with_change("chunk_size", 0), "chunk_size", "at least 1"),
        (with_change("chunk_size", "5"), "chunk_size", "valid integer"),
        (with_change("null_keys", "drop"), "null_keys", "is not one of insert, skip, error"),
        (with_change("duplicates", "lst"), "duplicates", "did you mean 'last'"),
        (with_change("drift", "add_column"), "drift", "did you mean 'add_columns'"),
        (with_change("case_sensitive", "no"), "case_sensitive", "valid boolean"),
        (with_change("where", "tenant = 1"), "where", "valid dictionary"),
        (
            {**with_change("strategy", "skip"), "update_if_exists": ["status"]},
            "update_if_exists",
            "cannot be combined with strategy='skip'",
        ),
        (with_change("comparators", {"email": "casefld"}), "comparators.email", "'casefold'"),
        (
            with_change("comparators", {"amount": {"float_tolerence": 0.1}}),
            "comparators.amount.float_tolerence",
            "did you mean 'float_tolerance'",
        ),
        (with_change("match_by", {"order_id": "no.such:fn"}), "match_by.order_id", "cannot"),
        (with_change("comparison_key", "no.such:fn"), "comparison_key", "cannot load"),
        (
            with_change("update_if_exists", {"status": {"function": "no.such:fn"}}),
            "update_if_exists.status.function",
            "cannot load",
        ),
        (
            with_change("update_if_exists", {"status": {"sqll": "1"}}),
            "update_if_exists.status.sqll",
            "did you mean 'sql'",
        ),
        (
            with_change("callbacks", {"on_insert": "sync_pipeline.demo.transforms:clean_email"}),
            "callbacks.on_insert",
            "did you mean 'on_inserted'",
        ),
        (with_change("target", {}), "target", "exactly one of url"),
        (with_change("create_table", "yes"), "create_table", "valid boolean"),
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


def test_checked_in_json_schema_is_generated_from_the_models() -> None:
    """Editors complete syncs.yaml from syncs.schema.json; regenerate it when the models change:
    python -c "import json; from sync_pipeline.syncs.config import json_schema;
    print(json.dumps(json_schema(), indent=2, sort_keys=True))" > syncs.schema.json"""
    checked_in = json.loads((REPO / "syncs.schema.json").read_text())
    assert checked_in == json_schema()
    sync = checked_in["$defs"]["SyncConfig"]["properties"]
    assert {"match_by", "comparators", "update_if_exists", "target", "drift"} <= set(sync)


def test_each_sync_may_write_to_its_own_database(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = with_change("target", {"url_env": "ORDERS_DB"})
    [spec] = parse_syncs({"syncs": [entry]})
    monkeypatch.setenv("ORDERS_DB", "sqlite:///orders.db")
    assert runner.target_url(spec, "sqlite:///default.db") == "sqlite:///orders.db"
    monkeypatch.delenv("ORDERS_DB")
    with pytest.raises(ConfigError, match="ORDERS_DB"):
        runner.target_url(spec, "sqlite:///default.db")
    [default] = parse_syncs({"syncs": [GOOD]})
    assert runner.target_url(default, "sqlite:///default.db") == "sqlite:///default.db"


def test_strategy_defaults_like_the_library() -> None:
    [spec] = parse_syncs({"syncs": [{**GOOD, "strategy": None, "update_if_exists": ["status"]}]})
    assert spec.strategy == "overwrite"
