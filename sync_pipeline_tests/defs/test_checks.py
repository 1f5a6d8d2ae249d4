"""Validation rules (pandera) on DataFrames and on batches in chunks: each kind passes clean
data and, on bad data, reports how many rows offend and a sample of their keys."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest

from sync_pipeline.definitions import defs as load_defs
from sync_pipeline.syncs import staging
from sync_pipeline.syncs.checking import check_chunks
from sync_pipeline.syncs.rules import check_rule, describe, row_rules_for
from sync_pipeline.syncs.spec import CallableRef, Rule, SenderSpec, SyncSpec

KEYS = ("order_id",)


def frame(**overrides: list[object]) -> pd.DataFrame:
    data: dict[str, list[object]] = {
        "order_id": [1, 2, 3, 4],
        "status": ["paid", "placed", "shipped", "cancelled"],
        "amount": [10.0, 0.0, 99.5, 5.0],
        "currency": ["EUR", "USD", "EUR", "JPY"],
    }
    data.update(overrides)
    return pd.DataFrame(data)


CASES = [
    # rule, bad frame, offending keys (None: the frame as a whole fails)
    (
        Rule("req", "required_columns", ("order_id", "sku")),
        frame(),
        None,
    ),
    (Rule("nn", "not_null", ("status",)), frame(status=["paid", None, "x", None]), ["2", "4"]),
    (Rule("uniq", "unique", ("order_id",)), frame(order_id=[1, 2, 2, 4]), ["2"]),
    (
        Rule("cur", "regex", ("currency",), pattern=r"^[A-Z]{3}$"),
        frame(currency=["EUR", "eur", "EURO", "USD"]),
        ["2", "3"],
    ),
    (
        Rule("amt", "range", ("amount",), min=0, max=100),
        frame(amount=[-1.0, 0.0, 199.5, 5.0]),
        ["1", "3"],
    ),
    (Rule("amt_min", "range", ("amount",), min=1), frame(), ["2"]),
    (
        Rule("st", "allowed_values", ("status",), values=("paid", "placed", "shipped")),
        frame(),
        ["4"],
    ),
    (
        Rule("len", "max_length", ("currency",), length=3),
        frame(currency=["EUR", "EURO", "USD", "JPY"]),
        ["2"],
    ),
    (
        Rule(
            "paid",
            "custom",
            function=CallableRef("sync_pipeline.demo.transforms:paid_orders_have_amount"),
        ),
        frame(amount=[0.0, 0.0, -3.0, 5.0]),
        ["1", "3"],
    ),
]


@pytest.mark.parametrize(("rule", "bad", "keys"), CASES, ids=[c[0].kind for c in CASES])
def test_rule_reports_offending_keys(rule: Rule, bad: pd.DataFrame, keys: list[str] | None) -> None:
    outcome = check_rule(rule, bad, KEYS)
    assert not outcome.passed
    if keys is None:  # whole-frame failure: the sample names what is missing
        assert outcome.failures == 1 and "sku" in " ".join(outcome.sample)
    else:
        duplicated = 2 if rule.kind == "unique" else 1  # both rows of a duplicate offend
        assert outcome.failures == len(keys) * duplicated
        assert list(outcome.sample) == keys


@pytest.mark.parametrize("rule", [c[0] for c in CASES[1:]], ids=[c[0].kind for c in CASES[1:]])
def test_rule_passes_clean_batch(rule: Rule) -> None:
    clean = frame(status=["paid", "placed", "shipped", "paid"])
    if rule.kind == "range" and rule.min == 1:
        clean = frame(amount=[1.0, 2.0, 3.0, 4.0])
    assert check_rule(rule, clean, KEYS).passed


def halves(whole: pd.DataFrame) -> list[pa.Table]:
    """A frame as two Arrow chunks, as a staged batch hands it over."""
    table = pa.Table.from_pandas(whole, preserve_index=False)
    return [table.slice(0, 2), table.slice(2)]


@pytest.mark.parametrize(("rule", "bad", "keys"), CASES, ids=[c[0].kind for c in CASES])
def test_rule_over_chunks_reports_what_it_reports_over_the_batch(
    rule: Rule, bad: pd.DataFrame, keys: list[str] | None
) -> None:
    """Counts add up over chunks; a duplicate split across chunks is still found (unique sees
    the key columns of every chunk), and a missing column counts once, not once per chunk."""
    whole = check_rule(rule, bad, KEYS)

    (chunked,) = check_chunks([rule], halves(bad), KEYS)

    assert (chunked.passed, chunked.failures, chunked.sample) == (
        whole.passed,
        whole.failures,
        whole.sample,
    )
    assert (chunked.evidence, chunked.cases) == (whole.evidence, whole.cases)


@pytest.mark.parametrize(
    "keys",
    [
        [1, 2, 3, 4],  # distinct: passed by Arrow without pandera
        [1, 2, 3, 1],  # a duplicate across chunks
        [None, 2, 3, None],  # two null keys are duplicates, as pandas counts them
        [1.5, float("nan"), 2.5, float("nan")],  # float keys always go to pandera
        ["a", "b", "A", "c"],
    ],
)
def test_unique_over_chunks_agrees_with_pandera_on_the_whole_batch(keys: list[object]) -> None:
    """The Arrow shortcut for `unique` only ever says "passed" where pandera does."""
    rule = Rule("u", "unique", ("order_id",))
    whole = frame(order_id=keys)
    expected = check_rule(rule, whole, KEYS)

    (chunked,) = check_chunks([rule], halves(whole), KEYS)

    assert (chunked.passed, chunked.failures) == (expected.passed, expected.failures)
    assert chunked.passed == (len(set(map(str, keys))) == len(keys))


def test_unique_on_a_column_the_batch_lacks_fails() -> None:
    (outcome,) = check_chunks([Rule("u", "unique", ("sku",))], halves(frame()), KEYS)
    assert outcome.passed is False


def test_rules_over_an_empty_batch_pass_unless_a_column_is_required() -> None:
    required = Rule("req", "required_columns", ("sku",))
    outcomes = check_chunks([required, Rule("nn", "not_null", ("status",))], [], KEYS)
    assert [o.passed for o in outcomes] == [False, True]


def test_key_unique_rule_is_added_for_match_by() -> None:
    spec = SyncSpec("s", SenderSpec("sql"), "t", match_by=("order_id",))
    assert [r.name for r in row_rules_for(spec)] == ["key_unique_in_batch"]


def test_asset_check_definition_fails_with_evidence(tmp_path: Path) -> None:
    defs = load_defs()
    key = dg.AssetCheckKey(dg.AssetKey(["orders", "normalized"]), "status_known")
    check = defs.get_repository_def().asset_checks_defs_by_key[key]
    bad = frame(status=["paid", "lost_in_mail", "shipped", "??"])
    staged = staging.stage(halves(bad), str(tmp_path / "normalized"))
    results = {r.check_name: r for r in check(dg.build_asset_check_context(), staged)}
    result = results["status_known"]
    assert result.passed is False
    assert result.metadata["failed_rows"].value == 2
    assert result.metadata["rule"].value == "status one of placed, paid, shipped, cancelled"
    evidence = result.metadata["evidence"].value
    assert "| 2 | status | lost\\_in\\_mail |" in evidence and "| 4 | status | ?? |" in evidence


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (Rule("r", "range", ("amount",), min=0, max=100000), "amount between 0 and 100000"),
        (Rule("r", "range", ("amount",), min=0.5), "amount at least 0.5"),
        (Rule("r", "range", ("amount",), max=10), "amount at most 10"),
        (
            Rule("r", "allowed_values", ("status",), values=("paid", "open")),
            "status one of paid, open",
        ),
        (Rule("r", "regex", ("email",), pattern="^[^@]+@x$"), "email matches ^[^@]+@x$"),
        (Rule("r", "max_length", ("country",), length=2), "country at most 2 characters"),
        (Rule("r", "not_null", ("email", "name")), "email, name not null"),
        (Rule("r", "unique", ("order_id",)), "order_id unique in the batch"),
        (Rule("r", "required_columns", ("a", "b")), "columns present: a, b"),
        (Rule("r", "max_missing_fraction", fraction=0.5), "at most 50.0% of rows missing"),
    ],
    ids=lambda v: v.kind if isinstance(v, Rule) else "",
)
def test_rule_in_words(rule: Rule, words: str) -> None:
    assert describe(rule) == words
