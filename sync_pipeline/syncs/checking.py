"""Row rules over a batch that arrives in chunks: each chunk is checked on its own and the
outcomes add up (failing rows summed, samples and evidence from the first failing chunks).

Two rules need more than one chunk: `unique` sees the key columns of the whole batch, and
`required_columns` the batch's schema. `unique` keeps a 64-bit hash of each row (8 bytes a row,
not a hash table of the values: about 1 GB for 10M text keys) and looks exactly only at the rows
whose hash repeats. A `custom` check sees one chunk at a time. Row labels count across chunks,
so a keyless sample names the batch's row.
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa

from sync_pipeline.syncs.row_hashes import row_hashes
from sync_pipeline.syncs.rules import SAMPLE_SIZE, RuleOutcome, check_rule, passed
from sync_pipeline.syncs.spec import Rule


def check_chunks(
    rules: Iterable[Rule], chunks: Iterable[pa.Table], key_columns: Sequence[str]
) -> list[RuleOutcome]:
    """Every row rule on a batch, reading each chunk once (used by the blocking checks, by
    `applied` before it writes, and by the CLI)."""
    row_rules = [r for r in rules if not r.on_diff]
    found: dict[str, list[RuleOutcome]] = {r.name: [] for r in row_rules}
    unique = {r.name: UniqueRows(r, key_columns) for r in row_rules if r.kind == "unique"}
    schemas: list[pa.Schema] = []
    per_chunk = [r for r in row_rules if r.kind not in ("unique", "required_columns")]
    offset = 0
    for chunk in chunks:
        frame = _frame(chunk, offset) if per_chunk else pd.DataFrame()  # pandas only if needed
        offset += chunk.num_rows
        schemas.append(chunk.schema)
        for rows in unique.values():
            rows.add(chunk)
        for rule in per_chunk:
            found[rule.name].append(check_rule(rule, frame, key_columns))
    names = pa.unify_schemas(schemas, promote_options="permissive").names if schemas else []
    for rule in row_rules:
        if rule.kind == "unique":
            found[rule.name].append(unique[rule.name].outcome())
        elif rule.kind == "required_columns" or not found[rule.name]:  # (or an empty batch)
            found[rule.name].append(check_rule(rule, pd.DataFrame(columns=names), key_columns))
    return [merge(found[r.name]) for r in row_rules]


def merge(outcomes: Sequence[RuleOutcome]) -> RuleOutcome:
    """One rule's outcomes over several chunks as the outcome over the batch."""
    failed = [o for o in outcomes if not o.passed]
    if not failed:
        return outcomes[0]
    return replace(
        failed[0],
        failures=sum(o.failures for o in failed),
        sample=tuple(dict.fromkeys(s for o in failed for s in o.sample))[:SAMPLE_SIZE],
        evidence=tuple(e for o in failed for e in o.evidence)[:SAMPLE_SIZE],
        cases=tuple(c for o in failed for c in o.cases)[:SAMPLE_SIZE],
    )


def _frame(chunk: pa.Table, offset: int) -> pd.DataFrame:
    """One chunk as pandas (what pandera checks), its rows labelled by their place in the batch."""
    frame = chunk.to_pandas()
    frame.index = pd.RangeIndex(offset, offset + chunk.num_rows)
    return frame


class UniqueRows:
    """One `unique` rule over the chunks of a batch: each chunk's rule columns hashed as it
    passes; at the end, pandera looks at the rows whose hash repeats (the duplicates among them,
    named by key). Without a hash (floats, nested types, a chunk lacking a rule column) it looks
    at the key columns of the whole batch, as Arrow groups them."""

    def __init__(self, rule: Rule, key_columns: Sequence[str]) -> None:
        self.rule, self.key_columns = rule, key_columns
        self.wanted = list(dict.fromkeys([*rule.columns, *key_columns]))
        self.tables: list[pa.Table] = []  # the chunks' key columns, for the exact look
        self.hashes: list[np.ndarray] | None = []

    def add(self, chunk: pa.Table) -> None:
        self.tables.append(chunk.select([c for c in self.wanted if c in chunk.column_names]))
        if self.hashes is None:
            return
        covered = set(self.rule.columns) <= set(chunk.column_names)
        hashed = row_hashes(chunk.select(list(self.rule.columns))) if covered else None
        if hashed is None:
            self.hashes = None  # from now on, the whole batch's key columns decide
        else:
            self.hashes.append(hashed)

    def outcome(self) -> RuleOutcome:
        if self.hashes is None:
            return self._whole()
        hashes = np.concatenate(self.hashes) if self.hashes else np.empty(0, np.uint64)
        ordered = np.sort(hashes)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if not repeated.size:
            return passed(self.rule)
        chosen = np.isin(hashes, repeated)
        both = pa.concat_tables(self.tables, promote_options="permissive")
        frame = both.filter(pa.array(chosen)).to_pandas(types_mapper=pd.ArrowDtype)  # exact keys
        frame.index = pd.Index(np.flatnonzero(chosen))
        return check_rule(self.rule, frame, self.key_columns)

    def _whole(self) -> RuleOutcome:
        rule, tables = self.rule, self.tables
        keys = pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})
        if set(rule.columns) <= set(keys.column_names) and _distinct(keys.select(rule.columns)):
            return passed(rule)
        return check_rule(rule, _frame(keys, 0), self.key_columns)


def _distinct(table: pa.Table) -> bool:
    """Whether no two rows are equal, nulls equal to nulls as for pandas. False when unsure: for
    float columns (Arrow and pandas may group NaN differently) and types Arrow cannot group."""
    if not table.num_columns or any(pa.types.is_floating(f.type) for f in table.schema):
        return False
    try:
        groups = table.group_by(table.column_names, use_threads=False).aggregate([])
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid):
        return False
    return groups.num_rows == table.num_rows
