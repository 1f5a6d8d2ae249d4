"""Built-in comparators: plain callables(new, old) -> changed, with a vectorized form for speed."""

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sync_pipeline.engine.compare import values_equal
from sync_pipeline.engine.keys import fold


class VectorComparator:
    """A comparator usable per value (`cmp(new, old)`) and per column (`cmp.vectorized(a, b)`)."""

    def __init__(
        self,
        name: str,
        scalar: Callable[[Any, Any], bool],
        vectorized: Callable[[pa.Array, pa.Array], pa.Array],
    ) -> None:
        self.name = name
        self._scalar = scalar
        self.vectorized = vectorized

    def __call__(self, new: Any, old: Any) -> bool:
        return self._scalar(new, old)

    def __repr__(self) -> str:
        return f"comparators.{self.name}"


def _null_safe_differs(a: pa.Array, b: pa.Array) -> pa.Array:
    equal = pc.fill_null(pc.equal(a, b), False)
    return pc.invert(pc.or_(equal, pc.and_(pc.is_null(a), pc.is_null(b))))


def _fold_array(values: pa.Array) -> pa.Array:
    return pa.array([fold(v) for v in values.to_pylist()], type=pa.string())


casefold = VectorComparator(
    "casefold",
    lambda new, old: (
        not values_equal(
            fold(new) if isinstance(new, str) else new, fold(old) if isinstance(old, str) else old
        )
    ),
    lambda a, b: pc.and_(
        _null_safe_differs(a, b), _null_safe_differs(_fold_array(a), _fold_array(b))
    ),
)
"""Text compared case-insensitively (Unicode casefold, NFC)."""

ignore = VectorComparator(
    "ignore", lambda new, old: False, lambda a, b: pa.array([False] * len(a), type=pa.bool_())
)
"""Never a change: the column is not compared (and so not written on matched rows)."""


def float_tolerance(eps: float) -> VectorComparator:
    """Numbers within `eps` of each other are unchanged."""

    def scalar(new: Any, old: Any) -> bool:
        if new is None or old is None:
            return not values_equal(new, old)
        return abs(float(new) - float(old)) > eps

    def vectorized(a: pa.Array, b: pa.Array) -> pa.Array:
        diff = pc.abs(pc.subtract(pc.cast(a, pa.float64()), pc.cast(b, pa.float64())))
        nulls_differ = pc.xor(pc.is_null(a), pc.is_null(b))
        return pc.or_(pc.fill_null(pc.greater(diff, eps), False), nulls_differ)

    return VectorComparator(f"float_tolerance({eps})", scalar, vectorized)
