"""The names of the helper columns that travel next to a table's own columns in Arrow tables.

No other module spells one of these names: each takes it from here. (A helper column of a
Python-side join or of a stage table is dropped before the table leaves its module; a name here
only has to stay clear of the table's own column names, which the double underscore does.)

- Target rows read together with update_if_exists expressions carry each expression's value as
  `__expr_<column>`: db/read.py labels them, the match (engine/matching.py) reads them.
- Target rows read for a diff planned to be applied later carry their row version as
  `__version` (db/read.py, engine/stale.py).
- Comparison keys are joined as `__k0`, `__k1`, ... (engine/keys.py), with the positions of the
  batch's and the target's rows as `__b` and `__t` (engine/keys.py, engine/matching.py).
- A BatchDiff's rows carry the batch row, the effect and the matched target row as `__row`,
  `__effect` and `__e` (engine/diff.py only).
- The writer's stage tables carry a row's identity as `__pk_<column>` and bound new values as
  `__v_<column>` (engine/writers.py); an update's event statement returns the same identity
  names (events/record_pg.py).
- The staleness check pairs current and planned rows by `__c` and `__p`, and hashes identities
  into `__id0`, `__id1`, ..., with each row's occurrence of its identity as `__n`
  (engine/stale.py).
"""

import pyarrow as pa

PREFIX = "__"  # every helper column's name starts with it
EXPRESSION = "__expr_"  # + the column whose update_if_exists expression the value is
KEY = "__k"  # + the position of the key part (0, 1, ...)
VERSION = "__version"  # a row's version (Postgres: xmin), from read_rows(versions=True)
BATCH_ROW = "__b"  # a batch row's position, next to its keys
TARGET_ROW = "__t"  # a target row's position, next to its keys
ROW = "__row"  # BatchDiff rows: the batch row's position
EFFECT = "__effect"  # BatchDiff rows: "added", "changed", ...
MATCH = "__e"  # BatchDiff rows: the matched target row's position (null: none)
IDENTITY = "__pk_"  # + an identity column: a stage row's target row (writers)
VALUE = "__v_"  # + a column: a bound new value (writers)
CURRENT = "__c"  # staleness check: a current row's position
PLANNED = "__p"  # staleness check: a planned row's position
ID = "__id"  # + a position: a part of a hashed identity (staleness check)
OCCURRENCE = "__n"  # staleness check: which occurrence of its identity a row is


def no_columns(rows: int) -> pa.Table:
    """A table of `rows` rows and no columns (Arrow keeps a row count only with a column: a
    helper column is added, then dropped)."""
    return pa.table({PREFIX: pa.nulls(rows)}).drop_columns([PREFIX])
