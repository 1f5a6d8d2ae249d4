"""Validation rules evaluated with pandera (row rules) or on the planned diff (diff rules)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from sync_pipeline.syncs.spec import Rule, SyncSpec

SAMPLE_SIZE = 10


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """What one rule found: pass/fail, how many rows offend, a sample of their keys and, for
    column rules, the offending values next to their keys (`evidence`)."""

    rule: str
    passed: bool
    failures: int
    sample: tuple[str, ...]
    detail: str = ""
    evidence: tuple[str, ...] = ()
    wording: str = ""  # the rule in words: "amount between 0 and 100000"
    key_names: tuple[str, ...] = ()
    cases: tuple[tuple[tuple[Any, ...], str, Any], ...] = ()  # (key values, column, value)


def describe(rule: Rule) -> str:
    """The rule in words, for people: `amount between 0 and 100000`, `status one of a, b`."""
    cols = ", ".join(rule.columns)
    if rule.kind == "range":
        low, high = _number(rule.min), _number(rule.max)
        if rule.min is not None and rule.max is not None:
            return f"{cols} between {low} and {high}"
        return f"{cols} at least {low}" if rule.min is not None else f"{cols} at most {high}"
    if rule.kind == "allowed_values":
        return f"{cols} one of {', '.join(str(v) for v in rule.values)}"
    if rule.kind == "regex":
        return f"{cols} matches {rule.pattern}"
    if rule.kind == "max_length":
        return f"{cols} at most {rule.length} characters"
    if rule.kind == "not_null":
        return f"{cols} not null"
    if rule.kind == "unique":
        return f"{cols} unique in the batch"
    if rule.kind == "required_columns":
        return f"columns present: {cols}"
    if rule.kind == "custom" and rule.function is not None:
        return f"custom check {rule.function.path}"
    if rule.kind in ("max_changed_fraction", "max_missing_fraction"):
        effect = "changed" if rule.kind == "max_changed_fraction" else "missing"
        return f"at most {float(rule.fraction or 0.0):.1%} of rows {effect}"
    return rule.kind


def _number(value: float | None) -> str:
    """0 and 100000, not 0.0 and 100000.0; 0.5 stays 0.5."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def schema_for(rule: Rule) -> pa.DataFrameSchema:
    """The pandera schema that expresses one row rule."""
    cols = rule.columns
    if rule.kind == "required_columns":
        return pa.DataFrameSchema({c: pa.Column(required=True, nullable=True) for c in cols})
    if rule.kind == "not_null":
        return pa.DataFrameSchema({c: pa.Column(nullable=False) for c in cols})
    if rule.kind == "unique":
        return pa.DataFrameSchema({c: pa.Column(nullable=True) for c in cols}, unique=list(cols))
    if rule.kind == "custom":
        assert rule.function is not None  # the loader guarantees it
        return pa.DataFrameSchema(checks=[pa.Check(rule.function.load(), name=rule.name)])
    check = _column_check(rule)
    return pa.DataFrameSchema({c: pa.Column(checks=[check], nullable=True) for c in cols})


def _column_check(rule: Rule) -> pa.Check:
    if rule.kind == "regex":
        return pa.Check.str_matches(rule.pattern or "")
    if rule.kind == "range":
        if rule.min is not None and rule.max is not None:
            return pa.Check.in_range(rule.min, rule.max)
        return pa.Check.ge(rule.min) if rule.min is not None else pa.Check.le(rule.max)
    if rule.kind == "allowed_values":
        return pa.Check.isin(list(rule.values))
    if rule.kind == "max_length":
        return pa.Check.str_length(max_value=rule.length)
    raise ValueError(f"rule {rule.name!r}: {rule.kind!r} is not a row rule")


def check_rule(rule: Rule, frame: pd.DataFrame, key_columns: Sequence[str]) -> RuleOutcome:
    """Run one row rule on a frame (one chunk; see checking.py for a whole batch); failures
    carry the offending rows' keys."""
    if len(frame) == 0 and rule.kind != "required_columns":  # no row of an empty batch can fail
        return passed(rule)
    try:
        schema_for(rule).validate(frame, lazy=True)
    except (SchemaErrors, SchemaError) as exc:
        cases = exc.failure_cases if isinstance(exc, SchemaErrors) else _single(exc)
        return replace(_outcome(rule, frame, key_columns, cases), wording=describe(rule))
    return passed(rule)


def passed(rule: Rule) -> RuleOutcome:
    """The outcome of a rule no row failed."""
    return RuleOutcome(rule.name, True, 0, (), wording=describe(rule))


def _single(exc: SchemaError) -> pd.DataFrame:
    """A non-lazy error (e.g. a custom check that raised) as a one-row failure table."""
    return pd.DataFrame({"index": [None], "failure_case": [str(exc)], "column": [None]})


def _outcome(
    rule: Rule, frame: pd.DataFrame, key_columns: Sequence[str], cases: pd.DataFrame
) -> RuleOutcome:
    rows = [i for i in pd.unique(cases["index"]) if i is not None and not pd.isna(i)]
    if rows:
        keys = [c for c in key_columns if c in frame.columns]
        sample = tuple(dict.fromkeys(_key_text(frame, i, keys) for i in rows))[:SAMPLE_SIZE]
        offending = _offending(rule, frame, keys, cases)
        evidence = _evidence(rule, keys, offending)
        detail = "; ".join(evidence[:3]) or _describe(cases)
        return RuleOutcome(
            rule.name, False, len(rows), sample, detail, evidence, "", tuple(keys), offending
        )
    # No row index: the frame as a whole failed (missing column, custom frame-level check).
    failures = tuple(str(v) for v in pd.unique(cases["failure_case"].astype(str)))
    return RuleOutcome(rule.name, False, len(failures), failures[:SAMPLE_SIZE], _describe(cases))


def _offending(
    rule: Rule, frame: pd.DataFrame, keys: Sequence[str], cases: pd.DataFrame
) -> tuple[tuple[tuple[Any, ...], str, Any], ...]:
    """(key values, column, value) of a sample of offending cells (column rules only)."""
    if "column" not in cases or rule.kind in ("unique", "custom", "required_columns"):
        return ()
    found = []
    for _, case in cases.head(SAMPLE_SIZE).iterrows():
        index, column = case["index"], case["column"]
        if index is None or pd.isna(index) or not isinstance(column, str):
            continue
        key = tuple(_plain(frame.loc[index, k]) for k in keys) if keys else (index,)
        found.append((key, column, _plain(frame.loc[index, column])))
    return tuple(found)


def _evidence(
    rule: Rule, keys: Sequence[str], offending: Iterable[tuple[tuple[Any, ...], str, Any]]
) -> tuple[str, ...]:
    """`order_id 30000: amount = -12.50 (rule: amount between 0 and 100000)` for a sample of
    offending cells; the rule in the same words as everywhere else (`describe`)."""
    label = ", ".join(keys) if keys else "row"
    return tuple(
        f"{label} {key_text(key) if keys else key[0]}: {column} = {_shown(value)} "
        f"(rule: {describe(rule)})"
        for key, column, value in offending
    )


def _shown(value: Any) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _key_text(frame: pd.DataFrame, label: Any, keys: Sequence[str]) -> str:
    """The offending row's key as text: `42`, `'abc'` or `(1, 'eu')`; its index without keys."""
    if not keys:
        return f"row {label}"
    row = frame.loc[label]
    return key_text(tuple(_plain(row[k]) for k in keys))


def key_text(values: tuple[Any, ...]) -> str:
    """A key as shown in check evidence: `42` for one part, `(1, 'eu')` for several."""
    return repr(values[0]) if len(values) == 1 else repr(values)


def _plain(value: Any) -> Any:
    """numpy/pandas scalars as Python values, nulls as None."""
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _describe(cases: pd.DataFrame) -> str:
    parts = cases.get("check", pd.Series(dtype=str)).astype(str).unique().tolist()
    return "; ".join(parts[:5])


def row_rules_for(spec: SyncSpec) -> tuple[Rule, ...]:
    """The sync's row rules, plus "key unique in batch" on match_by unless already declared."""
    rules = spec.row_rules
    if spec.match_by and not any(
        r.kind == "unique" and set(r.columns) == set(spec.match_by) for r in rules
    ):
        unique = Rule(
            name="key_unique_in_batch",
            kind="unique",
            columns=spec.match_by,
            description=f"No two records of a batch share the match key {list(spec.match_by)}",
        )
        rules = (unique, *rules)
    return rules
