"""The match and diff stages: records to target rows, then what each record does to its row."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sync_pipeline.db import labels
from sync_pipeline.engine.compare import Comparator
from sync_pipeline.engine.diff import BatchDiff, count_effects, diff_rows
from sync_pipeline.engine.keys import (
    KeyCodes,
    Keys,
    Selection,
    build_keys,
    drop_earlier,
    kept_keys,
    select_rows,
    unique,
)
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.spec import COPY
from sync_pipeline.errors import AmbiguousMatchError, RecordError
from sync_pipeline.values.carried import decode, decode_row
from sync_pipeline.values.coerce import CoercionError, coercer


@dataclass(frozen=True, slots=True)
class Matched:
    """The batch rows that take part, their keys, and each one's target row (null: none)."""

    rows: pa.Table
    keys: Keys
    selection: Selection
    rows_in_target: pa.Array  # per kept row, its position in `existing`


def match(
    plan: Plan,
    batch: pa.Table,
    existing: pa.Table,
    codes: KeyCodes,
    earlier_keys: pa.Table | None = None,
    target_keys: Keys | None = None,
) -> Matched:
    """Apply the null-key and duplicates policies, then find each kept record's target row.

    `earlier_keys` holds the keys of earlier chunks of the same import, so the duplicates policy
    holds across chunks too. `target_keys` are the keys of `existing`, when already built.
    """
    if plan.options.strategy == "append":
        bkeys = Keys((), _falses(batch.num_rows))
        selection = Selection(pa.array(np.arange(batch.num_rows, dtype=np.int64)), ())
        return Matched(batch, bkeys, selection, pa.nulls(batch.num_rows, pa.int64()))
    bkeys = build_keys(batch, plan.keys, plan.target.kinds, codes)
    selection = select_rows(plan, batch, bkeys)
    if earlier_keys is not None and earlier_keys.num_rows:
        selection = drop_earlier(plan, batch, bkeys, selection, earlier_keys)
    everyone = len(selection.keep) == batch.num_rows  # nothing dropped: no copy of the batch
    rows = batch if everyone else batch.take(selection.keep)
    if target_keys is None and existing.num_rows:
        target_keys = target_keys_of(plan, existing, codes)
    return Matched(rows, bkeys, selection, _match(plan, bkeys, selection, target_keys, existing))


def target_keys_of(plan: Plan, existing: pa.Table, codes: KeyCodes) -> Keys | None:
    """The match keys of the target rows (None for append, which matches nothing)."""
    if plan.options.strategy == "append":
        return None
    return build_keys(existing, plan.keys, plan.target.kinds, codes)


def compute_diff(
    plan: Plan,
    matched: Matched,
    existing: pa.Table,
    deletes: pa.Array | None = None,
    *,
    missing: bool = True,
) -> BatchDiff:
    """Classify each record (added/changed/unchanged/skipped/deleted); find missing rows unless
    told not to (one chunk of a stream cannot know them)."""
    rows, e_index = matched.rows, matched.rows_in_target
    compared = plan.compared(tuple(rows.column_names))
    new, changed = _compare(plan, rows, existing, e_index, compared)
    flagged = (
        deletes.take(matched.selection.keep) if deletes is not None else _falses(rows.num_rows)
    )
    effect = _effects(plan, e_index, _any(changed, rows.num_rows), flagged)
    return BatchDiff(
        table=plan.target.name,
        key_fields=plan.keys.fields,
        pk_fields=plan.target.primary_key,
        compared=compared,
        kinds=plan.target.kinds,
        rows=diff_rows(rows, matched.selection.keep, effect, e_index),
        old=existing,
        new=new,
        changed_mask=changed,
        missing_rows=missing_rows(plan, existing, e_index) if missing else existing.slice(0, 0),
        keys=kept_keys(matched.keys, matched.selection),
        dropped=matched.selection.dropped,
        counts=count_effects(effect),
    )


def missing_rows(plan: Plan, existing: pa.Table, matched: pa.Array) -> pa.Table:
    """The target rows no record matched (`matched`: positions in `existing`, nulls ignored)."""
    if plan.options.strategy == "append":
        return existing.slice(0, 0)
    positions = pa.array(np.arange(existing.num_rows, dtype=np.int64))
    return existing.filter(pc.invert(pc.is_in(positions, value_set=pc.drop_null(matched))))


def _match(
    plan: Plan, bkeys: Keys, selection: Selection, ekeys: Keys | None, existing: pa.Table
) -> pa.Array:
    """For each kept batch row, the index of its target row (`ekeys`' row; null: no match)."""
    n = len(selection.keep)
    if ekeys is None or len(ekeys.valid) == 0 or n == 0:
        return pa.nulls(n, pa.int64())
    # one key column, unique in a target not much bigger than the batch: a hash lookup gives each
    # record its row. Against a far bigger target (a stream's held scope) checking it unique and
    # hashing it would cost more per unit than the join below, which hashes the unit instead.
    if len(ekeys.columns) == 1 and len(ekeys.valid) <= 2 * n and unique(ekeys.columns[0]):
        probe = bkeys.columns[0].take(selection.keep)
        if probe.type != ekeys.columns[0].type:  # an absent (all-null) key field
            return pa.nulls(n, pa.int64())
        return pc.index_in(probe, value_set=ekeys.columns[0], skip_nulls=True).cast(pa.int64())
    left = bkeys.table(labels.BATCH_ROW)
    left = left.filter(pc.is_in(left.column(labels.BATCH_ROW), value_set=selection.keep))
    right = ekeys.table(labels.TARGET_ROW)
    if left.num_rows == 0 or right.num_rows == 0:
        return pa.nulls(n, pa.int64())
    # the smaller side is the hash join's build side (Acero builds on the right)
    first, second = (left, right) if left.num_rows >= right.num_rows else (right, left)
    joined = first.join(second, keys=ekeys.names, join_type="inner", use_threads=False)
    b = joined.column(labels.BATCH_ROW).to_numpy()
    e = joined.column(labels.TARGET_ROW).to_numpy()
    if np.unique(b).size != b.size:
        _raise_ambiguous(plan, existing, b, e)
    out = np.full(n, -1, dtype=np.int64)
    out[np.searchsorted(selection.keep.to_numpy(), b)] = e  # keep is sorted: position of each b
    return pa.array(out, mask=out < 0, type=pa.int64())


def _raise_ambiguous(plan: Plan, existing: pa.Table, b: Any, e: Any) -> None:
    seen: dict[int, list[int]] = {}
    for bi, ei in zip(b.tolist(), e.tolist(), strict=True):
        seen.setdefault(bi, []).append(ei)
    bi, eis = next((k, v) for k, v in seen.items() if len(v) > 1)
    pks = [tuple(existing.column(p)[i].as_py() for p in plan.target.primary_key) for i in eis]
    raise AmbiguousMatchError(
        f"record {bi} matches {len(eis)} rows of {plan.target.name!r} (primary keys {pks}) by "
        f"{list(plan.keys.fields)}; make the match key unique or scope it with where=..."
    )


def _compare(
    plan: Plan, rows: pa.Table, existing: pa.Table, e_index: pa.Array, compared: tuple[str, ...]
) -> tuple[pa.Table, pa.Table]:
    """Per compared column: the value offered to a matched row, and whether it changes it.

    Offered values of plain columns are the batch's own arrays (no copy); the target's values
    aligned to the batch live only while one column is compared.
    """
    n = rows.num_rows
    matched = pc.is_valid(e_index)
    safe_e = pc.fill_null(e_index, 0)
    new_cols, changed_cols = {}, {}
    for column in compared:
        typ = plan.target.arrow[column]
        old = existing.column(column).take(safe_e) if existing.num_rows else pa.nulls(n, typ)
        incoming = _incoming(plan, column, rows, existing, safe_e, old, typ)
        differs = _differs(
            plan.options.comparators.get(column), incoming, old, plan.target.kinds[column]
        )
        if plan.options.strategy == "merge":
            differs = pc.and_(differs, pc.is_valid(incoming))
        differs = pc.and_(differs, matched)
        new_cols[column] = incoming
        changed_cols[column] = differs
    return _table(new_cols, n), _table(changed_cols, n)


def _table(columns: dict[str, pa.Array], n: int) -> pa.Table:
    """A table of these columns that keeps its row count when there are none."""
    return pa.table(columns) if columns else labels.no_columns(n)


def _incoming(
    plan: Plan,
    column: str,
    rows: pa.Table,
    existing: pa.Table,
    safe_e: pa.Array,
    old: pa.Array,
    typ: pa.DataType,
) -> pa.Array:
    """The value update_if_exists (or plain overwrite/merge) gives the column on a matched row."""
    n = rows.num_rows
    how = plan.update_fields.get(column, COPY)
    kind = plan.target.kinds[column]
    if how is COPY:
        return (
            rows.column(column)  # the batch's own (possibly chunked) array: no copy
            if column in rows.column_names
            else pa.nulls(n, typ)
        )
    if column in plan.expressions:
        return (
            existing.column(labels.EXPRESSION + column).take(safe_e)
            if existing.num_rows
            else pa.nulls(n, typ)
        )
    convert = coercer(kind, plan.table.c[column].type)
    if callable(how):
        return _from_callable(plan, column, how, rows, existing, safe_e, convert, typ)
    try:
        value = convert(how)
    except CoercionError as exc:
        raise RecordError(None, column, f"update_if_exists value: {exc}", None) from None
    return pa.array([value] * n, type=typ)


def _from_callable(
    plan: Plan,
    column: str,
    fn: Any,
    rows: pa.Table,
    existing: pa.Table,
    safe_e: pa.Array,
    convert: Any,
    typ: pa.DataType,
) -> pa.Array:
    """callable(new_value, existing_row, record); existing_row: a snapshot taken before changes."""
    kinds = plan.target.kinds
    records = rows.to_pylist()
    olds = existing.take(safe_e).to_pylist() if existing.num_rows else [{}] * len(records)
    out = []
    for i, (record, old) in enumerate(zip(records, olds, strict=True)):
        record = decode_row(
            {k: v for k, v in record.items() if not k.startswith(labels.PREFIX)}, kinds
        )
        snapshot = decode_row(
            {k: v for k, v in old.items() if not k.startswith(labels.PREFIX)}, kinds
        )
        try:
            out.append(convert(fn(record.get(column), dict(snapshot), dict(record))))
        except CoercionError as exc:
            raise RecordError(
                i, column, f"update_if_exists callable returned a bad value: {exc}", record
            ) from None
    return pa.array(out, type=typ)


def _differs(comparator: Comparator | None, new: pa.Array, old: pa.Array, kind: Any) -> pa.Array:
    """Changed-or-not per row, by the user's comparator or by the default equality."""
    if comparator is not None:
        vectorized = getattr(comparator, "vectorized", None)
        if vectorized is not None:
            return vectorized(new, old)
        pairs = zip(new.to_pylist(), old.to_pylist(), strict=True)
        return pa.array(
            [bool(comparator(decode(kind, a), decode(kind, b))) for a, b in pairs], type=pa.bool_()
        )
    equal = pc.fill_null(pc.equal(new, old), False)
    both_null = pc.and_(pc.is_null(new), pc.is_null(old))
    return pc.invert(pc.or_(equal, both_null))


def _any(changed: pa.Table, n: int) -> pa.Array:
    out = _falses(n)
    for column in changed.columns:
        out = pc.or_(out, column)
    return out


def _effects(plan: Plan, e_index: pa.Array, row_changed: pa.Array, flagged: pa.Array) -> pa.Array:
    """Each record's effect; the texts are scalars Arrow broadcasts (a list of n Python strings
    per text took 0.1 s per million rows)."""
    matched = pc.is_valid(e_index)
    if plan.options.strategy == "skip":
        effect = pc.if_else(matched, _text("skipped"), _text("added"))
    else:
        when_matched = pc.if_else(row_changed, _text("changed"), _text("unchanged"))
        effect = pc.if_else(matched, when_matched, _text("added"))
    deleted = pc.if_else(matched, _text("deleted"), _text("skipped"))
    return pc.if_else(pc.fill_null(flagged, False), deleted, effect)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.string())


def _falses(n: int) -> pa.Array:
    return pa.repeat(pa.scalar(False), n)
