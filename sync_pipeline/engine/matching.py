"""Match a normalized batch to target rows and compare them: the computation behind BatchDiff."""

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sync_pipeline.engine.compare import Comparator
from sync_pipeline.engine.diff import BatchDiff, count_effects
from sync_pipeline.engine.keys import KeyCodes, Keys, build_keys
from sync_pipeline.engine.plan import Plan
from sync_pipeline.engine.policies import Selection, drop_earlier, kept_keys, select_rows, unique
from sync_pipeline.engine.spec import COPY
from sync_pipeline.errors import AmbiguousMatchError, RecordError
from sync_pipeline.values.carried import decode, decode_row
from sync_pipeline.values.coerce import CoercionError, coercer
from sync_pipeline.values.kinds import arrow_type


def compute_diff(
    plan: Plan,
    batch: pa.Table,
    existing: pa.Table,
    *,
    deletes: pa.Array | None = None,
    codes: KeyCodes | None = None,
    earlier_keys: pa.Table | None = None,
) -> BatchDiff:
    """Classify each record (added/changed/unchanged/skipped/deleted); find missing rows.

    `earlier_keys` holds the keys of earlier chunks of the same import, so the duplicates policy
    holds across chunks too.
    """
    codes = codes or KeyCodes()
    kinds = plan.target.kinds
    if plan.options.strategy == "append":
        bkeys = Keys((), pa.array([False] * batch.num_rows, type=pa.bool_()))
        selection = Selection(pa.array(range(batch.num_rows), type=pa.int64()), ())
    else:
        bkeys = build_keys(batch, plan.keys, kinds, codes)
        selection = select_rows(plan, batch, bkeys)
        if earlier_keys is not None and earlier_keys.num_rows:
            selection = drop_earlier(plan, batch, bkeys, selection, earlier_keys)
    everyone = len(selection.keep) == batch.num_rows  # nothing dropped: no copy of the batch
    rows = (batch if everyone else batch.take(selection.keep)).append_column(
        "__row", selection.keep
    )
    e_index = (
        _match(plan, bkeys, selection, existing, codes)
        if plan.options.strategy != "append"
        else pa.nulls(rows.num_rows, pa.int64())
    )
    compared = plan.compared(tuple(batch.column_names))
    new, changed = _compare(plan, rows, existing, e_index, compared)
    row_changed = _any(changed, rows.num_rows)
    flagged = (
        deletes.take(selection.keep)
        if deletes is not None
        else pa.array([False] * rows.num_rows, type=pa.bool_())
    )
    effect = _effects(plan, e_index, row_changed, flagged)
    rows = rows.append_column("__effect", effect).append_column("__e", e_index)
    matched = pc.drop_null(e_index)
    seen = pc.is_in(pa.array(range(existing.num_rows), type=pa.int64()), value_set=matched)
    missing = (
        existing.filter(pc.invert(seen))
        if plan.options.strategy != "append"
        else existing.slice(0, 0)
    )
    return BatchDiff(
        table=plan.target.name,
        key_fields=plan.keys.fields,
        pk_fields=plan.target.primary_key,
        compared=compared,
        kinds=kinds,
        rows=rows,
        old=existing,
        new=new,
        changed_mask=changed,
        missing_rows=missing,
        keys=kept_keys(bkeys, selection),
        dropped=selection.dropped,
        counts=count_effects(effect),
    )


def _match(
    plan: Plan, bkeys: Keys, selection: Selection, existing: pa.Table, codes: KeyCodes
) -> pa.Array:
    """For each kept batch row, the index of its target row in `existing` (null: no match)."""
    n = len(selection.keep)
    if existing.num_rows == 0 or n == 0:
        return pa.nulls(n, pa.int64())
    ekeys = build_keys(existing, plan.keys, plan.target.kinds, codes)
    if len(ekeys.columns) == 1 and unique(ekeys.columns[0]):
        # one key column, unique in the target: a hash lookup gives each record its row
        probe = bkeys.columns[0].take(selection.keep)
        if probe.type != ekeys.columns[0].type:  # an absent (all-null) key field
            return pa.nulls(n, pa.int64())
        return pc.index_in(probe, value_set=ekeys.columns[0], skip_nulls=True).cast(pa.int64())
    left = bkeys.table("__b")
    left = left.filter(pc.is_in(left.column("__b"), value_set=selection.keep))
    right = ekeys.table("__e")
    if left.num_rows == 0 or right.num_rows == 0:
        return pa.nulls(n, pa.int64())
    joined = left.join(right, keys=ekeys.names, join_type="inner", use_threads=False)
    b = joined.column("__b").to_numpy()
    e = joined.column("__e").to_numpy()
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
        typ = arrow_type(plan.target.kinds[column], plan.table.c[column].type)
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
    return pa.table(columns) if columns else pa.table({"__": pa.nulls(n)}).drop_columns(["__"])


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
    how = plan.update_value(column)
    kind = plan.target.kinds[column]
    if how is COPY:
        return (
            rows.column(column)  # the batch's own (possibly chunked) array: no copy
            if column in rows.column_names
            else pa.nulls(n, typ)
        )
    if column in plan.sql_expressions():
        return (
            existing.column(f"__expr_{column}").take(safe_e)
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
        record = decode_row({k: v for k, v in record.items() if not k.startswith("__")}, kinds)
        snapshot = decode_row({k: v for k, v in old.items() if not k.startswith("__")}, kinds)
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
    out = pa.array([False] * n, type=pa.bool_())
    for column in changed.columns:
        out = pc.or_(out, column)
    return out


def _effects(plan: Plan, e_index: pa.Array, row_changed: pa.Array, flagged: pa.Array) -> pa.Array:
    n = len(e_index)
    matched = pc.is_valid(e_index)

    def text(value: str) -> pa.Array:
        return pa.array([value] * n, type=pa.string())

    if plan.options.strategy == "skip":
        when_matched = text("skipped")
    else:
        when_matched = pc.if_else(row_changed, text("changed"), text("unchanged"))
    effect = pc.if_else(matched, when_matched, text("added"))
    deleted = pc.if_else(matched, text("deleted"), text("skipped"))
    return pc.if_else(pc.fill_null(flagged, False), deleted, effect)
