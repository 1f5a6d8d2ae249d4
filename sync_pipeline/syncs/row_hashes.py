"""A 64-bit hash of each row of an Arrow table, from the columns' own buffers (no Python per value).

Equal rows always hash alike (nulls alike too), so rows whose hashes are all distinct are
distinct; two rows of equal hash may still differ, and a caller looks at those exactly. The hash
is a polynomial over each value's bytes (its position in the value weighs it), mixed with the
value's length and then with the next column's.

Covered: integers, booleans, decimals, dates, times, timestamps, durations, fixed-size binary,
text and binary (also inside an extension type such as JSON, or a dictionary). Not covered (None):
floats (NaN and -0.0 are equal to pandas without equal bytes) and nested types.
"""

import numpy as np
import pyarrow as pa

_PRIME = 0x100000001B3
_SPAN = 1024  # a value's byte at position p weighs _PRIME ** (p % _SPAN)
_POWERS = np.array([pow(_PRIME, k + 1, 1 << 64) for k in range(_SPAN)], dtype=np.uint64)
_LENGTH = np.uint64(0x9E3779B97F4A7C15)
_NULL = np.uint64(0x51ED270B27D1A3C9)
_TEXT = (pa.types.is_string, pa.types.is_binary, pa.types.is_large_string, pa.types.is_large_binary)


def row_hashes(table: pa.Table) -> np.ndarray | None:
    """One uint64 per row of `table`, or None when a column's type is not covered."""
    out = np.zeros(table.num_rows, dtype=np.uint64)
    for column in table.columns:
        hashed = _array_hashes(column.combine_chunks())
        if hashed is None:
            return None
        out = out * _POWERS[0] + hashed  # wraps modulo 2**64, as meant
    return out


def _array_hashes(array: pa.Array) -> np.ndarray | None:
    if isinstance(array.type, pa.ExtensionType):
        array = array.storage
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_boolean(array.type):
        array = array.cast(pa.int8())
    if pa.types.is_null(array.type):
        return np.full(len(array), _NULL, dtype=np.uint64)
    if pa.types.is_floating(array.type) or pa.types.is_nested(array.type):
        return None
    if any(test(array.type) for test in _TEXT):
        hashed = _variable_width(array)
    else:
        try:
            width = array.type.bit_width // 8
        except ValueError:  # neither fixed width nor a covered variable-width type
            return None
        hashed = _fixed_width(array, width)
    if array.null_count:
        hashed[~array.is_valid().to_numpy(zero_copy_only=False)] = _NULL
    return hashed


def _fixed_width(array: pa.Array, width: int) -> np.ndarray:
    """Each value's `width` bytes, weighed by position and summed."""
    data = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    values = data[array.offset * width : (array.offset + len(array)) * width]
    return (values.reshape(-1, width).astype(np.uint64) * _POWERS[:width]).sum(axis=1)


def _variable_width(array: pa.Array) -> np.ndarray:
    """Each value's bytes, weighed by their position in the value and summed, mixed with its
    length (`np.add.reduceat` sums each value's run of bytes)."""
    large = pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64 if large else np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1].astype(np.int64)
    lengths = np.diff(offsets)
    first, last = int(offsets[0]), int(offsets[-1])
    data = array.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8)[first:last] if data is not None else np.empty(0)
    starts: np.ndarray = (offsets[:-1] - first).astype(np.int64)
    position = np.arange(raw.size, dtype=np.int64) - np.repeat(starts, lengths)
    weighed = np.append(raw.astype(np.uint64) * _POWERS[position % _SPAN], np.uint64(0))
    sums = np.add.reduceat(weighed, starts)  # a start at the end reads the appended 0
    sums[lengths == 0] = 0  # reduceat gives an empty run the next byte, not 0
    return sums ^ (lengths.astype(np.uint64) * _LENGTH)
