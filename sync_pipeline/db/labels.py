"""The names of the helper columns that travel next to a table's own columns in Arrow tables.

Target rows read together with update_if_exists expressions carry each expression's value as
`__expr_<column>`: db/read.py labels them, the match (engine/matching.py) reads them. Target rows
read for a diff planned to be applied later carry their row version as `__version` (db/read.py,
engine/stale.py). Comparison keys are joined as `__k0`, `__k1`, ... (engine/keys.py).
Every module that makes or reads such a column takes its prefix from here.
"""

EXPRESSION = "__expr_"  # + the column whose update_if_exists expression the value is
KEY = "__k"  # + the position of the key part (0, 1, ...)
VERSION = "__version"  # a row's version (Postgres: xmin), from read_rows(versions=True)
