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


def _casefold_scalar(new: Any, old: Any) -> bool:
    def folded(v: Any) -> Any:
        return fold(v) if isinstance(v, str) else v

    return not values_equal(folded(new), folded(old))


def _casefold_vectorized(a: pa.Array, b: pa.Array) -> pa.Array:
    """Fold only the pairs that differ as raw text (most rows are equal as they are)."""
    differs = _null_safe_differs(a, b)
    candidates = pc.indices_nonzero(differs)
    if len(candidates) == 0:
        return differs
    still = _null_safe_differs(_fold_array(a.take(candidates)), _fold_array(b.take(candidates)))
    mask = pa.array([False] * len(a), type=pa.bool_()).to_numpy(zero_copy_only=False).copy()
    mask[candidates.to_numpy()] = still.to_numpy(zero_copy_only=False)
    return pa.array(mask, type=pa.bool_())


casefold = VectorComparator("casefold", _casefold_scalar, _casefold_vectorized)
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
