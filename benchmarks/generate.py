"""Seeded, deterministic generator of the issue-5 workload (customers table, two batches).

Batch 1 has N rows. Batch 2 is derived from it, by disjoint sets of batch-1 rows:
- 2% missing (absent from batch 2),
- 10% changed in 1-3 of the data fields (a real change under the engine's equality),
- 10% "format only": 5% with the email in another case, 5% with the price written with another
  scale ('12.9', '13', '12.340' for 12.90, 13.00, 12.34); both must count as unchanged,
- the rest identical; plus 5% new rows (ids N+1...).
Batch 2 is shuffled (a sender has no obligation to deliver in key order) and carries `price` as
text, the way a CSV or API sender delivers it; batch 1 carries it as decimal128(12, 2).
`tags` is plain comma-separated text (simplest to COPY, to compare and to hand to dlt).

Everything is vectorized (numpy + pyarrow.compute): 1M rows generate in a few seconds.
"""

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_SEED = 20_261_121
GENERATOR_VERSION = 2  # bump when the generated data changes (invalidates cached Parquet)

TABLE = "customers"
DDL = """
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    external_ref text UNIQUE NOT NULL,
    email text,
    name text,
    price numeric(12, 2),
    quantity int,
    active bool,
    updated_at timestamptz,
    tags text,
    payload text,
    last_batch_id bigint
)
"""
DATA_COLUMNS = (
    "id",
    "external_ref",
    "email",
    "name",
    "price",
    "quantity",
    "active",
    "updated_at",
    "tags",
    "payload",
)
CHANGEABLE = ("email", "name", "price", "quantity", "active", "updated_at", "tags", "payload")
PRICE_TYPE = pa.decimal128(12, 2)
TS_TYPE = pa.timestamp("us", tz="UTC")
PAYLOAD_BYTES = 100
BLOCK_ROWS = 1_000_000  # larger sizes are generated (and written) block by block
BATCH1_ID = 1  # the `last_batch_id` batch 1 is loaded with

_FIRST = np.array(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"])
_LAST = np.array(
    ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
)
_TAGS = np.array(
    [
        "basic",
        "vip",
        "new",
        "b2b",
        "vip,b2b",
        "new,promo",
        "promo",
        "vip,new,promo",
        "churn-risk",
        "eu",
    ]
)
_EPOCH_2024_US = 1_704_067_200_000_000


@dataclass(frozen=True, slots=True)
class Truth:
    """What a correct sync of batch 2 over batch 1 must report."""

    rows: int
    added: int
    changed: int
    unchanged: int  # identical + format-only rows
    missing: int
    format_only: int
    batch2_rows: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Workload:
    """Both batches plus the ground truth.

    `expected` is the final content of the data columns (everything but `last_batch_id`) after a
    correct sync of batch 2: batch 1 with the changed rows' new values (format-only rows keep
    their batch-1 email and price), plus the new rows; missing rows stay (no delete policy).
    """

    seed: int
    batch1: pa.Table  # data columns + last_batch_id = BATCH1_ID; price decimal128(12, 2)
    batch2: pa.Table  # data columns; price as text; shuffled
    expected: pa.Table  # data columns (per block: batch-1 rows by id, then the new rows)
    truth: Truth


def counts(rows: int) -> Truth:
    """The sizes of the disjoint row sets for a batch 1 of `rows` rows (summed over blocks)."""
    parts = [_block_counts(n) for n in _block_sizes(rows)]
    return Truth(*(sum(getattr(p, f) for p in parts) for f in Truth.__dataclass_fields__))


def _block_sizes(rows: int) -> list[int]:
    return [min(BLOCK_ROWS, rows - start) for start in range(0, rows, BLOCK_ROWS)]


def _block_counts(rows: int) -> Truth:
    missing, changed, fmt, added = (
        rows * 2 // 100,
        rows * 10 // 100,
        rows * 10 // 100,
        rows * 5 // 100,
    )
    return Truth(
        rows=rows,
        added=added,
        changed=changed,
        unchanged=rows - missing - changed,
        missing=missing,
        format_only=fmt,
        batch2_rows=rows - missing + added,
    )


def iter_blocks(rows: int, seed: int = DEFAULT_SEED) -> Iterator[Workload]:
    """The workload in blocks of at most BLOCK_ROWS batch-1 rows, each generated on its own,
    so that any size can be written with bounded memory. Up to BLOCK_ROWS rows this is one block:
    `generate(rows)` itself. Block b holds ids b*BLOCK_ROWS+1...; its new rows take ids after
    all of batch 1 and after the new rows of the blocks before it; batch 2 is shuffled per block.
    """
    if rows < 100:
        raise ValueError(f"rows must be at least 100 to hold every row set, got {rows}")
    first_new = rows + 1
    for b, size in enumerate(_block_sizes(rows)):
        rng = np.random.default_rng(seed if b == 0 else [seed, b])
        block = _generate_block(b * BLOCK_ROWS + 1, size, first_new, rng, seed)
        first_new += block.truth.added
        yield block


def generate(rows: int, seed: int = DEFAULT_SEED) -> Workload:
    """Generate the workload for a batch 1 of `rows` rows (deterministic for a given seed)."""
    blocks = list(iter_blocks(rows, seed))
    if len(blocks) == 1:
        return blocks[0]
    return Workload(
        seed,
        *(
            pa.concat_tables([getattr(b, n) for b in blocks])
            for n in ("batch1", "batch2", "expected")
        ),
        counts(rows),
    )


def _generate_block(
    first_id: int, rows: int, first_new: int, rng: np.random.Generator, seed: int
) -> Workload:
    truth = _block_counts(rows)
    base = _rows(np.arange(first_id, first_id + rows, dtype=np.int64), rng, null_names=True)
    order = rng.permutation(rows)
    half = truth.format_only // 2
    sizes = [truth.missing, truth.changed, half, truth.format_only - half]
    missing_idx, changed_idx, email_idx, price_idx, _ = np.split(order, np.cumsum(sizes))
    final = _apply_changes(base, _mask(rows, changed_idx), rng)
    new_ids = np.arange(first_new, first_new + truth.added, dtype=np.int64)
    new = _rows(new_ids, rng, null_names=False)
    batch1 = _table(base).append_column("last_batch_id", pa.array(np.full(rows, BATCH1_ID)))
    expected = pa.concat_tables([_table(final), _table(new)])
    keep = ~_mask(rows, missing_idx)
    sent = {
        c: pc.filter(a, pa.array(keep)) if isinstance(a, pa.Array) else a[keep]
        for c, a in final.items()
    }
    sent_email_case = _mask(rows, email_idx)[keep]
    sent_price_fmt = _mask(rows, price_idx)[keep]
    sent["email"] = pc.if_else(
        pa.array(sent_email_case), pc.utf8_upper(sent["email"]), sent["email"]
    )
    b2 = _table(sent, price_text=_price_text(sent["price_cents"], sent_price_fmt))
    b2_new = _table(new, price_text=_price_text(new["price_cents"], np.zeros(truth.added, bool)))
    batch2 = pa.concat_tables([b2, b2_new])
    batch2 = batch2.take(pa.array(rng.permutation(batch2.num_rows)))
    assert batch2.num_rows == truth.batch2_rows
    return Workload(
        seed, batch1.combine_chunks(), batch2.combine_chunks(), expected.combine_chunks(), truth
    )


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[idx] = True
    return m


def _rows(ids: np.ndarray, rng: np.random.Generator, *, null_names: bool) -> dict[str, Any]:
    """Column arrays for the given ids; price kept as integer cents until the table is built."""
    n = len(ids)
    ids_str = pc.cast(pa.array(ids), pa.string())
    ref = pc.utf8_lpad(pc.cast(pa.array((ids * 2_654_435_761) % (1 << 32)), pa.string()), 10, "0")
    first = pa.array(_FIRST[rng.integers(0, len(_FIRST), n)])
    last = pa.array(_LAST[rng.integers(0, len(_LAST), n)])
    email = pc.binary_join_element_wise(
        pc.utf8_lower(first), ".", pc.utf8_lower(last), ids_str, "@example.com", ""
    )
    name = pc.binary_join_element_wise(first, last, " ")
    if null_names:
        name = pc.if_else(pa.array(rng.random(n) < 0.01), pa.nulls(n, pa.string()), name)
    return {
        "id": ids,
        "external_ref": pc.binary_join_element_wise("C", ref, ""),
        "email": email,
        "name": name,
        "price_cents": rng.integers(100, 1_000_000, n),
        "quantity": rng.integers(0, 1000, n).astype(np.int32),
        "active": rng.random(n) < 0.8,
        "updated_at": _EPOCH_2024_US + rng.integers(0, 2 * 365 * 86_400 * 1_000_000, n),
        "tags": rng.integers(0, len(_TAGS), n),
        "payload": _payload(n, rng),
    }


def _payload(n: int, rng: np.random.Generator, first: int | None = None) -> pa.Array:
    """n strings of PAYLOAD_BYTES lowercase letters, built straight into an Arrow buffer."""
    data = rng.integers(ord("a"), ord("z") + 1, size=(n, PAYLOAD_BYTES), dtype=np.uint8)
    if first is not None:
        data[:, 0] = first
    offsets = np.arange(0, (n + 1) * PAYLOAD_BYTES, PAYLOAD_BYTES, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())]
    )


def _apply_changes(
    base: dict[str, Any], changed: np.ndarray, rng: np.random.Generator
) -> dict[str, Any]:
    """Change 1-3 random fields of each `changed` row; each change is real under any comparator."""
    n = len(changed)
    k = rng.integers(1, 4, n)
    rank = rng.random((n, len(CHANGEABLE))).argsort(axis=1).argsort(axis=1)
    hit = {f: changed & (rank[:, i] < k) for i, f in enumerate(CHANGEABLE)}
    out = dict(base)

    def pick(field: str, new: Any) -> None:
        if isinstance(new, np.ndarray):
            out[field] = np.where(hit[field], new, base[field])
        else:
            out[field] = pc.if_else(pa.array(hit[field]), new, base[field])

    pick("email", pc.binary_join_element_wise("moved.", base["email"], ""))
    pick(
        "name", pc.coalesce(pc.binary_join_element_wise(base["name"], "Jr.", " "), "Renamed Person")
    )
    cents = base["price_cents"]
    out["price_cents"] = np.where(hit["price"], cents + rng.integers(1, 5000, n), cents)
    pick("quantity", base["quantity"] + rng.integers(1, 50, n).astype(np.int32))
    pick("active", ~base["active"])
    pick("updated_at", base["updated_at"] + rng.integers(1, 30 * 86_400 * 1_000_000, n))
    pick("tags", (base["tags"] + rng.integers(1, len(_TAGS), n)) % len(_TAGS))
    pick("payload", _payload(n, rng, first=ord("Z")))
    return out


def _price_decimal(cents: np.ndarray) -> pa.Array:
    """Integer cents as decimal128(12, 2), built from the 128-bit little-endian words."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(PRICE_TYPE, len(cents), [None, pa.py_buffer(words.tobytes())])


def _price_text(cents: np.ndarray, other_format: np.ndarray) -> pa.Array:
    """Canonical 'I.FF' text, or for `other_format` rows the same value at another scale."""
    whole = pc.cast(pa.array(cents // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
    canonical = pc.binary_join_element_wise(whole, frac, ".")
    tenth = pc.cast(pa.array((cents % 100) // 10), pa.string())
    short = pc.if_else(
        pa.array(cents % 100 == 0), whole, pc.binary_join_element_wise(whole, tenth, ".")
    )
    longer = pc.binary_join_element_wise(canonical, "0", "")
    alt = pc.if_else(pa.array(cents % 10 == 0), short, longer)
    return pc.if_else(pa.array(other_format), alt, canonical)


def _table(cols: dict[str, Any], price_text: pa.Array | None = None) -> pa.Table:
    """The data columns in table order; price as decimal, or as the given text."""
    arrays = {
        "id": pa.array(cols["id"], pa.int64()),
        "external_ref": cols["external_ref"],
        "email": cols["email"],
        "name": cols["name"],
        "price": _price_decimal(cols["price_cents"]) if price_text is None else price_text,
        "quantity": pa.array(cols["quantity"], pa.int32()),
        "active": pa.array(cols["active"], pa.bool_()),
        "updated_at": pa.array(cols["updated_at"], pa.int64()).cast(TS_TYPE),
        "tags": pa.array(_TAGS[np.asarray(cols["tags"])]),
        "payload": cols["payload"],
    }
    return pa.table(arrays)
